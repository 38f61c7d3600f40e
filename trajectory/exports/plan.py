"""What to cut for clips and reels: spans of the source film chosen from the saved scores.

Pure planning on the analysis tables, no video: :func:`plan_clips` picks whole scenes,
:func:`plan_reel` picks windows where an emotion's smoothed track peaks. Every span starts on a
frame of the film and lasts a whole number of frames at the film's rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from trajectory.results import Analysis

FLASH_S = 0.5  # a window that would end this soon after a cut ends at the cut instead


@dataclass(frozen=True)
class Cut:
    """A span of the source film: ``frames`` frames from the frame presented at ``start_s``."""

    start_s: float
    frames: int
    rate: Fraction
    score: float  # the emotion's mean share over the span's scene or window
    scene: int | None = None  # the scene it comes from (clips), or the scene it starts in
    shot: int | None = None  # the shot it starts on (reel)

    @property
    def duration_s(self) -> float:
        return float(self.frames / self.rate)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def as_json(self) -> dict:
        return {
            "source_start_s": round(self.start_s, 6),
            "source_end_s": round(self.end_s, 6),
            "frames": self.frames,
            "duration_s": round(self.duration_s, 6),
            "score": round(self.score, 4),
            "scene": self.scene,
            "shot": self.shot,
        }


def snap(start_s: float, end_s: float, analysis: Analysis, rate: Fraction) -> tuple[float, int]:
    """``[start_s, end_s)`` on the film's frame grid: the first frame's time and a frame count."""
    origin = analysis.start_s
    first = max(round((start_s - origin) * rate), 0)
    last = min(round((end_s - origin) * rate), round(analysis.duration_s * rate))
    return origin + float(first / rate), max(int(last - first), 1)


def plan_clips(
    analysis: Analysis, emotion: str, top: int, min_share: float, pad_s: float, rate: Fraction
) -> list[Cut]:
    """The ``top`` scenes with the largest share of ``emotion`` (at least ``min_share``),
    strongest first, each padded by ``pad_s`` on both sides within the film."""
    scenes = analysis.scenes
    ranked = scenes.assign(share=scenes[emotion].astype(float)).sort_values(
        ["share", "index"], ascending=[False, True], kind="stable"
    )
    ranked = ranked[ranked["share"] >= min_share].head(top)
    cuts = []
    for row in ranked.itertuples(index=False):
        start, frames = snap(row.start_s - pad_s, row.end_s + pad_s, analysis, rate)
        cuts.append(Cut(start, frames, rate, float(row.share), scene=int(row.index)))
    return cuts


def _cumulative(analysis: Analysis, emotion: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots and the running integrals of the emotion's share and of scored time.

    Each scored frame holds its share for the ``weight_s`` it stands for, so both integrals are
    piecewise linear between the knots (N frames -> 2N knots) and ``np.interp`` is exact.
    """
    frames = analysis.frames
    share = frames[emotion].to_numpy(dtype=np.float64)
    scored = np.isfinite(share)
    times = frames["time_s"].to_numpy(dtype=np.float64)[scored]
    weights = frames["weight_s"].to_numpy(dtype=np.float64)[scored]
    share = share[scored]
    knots = np.column_stack([times, times + weights]).ravel()
    value = np.concatenate([[0.0], np.cumsum(share * weights)])
    cover = np.concatenate([[0.0], np.cumsum(weights)])
    value_at = np.column_stack([value[:-1], value[1:]]).ravel()
    cover_at = np.column_stack([cover[:-1], cover[1:]]).ravel()
    return knots, value_at, cover_at


def window_means(analysis: Analysis, emotion: str, starts, ends) -> np.ndarray:
    """The emotion's time-weighted mean share over each window ``[starts[i], ends[i])``: its
    track smoothed by a moving mean of the window's length, read at the window's centre.
    NaN where no scored frame covers the window."""
    knots, value, cover = _cumulative(analysis, emotion)
    if len(knots) == 0:
        return np.full(len(starts), np.nan)
    total = np.interp(ends, knots, value) - np.interp(starts, knots, value)
    covered = np.interp(ends, knots, cover) - np.interp(starts, knots, cover)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(covered > 1e-9, total / covered, np.nan)


