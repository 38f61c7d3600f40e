"""Scan outcome + per-frame probabilities -> an Analysis: shot table, scenes, frame weights.

Torch-free: the catalogue assembles films in another process than the one that scored them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.results import Analysis
from trajectory.scan import ScanOutcome
from trajectory.shots import group_scenes


def assemble(
    scan: ScanOutcome,
    model: dict | None,
    fps: float,
    probabilities: dict[int, np.ndarray],
) -> Analysis:
    """Builds the Analysis of a finished scan.

    Args:
        scan: what the decoder pass found (cuts, sampled frames, keyframes, reader stats).
        model: the tags.json "model" block (``EmotionModel.describe()``), None without a model.
        fps: the sampling rate the scan used.
        probabilities: sample id -> (8,) class probabilities; unscored samples stay NaN.
    """
    info = scan.info
    end_s = scan.end_s
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
        frames_decoded=scan.frames_read,
        decode_errors=scan.decode_errors,
        model=model,
        sampling_fps=fps,
        frames=frames,
        shots=shots,
        scenes=scenes,
        film=aggregate.summarize_film(frames),
        keyframes=_scene_keyframes(scan.shot_keyframes, shots),
        shot_detection=scan.shot_detection,
    )


def _shot_table(scan: ScanOutcome, end_s: float) -> pd.DataFrame:
    cuts = scan.cuts
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
