"""Fades through black: PySceneDetect's ``ThresholdDetector`` fed our frames.

The cut is placed where the fade-in rises out of the black (``fade_bias=1.0``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scenedetect import FrameTimecode, ThresholdDetector

from trajectory.detectors.base import Cut, Detector, timecode


class FadeDetector(Detector):
    """Fades to and from black, as PySceneDetect's ``detect-threshold`` finds them."""

    def __init__(self, rate: Fraction, min_shot_s: float):
        self._rate = rate
        self._detector = ThresholdDetector(min_scene_len=float(min_shot_s), fade_bias=1.0)
        self._last: FrameTimecode | None = None
        self.latency_frames = 2

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        self._last = timecode(time_s, self._rate)
        return [Cut(tc.seconds, "fade") for tc in self._detector.process_frame(self._last, frame)]

    def post_process(self) -> list[Cut]:
        if self._last is None:
            return []
        return [Cut(tc.seconds, "fade") for tc in self._detector.post_process(self._last)]
