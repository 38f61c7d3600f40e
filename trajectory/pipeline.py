"""The analysis pipeline: one decode pass feeds shot detection and batched scoring.

A decoder thread reads the film, feeds every frame (small copy) to the shot detector, picks the
sampled frames and ships them in uint8 batches through a bounded queue; the calling thread scores
each batch as it arrives. PyAV and PyTorch both release the GIL, so decoding and inference
overlap, and memory is bounded by the queue, not by the film.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import sys
import threading
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from trajectory.assemble import assemble
from trajectory.errors import ModelOutputError, UsageError
from trajectory.results import Analysis
from trajectory.resume import ScoreLog, run_key, time_key
from trajectory.scan import FilmScan
from trajectory.scenes import SceneParams
from trajectory.shots import SHOT_MODES
from trajectory.video import VideoInfo, probe_video

if TYPE_CHECKING:  # torch is imported only when a model runs (seconds and ~650 MB)
    from trajectory.model import EmotionModel

__all__ = ["Analysis", "analyze"]

log = logging.getLogger("trajectory")

POLL_S = 0.2  # how often the model thread looks up from an empty queue (Ctrl-C latency)
JOIN_TIMEOUT_S = 5.0  # how long a stopping decoder thread gets before it is left behind


def analyze(
    video_path: str | os.PathLike | VideoInfo,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    fps: float = 1.0,
    batch_size: int | None = None,
    device: str = "auto",
    progress: bool = False,
    resume_log: str | os.PathLike | None = None,
    scene_params: SceneParams | None = None,
    shots: str = "auto",
) -> Analysis:
    """Decodes ``video_path`` once and returns its shots, scenes and emotion distributions.

    ``video_path`` may also be the :class:`VideoInfo` of an earlier :func:`probe_video`.

    Args:
        model: a loaded EmotionModel, a checkpoint path, or None to skip emotion scoring.
        fps: frames sampled per second of film for scoring.
        batch_size: frames per model call; None: 64 on CUDA, 32 on MPS, 8 on CPU.
        device: "auto" (cuda > mps > cpu), "cpu", "cuda" or "mps".
        progress: show a progress bar on stderr.
        resume_log: a file where scored frames are logged as they are scored; a later call
            with the same video, model and sampling reuses them instead of scoring again.
            The caller removes it once the results are safely written.
        scene_params: scene grouping parameters (threshold, minimum scene length).
        shots: shot detection: "fast" (CPU detectors), "learned" (TransNetV2, imports torch),
            "classic" (the detectors used before dissolves were detected), or "auto" (fast on
            every device: it scored above learned on the structure benchmark).

    Raises:
        InputError: the video or checkpoint cannot be used.
        UsageError: bad arguments (a ValueError).
        ModelOutputError: the model gave non-finite scores (broken weights or preprocessing).
    """
    if not (fps > 0 and math.isfinite(fps)):
        raise UsageError(f"--fps must be a positive number, got {fps}")
    if shots not in ("auto", *SHOT_MODES):
        raise UsageError(f"shots must be auto or one of {', '.join(SHOT_MODES)}, got {shots!r}")
    info = video_path if isinstance(video_path, VideoInfo) else probe_video(video_path)
    scorer = None
    shot_device = "cpu"
    if model is not None:
        from trajectory.model import EmotionModel, load_checkpoint
        from trajectory.scoring import FrameScorer, select_device

        torch_device = select_device(device)
        if not isinstance(model, EmotionModel):
            model = load_checkpoint(model)
        scorer = FrameScorer(model, torch_device, batch_size)
        shot_device = torch_device.type
    elif shots == "learned":
        from trajectory.scoring import select_device

        shot_device = select_device(device).type
    if shots == "auto":
        # On every device: TransNetV2 runs fast on a GPU, but on the structure benchmark it
        # misses more dissolves than ``fast`` and cuts at flashes, lamps and whip pans (README).
        shots = "fast"
    scan = FilmScan(
        info,
        fps,
        scorer.input_size if scorer else None,
        scorer.batch_size if scorer else 1,
        shots=shots,
        device=shot_device,
    )
    log_file, logged_features = None, {}
    if scorer is not None and resume_log is not None:
        key = run_key(info.path, model.sha256 or "", fps, scorer.input_size)
        log_file = ScoreLog(resume_log, key)
        scan.logged, logged_features = log_file.load_with_features()
        if scan.logged:
            log.warning("%s: resuming: %d frames already scored", info.path, len(scan.logged))
    deep: dict[int, np.ndarray] = {}
    try:
        probabilities = _run(scan, scorer, progress, log_file, deep)
    finally:
        if log_file is not None:
            log_file.close()
    probabilities.update(scan.reused)
    for sample_id in scan.reused:  # the log keeps features with scores: same scenes as a clean run
        deep[sample_id] = logged_features[time_key(scan.samples[sample_id].time_s)]
    described = model.describe() if model is not None else None
    return assemble(
        scan.outcome(), described, fps, probabilities, deep=deep, scene_params=scene_params
    )


def _run(
    scan: FilmScan, scorer, progress: bool, log_file: ScoreLog | None, deep: dict
) -> dict[int, np.ndarray]:
    """Scores the scan's batches as they come; fills ``deep`` with pooled features by id."""
    total = _film_length(scan.info)
    bar = tqdm(
        total=total,
        unit="s",
        unit_scale=False,
        disable=not progress,
        leave=False,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,  # logs get a line every 10 s, not 10/s
        desc=f"analyze {scan.info.name}",
        bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} s film [{elapsed}<{remaining}]",
    )
    scan.progress = bar
    thread = threading.Thread(target=scan.run, name="trajectory-decode", daemon=True)
    thread.start()
    probabilities: dict[int, np.ndarray] = {}
    try:
        while (item := _next_batch(scan, thread)) is not None:
            ids, images = item
            scores, pooled = scorer.score_with_features(images)
            _check_finite(dict(zip(ids, scores)), scan, scorer.model)  # before it is logged
            probabilities.update(zip(ids, scores))
            deep.update(zip(ids, pooled))
            if log_file is not None:
                log_file.append([scan.samples[i].time_s for i in ids], scores, pooled)
    finally:
        scan.stop.set()
        thread.join(timeout=JOIN_TIMEOUT_S)  # a decoder stuck in FFmpeg must not hang Ctrl-C
        bar.close()
    return probabilities


