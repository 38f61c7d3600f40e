"""Dissolves: a mixture test on tiny frames, in the spirit of twin comparison (Zhang et al. 1993).

A dissolve of L frames from shot A to shot B shows frames ``(1 - a) A + a B`` with ``a`` rising
from 0 to 1. For every frame and a few window lengths L (8 to 50 frames) the detector asks of
the window [s, e] of tiny copies (1/4 of the detection frame, 64x36 at 16:9):

- does the picture change a lot from s to e (``CHORD_MIN`` levels)?
- are the frames at 1/4, 1/2 and 3/4 of the window the matching mixtures of its two ends
  (residual below ``MIXTURE_MAX`` of the change)? A hard cut inside leaves half the change,
  a flash or a whip pan far more. When the camera moves during the dissolve, the fine texture
  inside is not that of the ends, so the same is also asked of 16x9 copies (below
  ``COARSE_MIXTURE_MAX``), whose layout of light and colour the motion hardly changes;
- is more than the exposure changing (a lamp, a fade: those are the fade detector's)?
- does a shift of the first frame not explain the last (a pan over the same place)?
- is the change concentrated in the window: does the picture change less over as many frames
  before and after it (``OUTSIDE_MAX`` of the window's change)? Steady camera motion does not.
  This is asked of 16x9 copies, the layout of light and colour, which a pan over fine texture
  changes little and a change of place changes a lot.

Windows that pass and overlap form one dissolve; its cut is the first frame more than half-way
from the frame just before its windows to the frame just after them (the dissolve's middle).
"""

from __future__ import annotations

import cv2
import numpy as np

from trajectory.detectors.base import (
    Cut,
    Detector,
    TinyFrames,
    distance,
    gain_free_distance,
    rescaling,
    shifted_share,
)

WINDOWS = (8, 12, 18, 26, 36, 50)  # window lengths in frames, about x1.4 apart
CHORD_MIN = 10.0  # mean |change| between the window's ends, levels of 255
MIXTURE_MAX = 0.25  # interior residual / chord: a hard cut gives 0.5, a dissolve ~0.1
COARSE_MIXTURE_MAX = 0.2  # the same on 16x9 copies, for dissolves under camera motion
RESCALED_GAIN_MIN = 0.25  # a fitted gain above this leaving < 40% of the change: a lamp or a
RESCALED_LEFT_MAX = 0.4  # fade changes exposure, not the picture (see ``rescaling``)
GAIN_FREE_MIN = 0.3  # change left once both ends have the same mean / change: lamps, fades
SHIFT_SHARE_MIN = 0.6  # change left after the best shift / change: a pan gives ~0.3
OUTSIDE_MAX = 0.6  # change over a window's length outside / window's change: steady motion ~1
DARK_LEVEL = 12.0  # ends darker than this are black (ThresholdDetector's level): a fade
REACH = 2 * max(WINDOWS)  # frames a window's start lies before the newest frame


class DissolveDetector(Detector):
    """Dissolves (cross-fades) of 8 to about 60 frames, cut at their middle."""

    def __init__(self) -> None:
        longest = max(WINDOWS)
        self._frames = TinyFrames(REACH + 3 * longest)  # a closing dissolve is still held
        self._group: tuple[int, int] | None = None  # first and last frame of the open dissolve
        self.latency_frames = REACH + longest

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        self._frames.add(time_s, frame)
        newest = self._frames.count - 1
        cuts = []
        for length in WINDOWS:
            start, end = newest - 2 * length, newest - length  # window [start, end], look-ahead
            if start - length >= 0:
                cuts += self._consider(start, end)
        if self._group is not None and newest - self._group[1] > REACH:
            cuts += self._close()
        return cuts

    def post_process(self) -> list[Cut]:
        return self._close() if self._group is not None else []

    def _consider(self, start: int, end: int) -> list[Cut]:
        """Adds a passing window to the open dissolve, or closes that and opens a new one."""
        if not _window_passes(self._frames, start, end):
            return []
        if self._group is not None and start <= self._group[1] and end >= self._group[0]:
            self._group = (min(self._group[0], start), max(self._group[1], end))
            return []
        cuts = self._close() if self._group is not None else []
        self._group = (start, end)
        return cuts

    def _close(self) -> list[Cut]:
        """The cut of the open dissolve: its first frame past half-way from A to B.

        A and B are the frames at the ends of all its passing windows together, outside the
        dissolve on either side, so the camera's motion weighs the same on both.
        """
        first, last = self._group
        self._group = None
        frames = self._frames
        first = max(first, frames.count - frames.capacity)
        if not (frames.has(first) and frames.has(last)):
            return []
        chord = frames[last] - frames[first]
        norm = max(float((chord * chord).sum()), 1e-6)
        for index in range(first, last + 1):
            progress = float(((frames[index] - frames[first]) * chord).sum()) / norm
            if progress >= 0.5:
                return [Cut(frames.time(index), "dissolve")]
        return []


def _window_passes(frames: TinyFrames, start: int, end: int) -> bool:
    """Whether the window [start, end] passes every test of the module docstring."""
    first, last = frames[start], frames[end]
    chord = distance(first, last)
    if chord < CHORD_MIN or min(first.mean(), last.mean()) < DARK_LEVEL:
        return False
    if not (
        _is_mixture(frames, start, end, coarse=False)
        or _is_mixture(frames, start, end, coarse=True)
    ):
        return False
    gain, left = rescaling(first, last)
    if gain > RESCALED_GAIN_MIN and left < RESCALED_LEFT_MAX:  # same picture, other exposure
        return False
    if gain_free_distance(first, last) < GAIN_FREE_MIN * chord:
        return False
    coarse_first, coarse_last = _coarse(first), _coarse(last)
    length = end - start
    outside = max(
        distance(_coarse(frames[start - length]), coarse_first),
        distance(coarse_last, _coarse(frames[end + length])),
    )
    if outside > OUTSIDE_MAX * distance(coarse_first, coarse_last):
        return False
    return shifted_share(first, last) >= SHIFT_SHARE_MIN


def _is_mixture(frames: TinyFrames, start: int, end: int, *, coarse: bool) -> bool:
    """Whether the frames at 1/4, 1/2, 3/4 of [start, end] are the matching mixtures of its ends.

    Compared on the tiny frames (residual below ``MIXTURE_MAX`` of the change between the ends)
    or, with ``coarse``, on their 16x9 copies (below ``COARSE_MIXTURE_MAX``).
    """
    copy = _coarse if coarse else np.asarray
    first, last = copy(frames[start]), copy(frames[end])
    budget = (COARSE_MIXTURE_MAX if coarse else MIXTURE_MAX) * distance(first, last)
    length = end - start
    for share in (0.25, 0.5, 0.75):
        k = start + round(share * length)
        mixed = first + (k - start) / length * (last - first)
        if distance(copy(frames[k]), mixed) > budget:
            return False
    return True


def _coarse(frame: np.ndarray) -> np.ndarray:
    """A 1/4-size copy of a tiny frame (16x9 at 16:9): the picture's layout of light and colour.

    Camera motion over a few dozen frames hardly changes it; a change of place does.
    """
    height, width = frame.shape[:2]
    size = (max(1, width // 4), max(1, height // 4))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
