"""Constant black bars (letterbox, pillarbox), found once before the pass, as ffmpeg's cropdetect.

Up to a dozen frames spread over the film (one per ``SECONDS_PER_SAMPLE``, at least three) are
read by seeking; each seek decodes one keyframe, so the cost does not grow with the film. In
each, a row or column is black when its mean luma is at most ``BLACK_LIMIT`` (cropdetect's
default limit, 24, above black); a bar is what is black in every inspected frame, so one dark
scene cannot crop the picture. Frames that are black all over (fades) say nothing and are
skipped. Bars under ``MIN_BAR`` of the picture are ignored: a dark line or two at an encoded
edge is not a letterbox.

The crop is in display coordinates (after rotation and pixel aspect). Everything downstream of
the decoder (brightness and colour statistics, shot signatures, keyframes, the model input)
sees the cropped picture: :func:`cropped_array` scales the whole frame so that the crop lands at
the size asked for, then slices it out, which costs no more than scaling the frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import av
import numpy as np

from trajectory.video import DecodedFrame, VideoInfo, _decode, _ErrorCount, _open, _video_stream

log = logging.getLogger("trajectory")

CROP_SAMPLES = 12  # at most this many frames inspected, spread from 5% to 95% of the film
SECONDS_PER_SAMPLE = 10.0  # short films get fewer: a 1080p keyframe costs ~25 ms to decode
PROFILE_WIDTH = 640  # frames are inspected at most this wide (bars to ~0.2% of the picture)
BLACK_LIMIT = 24  # mean luma (0-255, full range) at or under which a row/column is black
MIN_BAR = 0.01  # bars thinner than this fraction of the picture are ignored
MIN_CONTENT_FRAMES = 2  # inspected frames with a picture needed before anything is cropped


@dataclass(frozen=True)
class Crop:
    """The picture inside the bars, in display pixels: ``x, y`` top-left, ``width x height``."""

    x: int
    y: int
    width: int
    height: int

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


def _positions(info: VideoInfo, count: int) -> list[float]:
    if not info.duration_s or info.duration_s <= 0:
        return [info.start_s]
    count = int(np.clip(round(info.duration_s / SECONDS_PER_SAMPLE), 3, count))
    return [info.start_s + info.duration_s * (0.05 + 0.9 * k / (count - 1)) for k in range(count)]


def _luma_frames(info: VideoInfo, count: int) -> list[np.ndarray]:
    """Display-oriented grey (H, W) uint8 frames, one per keyframe reached by seeking."""
    frames, seen = [], set()
    with _open(info.path) as container:
        stream = _video_stream(info.path, container)
        for position in _positions(info, count):
            try:
                container.seek(
                    int(position / stream.time_base), stream=stream, backward=True, any_frame=False
                )
            except av.error.FFmpegError:
                continue
            frame = next(_decode(info.path, container, stream, _ErrorCount()), None)
            if frame is None or frame.pts in seen:
                continue
            seen.add(frame.pts)
            width = min(frame.width, PROFILE_WIDTH)
            height = max(2, round(frame.height * width / frame.width))
            grey = frame.to_ndarray(format="gray", width=width, height=height)
            frames.append(np.rot90(grey, info.rotation) if info.rotation else grey)
    return frames


def _bars(profile: np.ndarray) -> tuple[int, int] | None:
    """(leading, trailing) black lines of a mean-luma profile; None when all of it is black."""
    lit = np.flatnonzero(profile > BLACK_LIMIT)
    if len(lit) == 0:
        return None
    return int(lit[0]), int(len(profile) - 1 - lit[-1])


def bars_of(frames: list[np.ndarray]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) lines black in every frame that shows a picture.

    Args:
        frames: grey (H, W) uint8 frames of one size.

    Returns:
        The bars in lines of that size, or None when fewer than MIN_CONTENT_FRAMES show anything.
    """
    found = []
    for grey in frames:
        rows = _bars(grey.mean(axis=1))
        cols = _bars(grey.mean(axis=0))
        if rows is not None and cols is not None:
            found.append((*rows, *cols))
    if len(found) < MIN_CONTENT_FRAMES:
        return None
    return tuple(int(v) for v in np.min(found, axis=0))


def detect_crop(info: VideoInfo, samples: int = CROP_SAMPLES) -> Crop | None:
    """The picture inside constant black bars, or None when there are none (or it is unsure)."""
    frames = _luma_frames(info, samples)
    bars = bars_of(frames)
    if bars is None:
        return None
    height, width = frames[0].shape
    top, bottom, left, right = (
        v if v >= MIN_BAR * size else 0 for v, size in zip(bars, (height, height, width, width))
    )
    if not (top or bottom or left or right):
        return None
    # Back to display pixels (the grey frames are coded-size), kept even like cropdetect's.
    sx, sy = info.width / width, info.height / height
    x0, y0 = _even(left * sx), _even(top * sy)
    x1, y1 = info.width - _even(right * sx), info.height - _even(bottom * sy)
    crop = Crop(x0, y0, x1 - x0, y1 - y0)
    log.info("%s: black bars; the picture is %s", info.path, crop)
    return crop


def _even(value: float) -> int:
    """Rounded up to even, so the crop never keeps a line of the bar."""
    return int(np.ceil(value / 2) * 2)


def cropped_array(
    frame: DecodedFrame, crop: Crop | None, info: VideoInfo, width: int, height: int, fmt: str
) -> np.ndarray:
    """The cropped picture of ``frame`` at ``width x height``, (height, width, 3) uint8.

    The whole frame is scaled so that the crop comes out at the asked size, then sliced: one
    swscale call, as without a crop.
    """
    if crop is None:
        return frame.to_array(width, height, fmt=fmt)
    full_w = max(width, round(width * info.width / crop.width))
    full_h = max(height, round(height * info.height / crop.height))
    x0 = min(round(crop.x * full_w / info.width), full_w - width)
    y0 = min(round(crop.y * full_h / info.height), full_h - height)
    array = frame.to_array(full_w, full_h, fmt=fmt)
    return np.ascontiguousarray(array[y0 : y0 + height, x0 : x0 + width])
