"""Which frames get scored, and the cheap per-frame statistics kept for every sampled frame.

Sampling is uniform on the presentation clock: grid points ``start + k / fps``, each taken by the
first frame presented at or after it. Shots shorter than the sampling interval can fall between
two grid points; their middle frame is added afterwards from a short buffer of recent frames,
so every shot has at least one scored frame.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np


class UniformSampler:
    """Picks frames at ``fps`` samples per second of presentation time, starting at ``start_s``."""

    def __init__(self, fps: float, start_s: float):
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"sampling fps must be a positive number, got {fps!r}")
        self.fps = fps
        self.start_s = start_s
        self._next_k = 0

    def wants(self, time_s: float) -> bool:
        """True when ``time_s`` is the first frame at or after the next grid point."""
        if time_s + 1e-9 < self.start_s + self._next_k / self.fps:
            return False
        # Skip every grid point this frame covers (frames longer than 1/fps, gaps in VFR).
        self._next_k = math.floor((time_s - self.start_s) * self.fps + 1e-9) + 1
        return True


@dataclass
class BufferedFrame:
    time_s: float
    small_bgr: np.ndarray  # the detection-size copy, (h, w, 3) uint8


class RecentFrames:
    """The small copies of the last ``horizon_s`` seconds of frames, for late middle-frame picks."""

    def __init__(self, horizon_s: float):
        self.horizon_s = horizon_s
        self._frames: deque[BufferedFrame] = deque()

    def add(self, time_s: float, small_bgr: np.ndarray) -> None:
        self._frames.append(BufferedFrame(time_s, small_bgr))
        while self._frames and self._frames[0].time_s < time_s - self.horizon_s:
            self._frames.popleft()

    def nearest(self, start_s: float, end_s: float) -> BufferedFrame | None:
        """The buffered frame in [start_s, end_s) nearest the middle of that span, if any."""
        middle = (start_s + end_s) / 2
        inside = [f for f in self._frames if start_s <= f.time_s < end_s]
        return min(inside, key=lambda f: abs(f.time_s - middle)) if inside else None


def brightness(bgr: np.ndarray) -> float:
    """Mean luma (Rec. 601) in [0, 1]."""
    return float(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).mean() / 255.0)


def colourfulness(bgr: np.ndarray) -> float:
    """Hasler & Suesstrunk's (2003) colourfulness metric: 0 for grey, ~100+ for vivid frames."""
    b, g, r = (bgr[..., i].astype(np.float32) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    spread = math.hypot(float(rg.std()), float(yb.std()))
    centre = math.hypot(float(rg.mean()), float(yb.mean()))
    return spread + 0.3 * centre


def thumbnail(bgr: np.ndarray, width: int = 192, quality: int = 80) -> bytes:
    """A small JPEG of the frame for the report's scene keyframes.

    Encoded once here; exports and reports pass the bytes on untouched, so re-rendering a
    report never re-compresses them.
    """
    height = max(2, round(bgr.shape[0] * width / bgr.shape[1]))
    small = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding of a keyframe failed")
    return data.tobytes()
