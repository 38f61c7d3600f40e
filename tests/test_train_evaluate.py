"""Evaluation arithmetic and the error-analysis tallies, on hand-made predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from train.evaluate import class_metrics, confusion_matrix
from train.report import confusion_html, errors_html, find_confusions
from trajectory.emotions import EMOTIONS

A, S, C = EMOTIONS.index("anger"), EMOTIONS.index("sadness"), EMOTIONS.index("contentment")


def test_metrics_from_a_known_confusion():
    # anger: 3 right, 1 as sadness; sadness: 2 right, 2 as contentment; contentment: 1 right.
    labels = np.array([A, A, A, A, S, S, S, S, C])
    preds = np.array([A, A, A, S, S, S, C, C, C])
    matrix = confusion_matrix(labels, preds)
    assert matrix[A, S] == 1 and matrix[S, C] == 2 and matrix.sum() == 9
    m = class_metrics(matrix)
    assert m["accuracy"] == pytest.approx(6 / 9)
    sad = m["per_class"]["sadness"]
    assert (sad["precision"], sad["recall"], sad["support"]) == (pytest.approx(2 / 3), 0.5, 4)
    assert sad["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert m["per_class"]["awe"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_recall"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)  # classes present only


def test_error_analysis_tallies_votes_and_black_and_white(tmp_path: Path):
    grey = np.full((20, 20, 3), 90, dtype=np.uint8)
    red = np.zeros((20, 20, 3), dtype=np.uint8)
    red[..., 0] = 200
    Image.fromarray(grey).save(tmp_path / "g.png")
    Image.fromarray(red).save(tmp_path / "r.png")

    def row(path, label, pred, conf, agree, disagree):
        return {
            "path": path,
            "label": label,
            "predicted": pred,
            "confidence": conf,
            "agree": agree,
            "disagree": disagree,
        }

    rows = [
        row("g.png", "anger", "sadness", 0.7, 3, 2),
        row("r.png", "anger", "sadness", 0.9, 5, 0),
        row("g.png", "anger", "sadness", 0.5, 4, 1),
        row("r.png", "sadness", "anger", 0.6, 3, 2),
        row("r.png", "fear", "fear", 0.9, 5, 0),
    ]
    [first, second] = find_confusions(rows, tmp_path)
    assert (first["true"], first["predicted"], first["count"]) == ("anger", "sadness", 3)
    assert (first["non_unanimous"], first["divided"], first["grayscale"]) == (2, 1, 2)
    assert [r["confidence"] for r in first["examples"]] == [0.9, 0.7, 0.5]
    assert (second["true"], second["predicted"], second["count"]) == ("sadness", "anger", 1)
    matrix = confusion_matrix(np.array([A, A, A, S, 6]), np.array([S, S, S, A, 6]))
    metrics = {**class_metrics(matrix), "split": "test"}
    page = errors_html([first, second], matrix, metrics, tmp_path, examples=2)
    assert "Anger misclassified as sadness" in page and page.count("<img") == 3
    assert "2 are black and white" in page
    assert "<table" in confusion_html(matrix, metrics)
