"""Per-frame probabilities -> shot, scene and film distributions, valence track and arc shape.

Everything here works on the saved per-frame table alone, so ``trajectory report`` can
re-aggregate without decoding or scoring again.

Weights: a sampled frame stands for the time until the next sampled frame, cut off at the end of
its shot (a frame never speaks for footage of another shot); the first frame of a shot also
stands for the time from the shot's start, so the weights of all frames sum to the film's
length. Distributions are the weighted mean of the frame probabilities inside a shot, scene or
the film.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trajectory.emotions import EMOTIONS, valence

TAG_MIN_SHARE = 0.15  # a class becomes a film tag when it holds at least this share of the film
ARC_MIN_SPREAD = 0.05  # below this standard deviation of smoothed valence, the arc is "flat"
ARC_SMOOTHING = 0.1  # smoothing window for the arc, as a fraction of the film's length
ARCS = ("rags-to-riches", "riches-to-rags", "man-in-a-hole", "icarus", "cinderella", "oedipus")


@dataclass
class FilmSummary:
    distribution: dict[str, float] | None
    dominant: str | None
    tags: list[str]
    valence: float | None
    arc: str | None


def frame_weights(
    times: np.ndarray, shot_of: np.ndarray, shot_starts: np.ndarray, shot_ends: np.ndarray
) -> np.ndarray:
    """Seconds each sampled frame stands for; together they cover the film exactly once.

    Within a shot, a frame stands for the time until the next sampled frame of the shot (or the
    shot's end); the first frame of a shot also stands for the time from the shot's start to it.
    A shot without any sampled frame (no decodable frame in it) is given to the last frame
    before it, or to the first frame after it at the very start of the film. The weights
    therefore sum to ``shot_ends[-1] - shot_starts[0]`` whenever there is at least one frame.

    Args:
        times: sampled frame times, sorted, shape (N,).
        shot_of: index of the shot each frame belongs to, non-decreasing, shape (N,).
        shot_starts, shot_ends: the shots' spans in seconds, tiling the film, shape (S,).

    Returns:
        float array (N,) of seconds.
    """
    times = np.asarray(times, dtype=np.float64)
    shot_of = np.asarray(shot_of, dtype=np.int64)
    if len(times) == 0:
        return np.zeros(0)
    starts = np.asarray(shot_starts, dtype=np.float64)
    ends = np.asarray(shot_ends, dtype=np.float64)
    following = np.append(times[1:], np.inf)
    same_shot_next = np.append(shot_of[1:] == shot_of[:-1], False)
    span_end = np.where(same_shot_next, following, ends[shot_of])
    first_in_shot = np.append(True, shot_of[1:] != shot_of[:-1])
    span_start = np.where(first_in_shot, starts[shot_of], times)
    weights = np.maximum(span_end - span_start, 0.0)
    # Shots nobody sampled: their time goes to the last frame before them (else the first after).
    orphan = np.setdiff1d(np.arange(len(starts)), shot_of)
    owner = np.clip(np.searchsorted(shot_of, orphan, side="left") - 1, 0, None)
    np.add.at(weights, owner, ends[orphan] - starts[orphan])
    return weights


def weighted_distribution(probs: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """Weighted mean of (N, 8) probabilities, renormalised to sum to 1; None without frames."""
    keep = np.isfinite(probs).all(axis=1) & (weights > 0)
    if not keep.any():
        keep = np.isfinite(probs).all(axis=1)  # zero-length spans: fall back to a plain mean
        if not keep.any():
            return None
        weights = np.ones(len(probs))
    mean = np.average(probs[keep], axis=0, weights=weights[keep])
    return mean / mean.sum()


def as_shares(distribution: np.ndarray | None) -> dict[str, float] | None:
    if distribution is None:
        return None
    return {name: round(float(p), 4) for name, p in zip(EMOTIONS, distribution)}


def film_tags(distribution: np.ndarray | None) -> list[str]:
    """Classes holding at least TAG_MIN_SHARE of the film, largest first (the dominant always)."""
    if distribution is None:
        return []
    order = np.argsort(-distribution, kind="stable")
    return [EMOTIONS[i] for i in order if distribution[i] >= TAG_MIN_SHARE or i == order[0]]


def scene_table(frames: pd.DataFrame, shots: pd.DataFrame) -> pd.DataFrame:
    """One row per scene: span, shots, dominant class, confidence and the 8 class shares.

    ``confidence`` is the dominant class's share of the scene's distribution.
    """
    rows = []
    probs = frames[list(EMOTIONS)].to_numpy(dtype=np.float64)
    weights = frames["weight_s"].to_numpy()
    for scene, members in shots.groupby("scene", sort=True):
        inside = (frames["scene"] == scene).to_numpy()
        dist = weighted_distribution(probs[inside], weights[inside])
        row = {
            "index": int(scene),
            "start_s": float(members["start_s"].min()),
            "end_s": float(members["end_s"].max()),
            "first_shot": int(members["index"].min()),
            "last_shot": int(members["index"].max()),
            "dominant": None if dist is None else EMOTIONS[int(np.argmax(dist))],
            "confidence": None if dist is None else float(dist.max()),
        }
        row.update(dict(zip(EMOTIONS, dist if dist is not None else [np.nan] * len(EMOTIONS))))
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_film(frames: pd.DataFrame) -> FilmSummary:
    probs = frames[list(EMOTIONS)].to_numpy(dtype=np.float64)
    dist = weighted_distribution(probs, frames["weight_s"].to_numpy()) if len(frames) else None
    if dist is None:
        return FilmSummary(None, None, [], None, None)
    return FilmSummary(
        distribution=as_shares(dist),
        dominant=EMOTIONS[int(np.argmax(dist))],
        tags=film_tags(dist),
        valence=round(float(valence(dist[None])[0]), 4),
        arc=arc_shape(frames["time_s"].to_numpy(), valence(probs)),
    )


def smooth_track(times: np.ndarray, values: np.ndarray, window_s: float) -> np.ndarray:
    """Centred moving average over ``window_s`` seconds of presentation time (not samples).

    Args:
        times: (N,) sorted times; values: (N,) or (N, K).
    """
    values = np.asarray(values, dtype=np.float64)
    if window_s <= 0 or len(times) < 2:
        return values.copy()
    # Prefix sums make each window an O(1) difference: a 2-hour film at 1 fps is 7200 rows.
    squeeze = values.ndim == 1
    v = values[:, None] if squeeze else values
    csum = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    lo = np.searchsorted(times, times - window_s / 2, side="left")
    hi = np.searchsorted(times, times + window_s / 2, side="right")
    out = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    return out[:, 0] if squeeze else out


def arc_shape(times: np.ndarray, valences: np.ndarray) -> str | None:
    """The closest of Reagan et al.'s six emotional arcs to the smoothed valence track.

    The track is smoothed over ARC_SMOOTHING of the film, resampled to 100 points on normalised
    time and correlated with one template per arc; "flat" when valence hardly moves.
    """
    ok = np.isfinite(valences)
    if ok.sum() < 3:
        return None
    times, valences = times[ok], valences[ok]
    span = times[-1] - times[0]
    if span <= 0:
        return None
    smooth = smooth_track(times, valences, ARC_SMOOTHING * span)
    grid = np.linspace(times[0], times[-1], 100)
    track = np.interp(grid, times, smooth)
    if track.std() < ARC_MIN_SPREAD:
        return "flat"
    t = np.linspace(0.0, 1.0, 100)
    templates = {
        "rags-to-riches": t,
        "riches-to-rags": -t,
        "man-in-a-hole": np.cos(2 * np.pi * t),
        "icarus": -np.cos(2 * np.pi * t),
        "cinderella": -np.cos(3 * np.pi * t),
        "oedipus": np.cos(3 * np.pi * t),
    }
    scores = {name: float(np.corrcoef(track, shape)[0, 1]) for name, shape in templates.items()}
    return max(scores, key=scores.get)
