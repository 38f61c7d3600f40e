"""An interrupted analysis keeps what it scored and the re-run scores only the rest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHORT_SAMPLE

import trajectory
from trajectory.emotions import EMOTIONS
from trajectory.export import write_outputs
from trajectory.resume import LOG_FORMAT, ScoreLog, run_key
from trajectory.scenes import SceneParams
from trajectory.scoring import FrameScorer


def test_interrupted_run_resumes_from_logged_scores(tmp_path, tiny_checkpoint, monkeypatch):
    """Scores and the model's pooled features come back from the log: same scenes.csv."""
    log = tmp_path / ".out.scores-partial"
    params = SceneParams(deep_weight=1.5)  # the deep features count in the grouping
    reference = trajectory.analyze(SHORT_SAMPLE, tiny_checkpoint, batch_size=4, scene_params=params)

    real_score = FrameScorer.score_with_features
    calls = []

    def interrupted_score(self, images):
        calls.append(len(images))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_score(self, images)

    monkeypatch.setattr(FrameScorer, "score_with_features", interrupted_score)
    with pytest.raises(KeyboardInterrupt):
        trajectory.analyze(
            SHORT_SAMPLE, tiny_checkpoint, batch_size=4, resume_log=log, scene_params=params
        )
    assert log.is_file()

    calls.clear()
    monkeypatch.setattr(
        FrameScorer,
        "score_with_features",
        lambda self, images: (calls.append(len(images)), real_score(self, images))[1],
    )
    resumed = trajectory.analyze(
        SHORT_SAMPLE, tiny_checkpoint, batch_size=4, resume_log=log, scene_params=params
    )
    total = len(reference.frames)
    assert sum(calls) == total - 8, "the two batches scored before the interruption are reused"
    columns = list(EMOTIONS)
    assert np.allclose(resumed.frames[columns], reference.frames[columns], atol=1e-6)
    # The shots of the reused frames keep their deep features, so the grouping is the same.
    assert reference.scene_grouping["deep_weight"] > 0
    assert np.abs(reference.shot_signatures.deep).sum(axis=1).min() > 0
    assert np.allclose(resumed.shot_signatures.deep, reference.shot_signatures.deep, atol=1e-5)
    clean_dir = write_outputs(reference, tmp_path / "clean")
    resumed_dir = write_outputs(resumed, tmp_path / "resumed")
    scenes = (resumed_dir / "scenes.csv").read_text()
    assert scenes == (clean_dir / "scenes.csv").read_text()


def test_log_without_features_is_not_resumed(tmp_path, tiny_checkpoint):
    """A log of the previous layout (scores only, format 2) is scored again, then replaced."""
    log = tmp_path / ".out.scores-partial"
    key = run_key(str(SHORT_SAMPLE), "x", 1.0, 32)
    old_key = {**key, "format": LOG_FORMAT - 1}
    old_record = np.zeros(1, [("key", "<u8"), ("time_us", "<i8"), ("probs", "<f4", (8,))])
    old_record["probs"] = 0.125
    log.write_bytes(json.dumps(old_key).encode() + b"\n" + old_record.tobytes())
    assert ScoreLog(log, key).load_with_features() == ({}, {})
    fresh = ScoreLog(log, key)
    fresh.append([0.0], np.full((1, 8), 0.125, np.float32), np.ones((1, 3), np.float32))
    fresh.close()
    probs, features = ScoreLog(log, key).load_with_features()
    assert list(probs) == [0] and features[0].tolist() == [1.0, 1.0, 1.0]


def test_log_of_another_model_is_not_reused(tmp_path, tiny_checkpoint):
    log = ScoreLog(tmp_path / "log", {"model_sha256": "a"})
    log.append([0.0, 1.0], np.full((2, 8), 0.125, dtype=np.float32))
    log.close()
    assert len(ScoreLog(tmp_path / "log", {"model_sha256": "a"}).load()) == 2
    assert ScoreLog(tmp_path / "log", {"model_sha256": "b"}).load() == {}
    # A record torn by the interruption is ignored.
    with open(tmp_path / "log", "ab") as f:
        f.write(b"\x01\x02\x03")
    assert len(ScoreLog(tmp_path / "log", {"model_sha256": "a"}).load()) == 2
