"""``python -m train evaluate``: test accuracy, per-class metrics, confusions, error analysis.

Writes into ``--out``:

* ``metrics.json``: accuracy, macro averages, per-class precision/recall/F1/support, the
  confusion matrix, and the checkpoint and manifest it was computed from.
* ``per_class.csv``, ``confusion.csv`` (rows: true class, columns: predicted class),
  ``predictions.csv`` (one row per image: true, predicted, confidence, 8 probabilities).
* ``confusion.html``: the confusion matrix as a heat map (row-normalised shading).
* ``errors.html``: the most frequent confusions with example images, vote splits and how many
  are black and white, as in the paper's error analysis (section 5).

With ``--write-to-checkpoint`` the headline numbers go into the checkpoint's
``training["test"]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from train.data import ManifestDataset, make_loader
from train.engine import predict
from train.prepare import read_manifest
from train.report import confusion_html, errors_html, find_confusions
from train.utils import make_runtime, write_csv
from trajectory.emotions import EMOTIONS
from trajectory.files import atomic_write
from trajectory.model import load_checkpoint, save_checkpoint

log = logging.getLogger("train")


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, n: int = len(EMOTIONS)) -> np.ndarray:
    """(n, n) int64 counts; row = true class, column = predicted class."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (labels, preds), 1)
    return matrix


def class_metrics(matrix: np.ndarray) -> dict:
    """Accuracy, macro averages and per-class precision/recall/F1/support from a confusion matrix.

    A class never predicted has precision 0; one absent from the data has recall 0 (support 0).
    """
    tp = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(0), matrix.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    per_class = {
        name: {
            "precision": precision[i],
            "recall": recall[i],
            "f1": f1[i],
            "support": int(support[i]),
        }
        for i, name in enumerate(EMOTIONS)
    }
    present = support > 0
    return {
        "accuracy": float(tp.sum() / max(matrix.sum(), 1)),
        "images": int(matrix.sum()),
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": json.loads(json.dumps(per_class, default=float)),
    }


def prediction_rows(items, indices, labels, probs) -> list[dict]:
    """One dict per scored image: path, votes, true and predicted class, the 8 probabilities."""
    rows = []
    for i, y, p in zip(indices.tolist(), labels.tolist(), probs.numpy(), strict=True):
        item = items[i]
        rows.append(
            {
                "path": item.path,
                "label": EMOTIONS[y],
                "predicted": EMOTIONS[int(p.argmax())],
                "confidence": round(float(p.max()), 4),
                "agree": item.agree,
                "disagree": item.disagree,
                **{e: round(float(v), 4) for e, v in zip(EMOTIONS, p, strict=True)},
            }
        )
    return rows


def write_reports(
    out: Path, metrics: dict, matrix: np.ndarray, rows: list[dict], root: Path, examples: int
):
    """Writes every output file of the evaluation into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "metrics.json", (json.dumps(metrics, indent=2) + "\n").encode())
    per_class = [
        {"class": c, **{k: round(v, 4) for k, v in m.items()}}
        for c, m in metrics["per_class"].items()
    ]
    write_csv(out / "per_class.csv", per_class)
    write_csv(
        out / "confusion.csv",
        [
            {"true": t, **dict(zip(EMOTIONS, map(int, r), strict=True))}
            for t, r in zip(EMOTIONS, matrix, strict=True)
        ],
    )
    write_csv(out / "predictions.csv", rows)
    atomic_write(out / "confusion.html", confusion_html(matrix, metrics).encode())
    confusions = find_confusions(rows, root)
    atomic_write(
        out / "errors.html", errors_html(confusions, matrix, metrics, root, examples).encode()
    )


def run_evaluation(args: argparse.Namespace) -> dict:
    """Scores the chosen split with the checkpoint and writes the reports. Returns metrics."""
    runtime = make_runtime(args.device, not args.no_amp, True, args.workers, not args.quiet)
    model = load_checkpoint(args.checkpoint, device=runtime.device)
    manifest = read_manifest(args.data, args.image_root)
    trained_on = model.training.get("data", {}).get("manifest_sha256")
    if trained_on and trained_on != manifest.sha256:
        log.warning(
            "the checkpoint was trained on another manifest: its %s split may hold training images",
            args.split,
        )
    items = manifest.split(args.split)
    dataset = ManifestDataset(manifest.root, items, model.preprocessing.input_size)
    loader = make_loader(
        dataset, args.batch_size, shuffle=False, workers=runtime.workers, pin=runtime.pin_memory
    )
    model.net.to(memory_format=torch.channels_last)
    indices, labels, probs = predict(model.net, loader, model.preprocessing, runtime)
    matrix = confusion_matrix(labels.numpy(), probs.argmax(1).numpy())
    metrics = {
        **class_metrics(matrix),
        "split": args.split,
        "skipped": len(items) - len(labels),
        "confusion": matrix.tolist(),
        "classes": list(EMOTIONS),
        "checkpoint": {"path": str(args.checkpoint), "sha256": model.sha256},
        "manifest_sha256": manifest.sha256,
    }
    rows = prediction_rows(items, indices, labels, probs)
    write_reports(Path(args.out), metrics, matrix, rows, manifest.root, args.examples)
    if args.write_to_checkpoint:
        headline = {
            k: metrics[k]
            for k in (
                "split",
                "accuracy",
                "images",
                "macro_precision",
                "macro_recall",
                "macro_f1",
                "per_class",
                "manifest_sha256",
            )
        }
        training = {**model.training, "test": headline}
        save_checkpoint(args.checkpoint, model.net, model.preprocessing, training=training)
    return metrics


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m train evaluate",
        description="Evaluate a checkpoint on a split of the prepared manifest.",
        add_help=add_help,
    )
    p.add_argument("--checkpoint", required=True, help="best.pt written by `train fit`")
    p.add_argument("--data", required=True, help="folder written by `python -m train prepare`")
    p.add_argument("--out", required=True, help="folder for the metrics and pages")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"))
    p.add_argument("--image-root", help="where the manifest's images are, if they moved")
    p.add_argument(
        "--write-to-checkpoint",
        action="store_true",
        help="store the headline numbers in the checkpoint's training['test']",
    )
    p.add_argument("--examples", type=int, default=8, help="example images per confusion")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.add_argument("--workers", type=int)
    p.add_argument("--no-amp", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def main(args: argparse.Namespace) -> int:
    """Runs :func:`run_evaluation` and prints the headline numbers."""
    metrics = run_evaluation(args)
    worst = min(metrics["per_class"].items(), key=lambda kv: kv[1]["f1"])
    print(
        f"{args.split} accuracy {metrics['accuracy']:.1%} on {metrics['images']} images "
        f"(paper: 60.1%); macro F1 {metrics['macro_f1']:.3f}; weakest class {worst[0]} "
        f"(F1 {worst[1]['f1']:.3f}); reports in {args.out}",
        file=sys.stderr,
    )
    return 0
