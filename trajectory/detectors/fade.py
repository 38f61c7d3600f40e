"""Fades through black: PySceneDetect's ``ThresholdDetector`` fed our frames, each fade checked.

The cut is placed at the fade's darkest moment: the middle of the run's frames within
``PLATEAU_LEVELS`` of its darkest level (the black between fade-out and fade-in), so each side
keeps its own dimmed frames. The cut also carries the run's first dark frame (``start_s``) and
where the picture rose out of it (``end_s``, PySceneDetect's ``fade_bias=1.0`` cut). A fade passes
through black: the darkest frame of the run of dark frames holds no picture (its median grey
level is under ``BAR_LEVEL``, where black decodes; a title or logo on the black does not count).
A dim shot that a lamp lights up is under ``ThresholdDetector``'s level too,
but holds a picture throughout; it is no fade when, besides, a gain and offset of the last dark
frame explain ``SAME_PICTURE_R2`` of the variance of the frame at the cut (the same picture,
brighter; a cut from a dark picture to another one is still a cut).

A fade-in can also end on a dim picture that stays under ``ThresholdDetector``'s level (a night
room, later lit by a lamp): the level never rises through it, and ``ThresholdDetector`` would
report the fade only when the picture brightens, seconds later, or never. So a picture that
comes out of black (``DIM_RISE`` levels over the black frames) and holds its level for
``DIM_HOLD_S`` is cut where it left the black; a rise later in the same run is that picture
brightening, not another fade.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

import numpy as np
from scenedetect import FrameTimecode, ThresholdDetector

from trajectory.detectors.base import (
    BAR_LEVEL,
    Cut,
    Detector,
    TinyFrames,
    explained_share,
    timecode,
)

DARK_LEVEL = 12.0  # mean level under which ThresholdDetector takes a frame for black (its default)
SAME_PICTURE_R2 = 0.5  # R^2 of the frame at the cut on the dark frame before: a lamp ~0.99,
# another picture or black ~0
KEPT_FRAMES = 8  # tiny frames held to find the one at a reported cut (the detector reports at once)
DIM_RISE = 3.0  # mean levels over the black that make a dim picture (black ~1, a night room 6-10)
DIM_STEADY = 0.3  # mean levels a held dim picture moves per frame at most (grain ~0.05)
DIM_HOLD_S = 0.5  # how long it holds before the fade into it is cut
PLATEAU_LEVELS = 1.0  # mean levels over the run's darkest that still count as its black (black
# frames decode within ~0.3 of each other; a fade-in's first frame rises 2-8 levels, a dark
# starfield's ~0.2-0.5)


class FadeDetector(Detector):
    """Fades to and from black, as PySceneDetect's ``detect-threshold`` finds them, without lamps.

    Args:
        rate: the video's nominal frame rate (for PySceneDetect's timecodes).
        min_shot_s: minimum shot length handed to PySceneDetect.
        checked: False gives PySceneDetect's detector without the lamp check (for comparisons).
    """

    def __init__(self, rate: Fraction, min_shot_s: float, *, checked: bool = True):
        self._rate = rate
        self._checked = checked
        self._detector = ThresholdDetector(min_scene_len=float(min_shot_s), fade_bias=1.0)
        self._last: FrameTimecode | None = None
        self._frames = TinyFrames(KEPT_FRAMES)
        self._darkest: np.ndarray | None = None  # darkest frame of the dark run going on
        self._darkest_level = 0.0  # ... and its mean level
        self._last_dark: np.ndarray | None = None  # ... of the last dark run that ended
        self._dark_start_s: float | None = None  # first frame of the current (or last) dark run
        self._black = _Black()  # ... its latest black
        self._dim = _DimFadeIn(hold_frames=max(2, round(DIM_HOLD_S * float(rate))))
        self.latency_frames = self._dim.hold_frames + 2

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        self._last = timecode(time_s, self._rate)
        found = self._detector.process_frame(self._last, frame)
        if not self._checked:
            return [Cut(tc.seconds, "fade") for tc in found]
        self._follow_dark_run(time_s, frame)
        cuts = [
            self._fade(tc.seconds)
            for tc in found
            if self._dim.cut_s is None and self._passes_black(tc.seconds)
        ]
        dim_cut = self._dim.follow(time_s, self._frames[self._frames.count - 1])
        if dim_cut is not None:
            cuts.append(self._fade(dim_cut))
        return cuts

    def post_process(self) -> list[Cut]:
        if self._last is None:
            return []
        found = self._detector.post_process(self._last)
        if self._checked and self._dim.cut_s is not None:
            return []  # the fade was cut where its dim picture left the black
        return [self._fade(tc.seconds) for tc in found if self._passes_black(tc.seconds)]

    def _fade(self, risen_s: float) -> Cut:
        """The fade whose picture rose out of the dark run at ``risen_s``, cut at its darkest.

        A run that is black from its first frame had no fade-out (a cut to black, or the film's
        start): that fade is only a fade-in, cut where its picture rose, the black belonging to
        what came before (as PySceneDetect's ``testvideo.mp4``: a cut to black at 6.006 s, a
        fade-in at 7.207 s).
        """
        black = self._black.span_s(before_s=risen_s)
        if black is None or black[0] == self._dark_start_s:
            return Cut(risen_s, "fade", self._dark_start_s, risen_s)
        return Cut((black[0] + black[1]) / 2, "fade", self._dark_start_s, risen_s)

    def _follow_dark_run(self, time_s: float, frame: np.ndarray) -> None:
        """Keeps the tiny copy of the darkest frame of the current (or last) run of dark frames,
        and when the run began."""
        self._frames.add(time_s, frame)
        newest = self._frames[self._frames.count - 1]
        level = newest.mean()
        if level < DARK_LEVEL:
            if self._darkest is None:
                self._dark_start_s, self._black = time_s, _Black()
            self._black.follow(time_s, float(level))
            if self._darkest is None or level < self._darkest_level:
                self._darkest, self._darkest_level = newest, level
        elif self._darkest is not None:
            self._last_dark, self._darkest = self._darkest, None

    def _passes_black(self, time_s: float) -> bool:
        """False for a dim picture lit up: no black frame in the run, and the same picture.

        The run's darkest frame is black when most of it is (median grey under ``BAR_LEVEL``;
        measured about 1 on black frames, 5-12 in dim rooms that a lamp lights up); otherwise
        the last dark frame must not be the picture at the cut at another exposure
        (``SAME_PICTURE_R2``).
        """
        dark = self._last_dark if self._last_dark is not None else self._darkest
        if not self._checked or dark is None or float(np.median(dark.mean(axis=2))) < BAR_LEVEL:
            return True
        frames = self._frames
        held = [i for i in range(frames.count - frames.capacity, frames.count) if frames.has(i)]
        at_cut = min(held, key=lambda i: abs(frames.time(i) - time_s))
        if not frames.has(at_cut - 1):
            return True
        return explained_share(frames[at_cut - 1], frames[at_cut]) < SAME_PICTURE_R2


class _Black:
    """The black of a dark run: an unbroken stretch of frames within ``PLATEAU_LEVELS`` of its
    darkest level, from the first such frame to the last.

    A darker frame drops the frames before it that are no longer within reach (a slow fade-out
    creeps down to its black); a frame above reach ends the stretch, and the next one at the
    black starts another (a picture rose out of the black and went back: a second fade in the
    same dark run). Holds a (time, level) pair per frame of the stretch.
    """

    def __init__(self) -> None:
        self._frames: deque[tuple[float, float]] = deque()
        self._level = math.inf  # the stretch's darkest
        self._open = False

    def follow(self, time_s: float, level: float) -> None:
        if self._frames and level > self._level + PLATEAU_LEVELS:
            self._open = False
            return
        if not self._open:
            self._frames.clear()
            self._level, self._open = level, True
        self._frames.append((time_s, level))
        if level < self._level:
            self._level = level
            while self._frames[0][1] > level + PLATEAU_LEVELS:
                self._frames.popleft()

    def span_s(self, before_s: float) -> tuple[float, float] | None:
        """(first, last) frame time of the stretch, among frames before ``before_s``."""
        if not self._frames or self._frames[0][0] >= before_s:
            return None
        last = next(t for t, _ in reversed(self._frames) if t < before_s)
        return self._frames[0][0], last


class _DimFadeIn:
    """Follows runs of dark frames for a fade from black into a dim picture.

    ``follow`` returns the time the picture left the black once it has held its level for
    ``hold_frames`` frames. ``cut_s`` keeps that time until the picture passes through black
    again: until then, the picture rising out of the dark (ThresholdDetector's fade, reported
    as the level crosses, a frame either side of the run's end) is the same shot brightening.
    """

    def __init__(self, hold_frames: int) -> None:
        self.hold_frames = hold_frames
        self.cut_s: float | None = None
        self._new_run()

    def _new_run(self) -> None:
        self._black_level: float | None = None  # mean level of the run's darkest black
        self._left_black_s: float | None = None  # first frame of the picture after it
        self._previous_level = 0.0
        self._held = 0

    def follow(self, time_s: float, tiny_frame: np.ndarray) -> float | None:
        level = float(tiny_frame.mean())
        if level >= DARK_LEVEL:  # the run is over (or none is going on)
            self._new_run()
            return None
        previous, self._previous_level = self._previous_level, level
        if level < BAR_LEVEL and float(np.median(tiny_frame.mean(axis=2))) < BAR_LEVEL:
            self.cut_s = None  # through black: what rises next is a fade of its own
            darkest = self._black_level
            self._black_level = level if darkest is None else min(level, darkest)
            self._left_black_s, self._held = None, 0
            return None
        if self._black_level is None or level < self._black_level + DIM_RISE:
            return None
        if self._left_black_s is None:
            self._left_black_s = time_s
        self._held = self._held + 1 if abs(level - previous) <= DIM_STEADY else 0
        if self.cut_s is None and self._held >= self.hold_frames:
            self.cut_s = self._left_black_s
            return self.cut_s
        return None
