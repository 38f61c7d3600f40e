"""Shot boundaries from pluggable detectors, and grouping of shots into scenes.

Shots: detectors from :mod:`trajectory.detectors` are fed the frames we already decoded,
downscaled, with their exact presentation times (``process_frame`` per frame, ``post_process`` at
the end, as in PySceneDetect). ``fast`` runs hard cuts (PySceneDetect's ``AdaptiveDetector``,
checked against flashes and lamps), fades through black (``ThresholdDetector``) and dissolves
(our mixture test); ``learned`` runs TransNetV2 plus the fade detector. Cut times are snapped to
the decoded frame they name; when two detectors see one transition, a fade wins over a dissolve,
a dissolve over a hard cut.

Scenes: consecutive shots that look alike. Each shot gets a colour signature (a CIELAB histogram
of its sampled frames). A shot is linked to the furthest of the previous ``lookback`` shots whose
signature is close to its own, and every shot between the two joins that scene ("overlapping
links", Hanjalic et al. 1999), so shot/reverse-shot dialogue stays one scene; with no link, or
after a fade through black, a new scene starts. Scenes shorter than ``min_scene_s`` are then
merged into the more similar neighbour (not across a fade, unless both sides are fades).
"""

from __future__ import annotations

import bisect
from fractions import Fraction

import cv2
import numpy as np

from trajectory.detectors.base import Cut, Detector
from trajectory.detectors.fade import FadeDetector
from trajectory.detectors.gradual import DissolveDetector
from trajectory.detectors.hard import HardCutDetector

__all__ = ["Cut", "ShotDetector", "SHOT_MODES", "detection_size", "group_scenes"]

# Width of the frames fed to the detectors: PySceneDetect's own auto-downscale targets ~256 px.
DETECTION_WIDTH = 256
MIN_SHOT_S = 0.6  # PySceneDetect's command-line default minimum shot length
# "fast": our CPU detector set; "learned": TransNetV2 (torch); "classic": the detectors used
# before dissolves were detected (unchecked AdaptiveDetector + fades), kept for comparisons.
SHOT_MODES = ("fast", "learned", "classic")
_PRIORITY = {"fade": 0, "dissolve": 1, "hard": 2}  # which detector wins a shared transition

# CIELAB histogram bins for shot signatures: coarse in lightness (exposure changes within a
# scene), fine in the two colour axes (a location's palette). Chosen on the sample videos, where
# shots of one scene intersect at >= 0.48 and neighbouring scenes at <= 0.33.
SIGNATURE_BINS = (3, 8, 8)
SCENE_SIMILARITY = 0.40  # histogram intersection at or above which a shot joins the scene
SCENE_LOOKBACK = 3
MIN_SCENE_S = 3.0


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
        return [HardCutDetector(rate, min_shot_s, checked=False), FadeDetector(rate, min_shot_s)]
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
        return Cut(self._times[nearest], cut.kind)

    def _accept(self, found: list[Cut]) -> list[Cut]:
        """Keeps cuts that are after the first frame and not within min_shot_s of a known cut.

        When two detectors see the same transition, the one of higher priority wins (a fade
        over a dissolve over a hard cut): it knows the transition's kind and middle.
        """
        accepted = []
        for cut in sorted(found, key=lambda c: (c.time_s, _PRIORITY[c.kind])):
            if not self._times or cut.time_s <= self._times[0]:
                continue
            close = [c for c in self._cuts if abs(c.time_s - cut.time_s) < self.min_shot_s]
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


def shot_signature(bgr: np.ndarray) -> np.ndarray:
    """A normalised CIELAB histogram of a small BGR frame, shape (prod(SIGNATURE_BINS),)."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
    hist = cv2.calcHist([lab], [0, 1, 2], None, list(SIGNATURE_BINS), [0, 256, 0, 256, 0, 256])
    hist = hist.ravel().astype(np.float64)
    return hist / max(hist.sum(), 1.0)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram intersection of two normalised signatures, in [0, 1]."""
    return float(np.minimum(a, b).sum())


def group_scenes(
    starts: np.ndarray,
    ends: np.ndarray,
    signatures: np.ndarray,
    fade_before: np.ndarray,
    *,
    threshold: float = SCENE_SIMILARITY,
    lookback: int = SCENE_LOOKBACK,
    min_scene_s: float = MIN_SCENE_S,
) -> np.ndarray:
    """Assigns each shot a scene index; scenes are runs of consecutive shots.

    Args:
        starts, ends: shot start/end times in seconds, shape (S,).
        signatures: shot colour signatures, shape (S, B), rows summing to 1.
        fade_before: bool (S,), True where the shot begins after a fade through black.

    Returns:
        int array (S,) of scene indices, non-decreasing, starting at 0.
    """
    count = len(starts)
    if count == 0:
        return np.zeros(0, dtype=int)
    scene = np.zeros(count, dtype=int)
    for i in range(1, count):
        scene[i] = scene[i - 1] + 1
        # Link back to the furthest similar shot within reach, unless a fade lies between:
        # everything in between then belongs to that shot's scene (overlapping links).
        for j in range(max(0, i - lookback), i):
            if (
                not fade_before[j + 1 : i + 1].any()
                and similarity(signatures[i], signatures[j]) >= threshold
            ):
                scene[j : i + 1] = scene[j]
                break
    scene = np.unique(scene, return_inverse=True)[1]
    return _merge_short_scenes(scene, starts, ends, signatures, fade_before, min_scene_s)


def _scene_signature(scene, index, signatures, lengths) -> np.ndarray:
    mask = scene == index
    weights = lengths[mask] / max(lengths[mask].sum(), 1e-9)
    return (signatures[mask] * weights[:, None]).sum(axis=0)


def _merge_short_scenes(scene, starts, ends, signatures, fade_before, min_scene_s) -> np.ndarray:
    lengths = ends - starts
    while scene.max() > 0:
        durations = np.array([lengths[scene == s].sum() for s in range(scene.max() + 1)])
        shortest = int(np.argmin(durations))
        if durations[shortest] >= min_scene_s:
            break
        own = _scene_signature(scene, shortest, signatures, lengths)
        neighbours = [s for s in (shortest - 1, shortest + 1) if 0 <= s <= scene.max()]
        # A fade through black is a deliberate scene break: merge across it only if no choice.
        first_of = {s: int(np.flatnonzero(scene == s)[0]) for s in (shortest, *neighbours)}
        joinable = [
            s for s in neighbours if not fade_before[first_of[max(s, shortest)]]
        ] or neighbours
        target = max(
            joinable,
            key=lambda s: similarity(own, _scene_signature(scene, s, signatures, lengths)),
        )
        scene[scene == shortest] = target
        scene = np.unique(scene, return_inverse=True)[1]  # renumber 0..n-1, order kept
    return scene
