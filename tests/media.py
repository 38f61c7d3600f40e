"""Synthetic test media with known answers: cut frames, exact timestamps, class patterns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class Shot:
    """A shot of ``frames`` frames drawn by ``draw(i, width, height) -> RGB uint8``."""

    frames: int
    draw: Callable[[int, int, int], np.ndarray]


def moving_pattern(seed: int) -> Callable[[int, int, int], np.ndarray]:
    """A smooth colourful pattern from ``seed`` that pans slowly (camera motion, no cut)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 216, size=(3,))
    freq = rng.uniform(1.0, 3.0, size=(2, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(3,))

    def draw(i: int, width: int, height: int) -> np.ndarray:
        y = np.linspace(0, 1, height)[:, None, None]
        x = np.linspace(0, 1, width)[None, :, None] + i * 0.004  # ~0.4% of the width a frame
        wave = np.sin(2 * np.pi * (freq[0] * x + freq[1] * y) + phase)
        return np.clip(base + 40 * wave, 0, 255).astype(np.uint8)

    return draw


def smooth_texture(seed: int, size: tuple[int, int], scale: int) -> np.ndarray:
    """A smooth random colour texture ``scale`` times ``size`` (width, height), uint8 BGR.

    Colour noise on a grid of 9 x 16 cells per ``scale``, bicubic-upsampled, around a random
    base colour: detail at every framing, for shot-detector tests that pan over it.
    """
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (9 * scale, 16 * scale, 3)).astype(np.float32)
    noise = cv2.resize(noise, (size[0] * scale, size[1] * scale), interpolation=cv2.INTER_CUBIC)
    base = rng.uniform(60, 190, 3).astype(np.float32)
    return np.clip(base + 45 * noise, 0, 255).astype(np.uint8)


def colour_gradient(seed: int, size: tuple[int, int], scale: int) -> np.ndarray:
    """Smooth colour bands ``scale`` times ``size`` (width, height), uint8 BGR: no fine detail.

    Each channel a sine of one oblique direction, a period of 1-3 frame widths, with its own
    phase (as in the throughput benchmark's film): a sky-like picture in which phase
    correlation finds no shift.
    """
    rng = np.random.default_rng(seed)
    height, width = size[1] * scale, size[0] * scale
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    a, b = rng.uniform(0, 2 * np.pi, 2)
    across = xx / rng.uniform(40, 120) + yy / rng.uniform(40, 120)
    channels = [127 + 120 * np.sin(across + phase) for phase in (a, b, a + b)]
    return np.clip(np.dstack(channels), 0, 255).astype(np.uint8)


def solid(rgb: Sequence[int]) -> Callable[[int, int, int], np.ndarray]:
    def draw(i: int, width: int, height: int) -> np.ndarray:
        return np.full((height, width, 3), rgb, dtype=np.uint8)

    return draw


def write_video(
    path: Path,
    shots: Sequence[Shot],
    *,
    fps: int = 25,
    size: tuple[int, int] = (160, 96),
    pts_of: Callable[[int], int] | None = None,
    time_base: Fraction | None = None,
) -> list[int]:
    """Encodes the shots with libx264 and returns the frame index where each shot starts.

    ``pts_of(i)`` with ``time_base`` gives frame i its own timestamp (variable frame rate).
    """
    width, height = size
    starts, total = [], 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "g": "12", "bf": "2"}
        if time_base is not None:
            stream.time_base = time_base
        for shot in shots:
            starts.append(total)
            for i in range(shot.frames):
                frame = av.VideoFrame.from_ndarray(shot.draw(i, width, height), format="rgb24")
                if pts_of is not None:
                    frame.pts, frame.time_base = pts_of(total), time_base
                for packet in stream.encode(frame):
                    container.mux(packet)
                total += 1
        for packet in stream.encode():
            container.mux(packet)
    return starts
