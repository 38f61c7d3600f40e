"""Shot boundaries from PySceneDetect's detectors (scenes: :mod:`trajectory.scenes`).

Shots: PySceneDetect's ``AdaptiveDetector`` (hard cuts, robust to camera motion) and
``ThresholdDetector`` (fades through black) are fed the frames we already decoded, downscaled,
with their exact presentation times. Their cut times are snapped to the decoded frame they name.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scenedetect import AdaptiveDetector, FrameTimecode, ThresholdDetector
from scenedetect.common import Timecode

# Width of the frames fed to the detectors: PySceneDetect's own auto-downscale targets ~256 px.
DETECTION_WIDTH = 256
MIN_SHOT_S = 0.6  # PySceneDetect's command-line default minimum shot length
_TIME_BASE = Fraction(1, 1_000_000)  # detectors get microsecond timecodes


@dataclass(frozen=True)
class Cut:
    """A shot boundary: the first frame of the new shot is presented at ``time_s``."""

    time_s: float
    kind: str  # "hard" or "fade"


def detection_size(width: int, height: int) -> tuple[int, int]:
    """The (width, height) at which frames are fed to the detectors: ~256 px wide, even sizes."""
    if width <= DETECTION_WIDTH:
        return width - width % 2 or 2, height - height % 2 or 2
    scaled_h = max(2, int(round(height * DETECTION_WIDTH / width / 2)) * 2)
    return DETECTION_WIDTH, scaled_h


class ShotDetector:
    """Runs PySceneDetect detectors over our decoded frames, in one pass.

    Call :meth:`process` for every frame in presentation order with the small BGR image, then
    :meth:`finish`. Both return cuts as soon as the detectors report them (detectors look a few
    frames back, so a cut can arrive after later frames were processed).
    """

    def __init__(self, fps: float, *, min_shot_s: float = MIN_SHOT_S, fades: bool = True):
        self._rate = Fraction(fps).limit_denominator(100_000) if fps > 0 else Fraction(25)
        self.min_shot_s = min_shot_s
        self._detectors: list[tuple[str, object]] = [
            ("hard", AdaptiveDetector(min_scene_len=float(min_shot_s))),
        ]
        if fades:
            self._detectors.append(
                ("fade", ThresholdDetector(min_scene_len=float(min_shot_s), fade_bias=1.0))
            )
        self._times: list[float] = []
        self._cuts: list[Cut] = []  # sorted by time, with _cut_times alongside for bisect
        self._cut_times: list[float] = []
        self._last_timecode: FrameTimecode | None = None

    def _timecode(self, time_s: float) -> FrameTimecode:
        return FrameTimecode(
            Timecode(pts=round(time_s / _TIME_BASE), time_base=_TIME_BASE), fps=self._rate
        )

    def process(self, time_s: float, bgr: np.ndarray) -> list[Cut]:
        """Feeds one frame (small BGR uint8 image) presented at ``time_s``."""
        self._times.append(time_s)
        timecode = self._timecode(time_s)
        self._last_timecode = timecode
        found = []
        for kind, detector in self._detectors:
            found += [self._snap(tc.seconds, kind) for tc in detector.process_frame(timecode, bgr)]
        return self._accept(found)

    def finish(self) -> list[Cut]:
        """Flushes cuts the detectors were still holding back at the end of the video."""
        if self._last_timecode is None:
            return []
        found = []
        for kind, detector in self._detectors:
            found += [
                self._snap(tc.seconds, kind) for tc in detector.post_process(self._last_timecode)
            ]
        return self._accept(found)

    @property
    def cuts(self) -> list[Cut]:
        return list(self._cuts)

    def cuts_after(self, time_s: float) -> list[Cut]:
        """The cuts found so far that lie after ``time_s``, in time order."""
        i = bisect.bisect_right(self._cut_times, time_s)
        return self._cuts[i:]

    def _snap(self, seconds: float, kind: str) -> Cut:
        # Detectors may compute a cut from frame numbers (fades): name the nearest real frame.
        i = bisect.bisect_left(self._times, seconds)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self._times)]
        nearest = min(candidates, key=lambda j: abs(self._times[j] - seconds))
        return Cut(self._times[nearest], kind)

    def _accept(self, found: list[Cut]) -> list[Cut]:
        """Keeps cuts that are after the first frame and not within min_shot_s of a known cut.

        When two detectors see the same transition, the fade detector's cut wins: it places the
        boundary in the black, where the fade-in begins.
        """
        accepted = []
        for cut in sorted(found, key=lambda c: (c.time_s, c.kind != "fade")):
            if not self._times or cut.time_s <= self._times[0]:
                continue
            close = [c for c in self._cuts if abs(c.time_s - cut.time_s) < self.min_shot_s]
            if close:
                if cut.kind == "fade" and all(c.kind == "hard" for c in close):
                    for c in close:
                        self._cuts.remove(c)
                else:
                    continue
            self._cuts.append(cut)
            self._cuts.sort(key=lambda c: c.time_s)
            self._cut_times = [c.time_s for c in self._cuts]
            accepted.append(cut)
        return accepted
