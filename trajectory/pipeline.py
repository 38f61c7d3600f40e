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
import sys
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.model import EmotionModel, load_checkpoint
from trajectory.resume import ScoreLog, run_key
from trajectory.scan import FilmScan
from trajectory.scoring import FrameScorer, select_device
from trajectory.shots import group_scenes
from trajectory.video import VideoInfo, probe_video

log = logging.getLogger("trajectory")


@dataclass
class Analysis:
    """Everything ``analyze`` found. Tables are pandas DataFrames (one row per item)."""

    video: VideoInfo
    end_s: float
    frames_decoded: int
    decode_errors: int
    model: dict | None  # tags.json "model" block, None without a model
    sampling_fps: float
    frames: (
        pd.DataFrame
    )  # time_s, weight_s, shot, scene, 8 classes, valence, brightness, colourfulness
    shots: pd.DataFrame  # index, start_s, end_s, scene, transition
    scenes: (
        pd.DataFrame
    )  # index, start_s, end_s, first_shot, last_shot, dominant, confidence, 8 classes
    film: aggregate.FilmSummary
    keyframes: dict[int, bytes] = field(default_factory=dict)  # scene -> JPEG thumbnail

    @property
    def start_s(self) -> float:
        return float(self.shots["start_s"].iloc[0])

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def analyze(
    video_path: str | os.PathLike | VideoInfo,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    fps: float = 1.0,
    batch_size: int | None = None,
    device: str = "auto",
    progress: bool = False,
    resume_log: str | os.PathLike | None = None,
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

    Raises:
        InputError: the video or checkpoint cannot be used.
        ValueError: bad arguments.
    """
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"--fps must be a positive number, got {fps}")
    torch_device = select_device(device)
    info = video_path if isinstance(video_path, VideoInfo) else probe_video(video_path)
    if model is not None and not isinstance(model, EmotionModel):
        model = load_checkpoint(model)
    scorer = FrameScorer(model, torch_device, batch_size) if model is not None else None
    scan = FilmScan(
        info, fps, scorer.input_size if scorer else None, scorer.batch_size if scorer else 1
    )
    log_file = None
    if scorer is not None and resume_log is not None:
        key = run_key(info.path, model.sha256 or "", fps, scorer.input_size)
        log_file = ScoreLog(resume_log, key)
        scan.logged = log_file.load()
        if scan.logged:
            log.warning("%s: resuming: %d frames already scored", info.path, len(scan.logged))
    try:
        probabilities = _run(scan, scorer, progress, log_file)
    finally:
        if log_file is not None:
            log_file.close()
    probabilities.update(scan.reused)
    return _assemble(scan, model, fps, probabilities)


def _run(
    scan: FilmScan, scorer, progress: bool, log_file: ScoreLog | None
) -> dict[int, np.ndarray]:
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
        while True:
            item = scan.batches.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            ids, images = item
            scores = scorer.score(images)
            probabilities.update(zip(ids, scores))
            if log_file is not None:
                log_file.append([scan.samples[i].time_s for i in ids], scores)
    finally:
        scan.stop.set()
        thread.join()
        bar.close()
    return probabilities


def _film_length(info: VideoInfo) -> float | None:
    return round(info.duration_s, 1) if info.duration_s else None


def _assemble(scan: FilmScan, model, fps: float, probabilities: dict[int, np.ndarray]) -> Analysis:
    info, reader = scan.info, scan.reader
    end_s = reader.end_s
    shots = _shot_table(scan, end_s)
    samples = sorted(scan.samples, key=lambda s: s.time_s)
    times = np.array([s.time_s for s in samples])
    shot_of = np.searchsorted(shots["start_s"].to_numpy(), times, side="right") - 1
    signatures = np.stack([s.signature for s in samples])
    shot_signatures = np.stack(
        [
            signatures[shot_of == i].mean(axis=0)
            if (shot_of == i).any()
            else np.zeros(signatures.shape[1])
            for i in range(len(shots))
        ]
    )
    shots["scene"] = group_scenes(
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
        shot_signatures,
        (shots["transition"] == "fade").to_numpy(),
    )
    frames = pd.DataFrame(
        {"time_s": times, "shot": shot_of, "scene": shots["scene"].to_numpy()[shot_of]}
    )
    probs = np.array([probabilities.get(s.id, np.full(len(EMOTIONS), np.nan)) for s in samples])
    probs = probs.reshape(len(samples), len(EMOTIONS))
    for i, name in enumerate(EMOTIONS):
        frames[name] = probs[:, i]
    frames["valence"] = valence(probs)
    frames["brightness"] = [s.brightness for s in samples]
    frames["colourfulness"] = [s.colourfulness for s in samples]
    frames.insert(1, "weight_s", aggregate.frame_weights(times, shots["end_s"].to_numpy()[shot_of]))
    scenes = aggregate.scene_table(frames, shots)
    return Analysis(
        video=info,
        end_s=end_s,
        frames_decoded=reader.frames_read,
        decode_errors=reader.decode_errors,
        model=model.describe() if model is not None else None,
        sampling_fps=fps,
        frames=frames,
        shots=shots,
        scenes=scenes,
        film=aggregate.summarize_film(frames),
        keyframes=_scene_keyframes(scan.shot_keyframes, shots),
    )


def _shot_table(scan: FilmScan, end_s: float) -> pd.DataFrame:
    cuts = scan.detector.cuts
    starts = [scan.info.start_s] + [c.time_s for c in cuts]
    return pd.DataFrame(
        {
            "index": np.arange(len(starts)),
            "start_s": starts,
            "end_s": starts[1:] + [end_s],
            "transition": ["start"] + [c.kind for c in cuts],
        }
    )


def _scene_keyframes(shot_keyframes: dict[float, bytes], shots: pd.DataFrame) -> dict[int, bytes]:
    """Each scene's keyframe: the keyframe of its longest shot that has one."""
    keyframes = {}
    by_length = shots.assign(length=shots["end_s"] - shots["start_s"]).sort_values(
        "length", ascending=False
    )
    for row in by_length.itertuples():
        if row.scene not in keyframes and row.start_s in shot_keyframes:
            keyframes[int(row.scene)] = shot_keyframes[row.start_s]
    return keyframes
