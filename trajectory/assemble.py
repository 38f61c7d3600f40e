"""Scan outcome + per-frame probabilities -> an Analysis: shot table, scenes, frame weights.

Torch-free: the catalogue assembles films in another process than the one that scored them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.errors import UsageError
from trajectory.results import Analysis
from trajectory.scan import ScanOutcome
from trajectory.scenes import SceneParams, group_scenes
from trajectory.signatures import shot_signatures


def assemble(
    scan: ScanOutcome,
    model: dict | None,
    fps: float,
    probabilities: dict[int, np.ndarray],
    *,
    deep: dict[int, np.ndarray] | None = None,
    scene_params: SceneParams | None = None,
) -> Analysis:
    """Builds the Analysis of a finished scan.

    Args:
        scan: what the decoder pass found (cuts, sampled frames, keyframes, reader stats).
        model: the tags.json "model" block (``EmotionModel.describe()``), None without a model.
        fps: the sampling rate the scan used.
        probabilities: sample id -> (8,) class probabilities; unscored samples stay NaN.
        deep: sample id -> (F,) pooled model features, joined to the shot signatures.
        scene_params: scene grouping parameters; defaults when None.
    """
    info = scan.info
    end_s = scan.end_s
    shots = _shot_table(scan, end_s)
    samples = sorted(scan.samples, key=lambda s: s.time_s)
    times = np.array([s.time_s for s in samples])
    shot_of = np.searchsorted(shots["start_s"].to_numpy(), times, side="right") - 1
    signatures = shot_signatures(
        np.stack([s.signature for s in samples]),
        _deep_rows(samples, deep),
        shot_of,
        len(shots),
        in_transition(times, scan.cuts),
    )
    params = scene_params or SceneParams()
    shots["scene"] = group_scenes(
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
        signatures,
        shots["transition"].to_list(),
        params,
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
    weights = aggregate.frame_weights(
        times, shot_of, shots["start_s"].to_numpy(), shots["end_s"].to_numpy()
    )
    frames.insert(1, "weight_s", weights)
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
        truncated=scan.truncated,
        skipped_out_of_order=scan.skipped_out_of_order,
        late_cuts=scan.late_cuts,
        crop=scan.crop.as_dict() if scan.crop else None,
        scene_grouping=params.as_dict(signatures.deep is not None),
        shot_signatures=signatures,
        shot_detection=scan.shot_detection,
    )


def in_transition(times: np.ndarray, cuts) -> np.ndarray:
    """(N,) whether each time lies strictly inside a cut's transition span (``Cut.start_s`` to
    ``Cut.end_s``, where the detector knows them)."""
    inside = np.zeros(len(times), bool)
    for cut in cuts:
        if cut.start_s is not None and cut.end_s is not None:
            inside |= (times > cut.start_s) & (times < cut.end_s)
    return inside


def _deep_rows(samples, deep: dict[int, np.ndarray] | None) -> np.ndarray | None:
    """(N, F) pooled features in sample order, NaN rows for unscored samples; None if none."""
    if not deep:
        return None
    width = len(next(iter(deep.values())))
    return np.stack([deep.get(s.id, np.full(width, np.nan, np.float32)) for s in samples])


def regroup(result: Analysis, params: SceneParams) -> Analysis:
    """The same analysis with scenes grouped again under ``params`` (no decoding).

    Each new scene's keyframe is the old keyframe of the scene that held its longest shot.

    Raises:
        ValueError: the analysis carries no shot signatures (outputs of an older version).
    """
    if result.shot_signatures is None:
        raise UsageError("no shot signatures (shots.npz) saved with these outputs: analyze again")
    shots = result.shots.copy()
    old_scene = shots["scene"].to_numpy()
    shots["scene"] = group_scenes(
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
        result.shot_signatures,
        shots["transition"].to_list(),
        params,
    )
    frames = result.frames.copy()
    frames["scene"] = shots["scene"].to_numpy()[frames["shot"].to_numpy()]
    old_keyframes = dict(result.keyframes)
    by_shot = {
        float(row.start_s): old_keyframes[old_scene[row.index]]
        for row in shots.itertuples()
        if old_scene[row.index] in old_keyframes
    }
    return dataclasses.replace(
        result,
        shots=shots,
        frames=frames,
        scenes=aggregate.scene_table(frames, shots),
        keyframes=_scene_keyframes(by_shot, shots),
        scene_grouping=params.as_dict(result.shot_signatures.deep is not None),
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