def candidate_windows(analysis: Analysis, length_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One window per shot: from the shot's first frame for ``length_s`` (within the film),
    ending at the next cut instead when it would show less than FLASH_S of the next shot."""
    starts = analysis.shots["start_s"].to_numpy(dtype=np.float64)
    ends = np.minimum(starts + length_s, analysis.end_s)
    cut_before_end = np.searchsorted(starts, ends, side="left") - 1
    last_cut = starts[np.clip(cut_before_end, 0, len(starts) - 1)]
    flash = (last_cut > starts) & (ends - last_cut < FLASH_S)
    return starts, np.where(flash, last_cut, ends)


@dataclass(frozen=True)
class ReelOptions:
    seconds: float  # the reel's length
    segment_s: float  # the length of one window
    crossfade_s: float  # overlap between consecutive segments

    @property
    def min_segment_s(self) -> float:
        return max(1.0, 2 * self.crossfade_s + 0.2)


def pick_windows(starts, ends, scores, options: ReelOptions) -> list[tuple[float, float, float]]:
    """Best-scoring windows first, none overlapping another, until the reel is long enough.

    A window that would run into one already chosen stops where it starts; the last one is
    shortened so the reel (segments minus crossfades) lasts ``options.seconds``.
    """
    chosen: list[tuple[float, float, float]] = []
    total = 0.0
    for i in np.argsort(-np.nan_to_num(scores, nan=-1.0), kind="stable"):
        if not np.isfinite(scores[i]) or total >= options.seconds - 1e-6:
            break
        start, end = float(starts[i]), float(ends[i])
        if any(a <= start < b for a, b, _ in chosen):
            continue
        end = min([end, *(a for a, _, _ in chosen if a > start)])
        gain = end - start - (options.crossfade_s if chosen else 0.0)
        excess = max(total + gain - options.seconds, 0.0)  # the last one fills the reel
        end = max(end - excess, min(end, start + options.min_segment_s))
        if end - start < options.min_segment_s:
            continue
        chosen.append((start, end, float(scores[i])))
        total += end - start - (options.crossfade_s if len(chosen) > 1 else 0.0)
    return _trim_longest(sorted(chosen), total - options.seconds, options.min_segment_s)


def _trim_longest(chosen: list, excess: float, min_segment_s: float) -> list:
    """Takes ``excess`` seconds off the end of the longest segment when it stays long enough
    (the last pick may have had to be longer than what was left to fill)."""
    if excess <= 1e-9 or not chosen:
        return chosen
    longest = max(range(len(chosen)), key=lambda k: chosen[k][1] - chosen[k][0])
    start, end, score = chosen[longest]
    if end - excess - start >= min_segment_s:
        chosen[longest] = (start, end - excess, score)
    return chosen


def plan_reel(analysis: Analysis, emotion: str, options: ReelOptions, rate: Fraction) -> list[Cut]:
    """The reel's segments in film order, each starting on a shot's first frame."""
    starts, ends = candidate_windows(analysis, options.segment_s)
    scores = window_means(analysis, emotion, starts, ends)
    shot_starts = analysis.shots["start_s"].to_numpy(dtype=np.float64)
    scene_of_shot = analysis.shots["scene"].to_numpy()
    cuts = []
    for start, end, _ in pick_windows(starts, ends, scores, options):
        first, frames = snap(start, end, analysis, rate)
        score = float(window_means(analysis, emotion, [first], [first + float(frames / rate)])[0])
        shot = int(np.searchsorted(shot_starts, start + 1e-6, side="right") - 1)
        cuts.append(Cut(first, frames, rate, score, scene=int(scene_of_shot[shot]), shot=shot))
    return cuts