def _next_batch(scan: FilmScan, thread: threading.Thread):
    """The decoder's next batch, or None at the end; re-raises the decoder thread's error.

    Waits in short slices rather than one blocking ``get()``: the main thread stays responsive
    to Ctrl-C (a blocked ``Queue.get`` without timeout delays KeyboardInterrupt until the
    decoder puts something), and a decoder thread that died without a word is noticed.
    """
    while True:
        try:
            item = scan.batches.get(timeout=POLL_S)
        except queue.Empty:
            if not thread.is_alive() and scan.batches.empty():
                raise RuntimeError("the decoder thread ended without finishing") from None
            continue
        if isinstance(item, BaseException):
            raise item
        return item


def _check_finite(probabilities: dict[int, np.ndarray], scan: FilmScan, model) -> None:
    """Raises ModelOutputError when the model scored a frame NaN or infinite."""
    for sample_id, probs in probabilities.items():
        if not np.isfinite(probs).all():
            name = getattr(model, "path", None) or "the emotion model"
            raise ModelOutputError(
                f"{name}: the emotion model gave non-finite scores (NaN or inf) for the frame "
                f"at {scan.samples[sample_id].time_s:.3f} s: its weights or preprocessing "
                "(mean/std) are broken; no output was written"
            )


def _film_length(info: VideoInfo) -> float | None:
    return round(info.duration_s, 1) if info.duration_s else None
