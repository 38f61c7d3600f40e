"""Shot boundaries from pluggable detectors (scenes: :mod:`trajectory.scenes`).

Detectors from :mod:`trajectory.detectors` are fed the frames we already decoded, downscaled,
with their exact presentation times (``process_frame`` per frame, ``post_process`` at the end,
as in PySceneDetect). ``fast`` runs hard cuts (PySceneDetect's ``AdaptiveDetector``, checked
against flashes and lamps), fades through black (``ThresholdDetector``) and dissolves (our
mixture test); ``learned`` runs TransNetV2 plus the fade detector. Cut times are snapped to the
decoded frame they name; when two detectors see one transition, a fade wins over a dissolve, a
dissolve over a hard cut.
"""

from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np

from trajectory.detectors.base import Cut, Detector
from trajectory.detectors.fade import FadeDetector
from trajectory.detectors.gradual import DissolveDetector
from trajectory.detectors.hard import HardCutDetector

__all__ = ["Cut", "ShotDetector", "SHOT_MODES", "detection_size"]

# Width of the frames fed to the detectors: PySceneDetect's own auto-downscale targets ~256 px.
DETECTION_WIDTH = 256
MIN_SHOT_S = 0.6  # PySceneDetect's command-line default minimum shot length
# "fast": our CPU detector set; "learned": TransNetV2 (torch); "classic": the detectors used
# before dissolves were detected (unchecked AdaptiveDetector + fades), kept for comparisons.
SHOT_MODES = ("fast", "learned", "classic")
_PRIORITY = {"fade": 0, "dissolve": 1, "hard": 2}  # which detector wins a shared transition


def detection_size(width: int, height: int) -> tuple[int, int]:
    """The (width, height) at which frames are fed to the detectors: ~256 px wide, even sizes."""
    if width <= DETECTION_WIDTH:
        return width - width % 2 or 2, height - height % 2 or 2
    scaled_h = max(2, int(round(height * DETECTION_WIDTH / width / 2)) * 2)
    return DETECTION_WIDTH, scaled_h


def make_detectors(mode: str, rate: Fraction, min_shot_s: float, device: str) -> list[Detector]:
    """The detectors of a shot mode (see ``SHOT_MODES``)."""
    if mode == "fast":
        return [
            HardCutDetector(rate, min_shot_s),
            FadeDetector(rate, min_shot_s),
            DissolveDetector(),
        ]
    if mode == "classic":
        return [
            HardCutDetector(rate, min_shot_s, checked=False),
            FadeDetector(rate, min_shot_s, checked=False),
        ]
    if mode == "learned":
        from trajectory.detectors.learned import TransNetDetector  # imports torch

        return [TransNetDetector(device), FadeDetector(rate, min_shot_s)]
    raise ValueError(f"shot detection must be one of {', '.join(SHOT_MODES)}, got {mode!r}")


class ShotDetector:
    """Runs a set of shot detectors over our decoded frames, in one pass.

    Call :meth:`process` for every frame in presentation order with the small BGR image, then
    :meth:`finish`. Both return cuts as soon as the detectors report them; a cut can arrive up
    to :attr:`latency_s` after its frame was processed.
    """

    def __init__(
        self,
        fps: float,
        *,
        min_shot_s: float = MIN_SHOT_S,
        mode: str = "fast",
        device: str = "cpu",
    ):
        rate = Fraction(fps).limit_denominator(100_000) if fps > 0 else Fraction(25)
        self.mode = mode
        self.min_shot_s = min_shot_s
        self._detectors = make_detectors(mode, rate, min_shot_s, device)
        self.latency_s = max(d.latency_frames for d in self._detectors) / float(rate)
        self._times: list[float] = []
        self._cuts: list[Cut] = []  # sorted by time, with _cut_times alongside for bisect
        self._cut_times: list[float] = []

    def process(self, time_s: float, bgr: np.ndarray) -> list[Cut]:
        """Feeds one frame (small BGR uint8 image) presented at ``time_s``."""
        self._times.append(time_s)
        found = []
        for detector in self._detectors:
            found += [self._snap(cut) for cut in detector.process_frame(time_s, bgr)]
        return self._accept(found) if found else []

    def finish(self) -> list[Cut]:
        """Flushes cuts the detectors were still holding back at the end of the video."""
        if not self._times:
            return []
        found = [self._snap(cut) for d in self._detectors for cut in d.post_process()]
        return self._accept(found)

    @property
    def cuts(self) -> list[Cut]:
        return list(self._cuts)

    def cuts_after(self, time_s: float) -> list[Cut]:
        """The cuts found so far that lie after ``time_s``, in time order."""
        i = bisect.bisect_right(self._cut_times, time_s)
        return self._cuts[i:]

    def _snap(self, cut: Cut) -> Cut:
        # Detectors may compute a cut from frame numbers (fades): name the nearest real frame.
        i = bisect.bisect_left(self._times, cut.time_s)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self._times)]
        nearest = min(candidates, key=lambda j: abs(self._times[j] - cut.time_s))
        time_s = self._times[nearest]
        start_s = None if cut.start_s is None else min(cut.start_s, time_s)
        end_s = None if cut.end_s is None else max(cut.end_s, time_s)
        return Cut(time_s, cut.kind, start_s, end_s)

    def _accept(self, found: list[Cut]) -> list[Cut]:
        """Keeps cuts that are after the first frame and not within min_shot_s of a known cut
        (for a dissolve, of a fade's dark frames too: see :func:`_apart_s`).

        When two detectors see the same transition, the one of higher priority wins (a fade
        over a dissolve over a hard cut): it knows the transition's kind and middle.
        """
        accepted = []
        for cut in sorted(found, key=lambda c: (c.time_s, _PRIORITY[c.kind])):
            if not self._times or cut.time_s <= self._times[0]:
                continue
            close = [c for c in self._cuts if _apart_s(c, cut) < self.min_shot_s]
            if close:
                if all(_PRIORITY[cut.kind] < _PRIORITY[c.kind] for c in close):
                    for c in close:
                        self._cuts.remove(c)
                else:
                    continue
            self._cuts.append(cut)
            self._cuts.sort(key=lambda c: c.time_s)
            self._cut_times = [c.time_s for c in self._cuts]
            accepted.append(cut)
        return accepted


def _apart_s(first: Cut, second: Cut) -> float:
    """Seconds between two cuts, where a fade's cut says where its dark frames began and where
    the picture rose out of them (``start_s``, ``end_s``): its span.

    A dissolve is measured to the span, since a fade-out to near black can read as a dissolve
    into a dark picture. A hard cut is measured to the fade's cut, to where its picture rose (the
    step of a fade-in), and, after the first dark frame (a step between dark frames, such as the
    last one into black), to where they began. A hard cut at the first dark frame, a cut to
    black before a fade-in, is a transition of its own: the fade detector cuts such a fade
    where its picture rose, so the two are the black's length apart."""
    apart = abs(first.time_s - second.time_s)
    for fade, other in ((first, second), (second, first)):
        if fade.kind != "fade" or fade.start_s is None or fade.end_s is None:
            continue
        if other.kind == "dissolve":
            apart = min(apart, max(fade.start_s - other.time_s, other.time_s - fade.end_s, 0.0))
            continue
        apart = min(apart, abs(other.time_s - fade.end_s))
        if fade.start_s < other.time_s <= fade.end_s:
            apart = min(apart, other.time_s - fade.start_s)
    return apart
