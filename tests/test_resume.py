"""An interrupted analysis keeps what it scored and the re-run scores only the rest."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHORT_SAMPLE

import trajectory
from trajectory.emotions import EMOTIONS
from trajectory.scoring import FrameScorer


def test_interrupted_run_resumes_from_logged_scores(tmp_path, tiny_checkpoint, monkeypatch):
    log = tmp_path / ".out.scores-partial"
    reference = trajectory.analyze(SHORT_SAMPLE, tiny_checkpoint, batch_size=4)

    real_score = FrameScorer.score_with_features
    calls = []

    def interrupted_score(self, images):
        calls.append(len(images))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_score(self, images)

    monkeypatch.setattr(FrameScorer, "score_with_features", interrupted_score)
    with pytest.raises(KeyboardInterrupt):
        trajectory.analyze(SHORT_SAMPLE, tiny_checkpoint, batch_size=4, resume_log=log)
    assert log.is_file()

    calls.clear()
    monkeypatch.setattr(
        FrameScorer,
        "score_with_features",
        lambda self, images: (calls.append(len(images)), real_score(self, images))[1],
    )
    resumed = trajectory.analyze(SHORT_SAMPLE, tiny_checkpoint, batch_size=4, resume_log=log)
    total = len(reference.frames)
    assert sum(calls) == total - 8, "the two batches scored before the interruption are reused"
    columns = list(EMOTIONS)
    assert np.allclose(resumed.frames[columns], reference.frames[columns], atol=1e-6)


def test_log_of_another_model_is_not_reused(tmp_path, tiny_checkpoint):
    from trajectory.resume import ScoreLog

    log = ScoreLog(tmp_path / "log", {"model_sha256": "a"})
    log.append([0.0, 1.0], np.full((2, 8), 0.125, dtype=np.float32))
    log.close()
    assert len(ScoreLog(tmp_path / "log", {"model_sha256": "a"}).load()) == 2
    assert ScoreLog(tmp_path / "log", {"model_sha256": "b"}).load() == {}
    # A record torn by the interruption is ignored.
    with open(tmp_path / "log", "ab") as f:
        f.write(b"\x01\x02\x03")
    assert len(ScoreLog(tmp_path / "log", {"model_sha256": "a"}).load()) == 2
