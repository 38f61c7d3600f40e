"""Shot-boundary detectors, one per file, behind one small interface (:class:`Detector`).

- :mod:`.hard`: hard cuts (PySceneDetect's ``AdaptiveDetector``), checked against flashes and
  lamps switched on;
- :mod:`.fade`: fades through black (PySceneDetect's ``ThresholdDetector``);
- :mod:`.gradual`: dissolves, by a mixture test on a tiny copy of each frame;
- :mod:`.learned`: TransNetV2 (imports torch; only when asked for).
"""

from trajectory.detectors.base import Cut, Detector, TinyFrames

__all__ = ["Cut", "Detector", "TinyFrames"]
