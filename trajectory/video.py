"""Probe and decode videos with PyAV: display orientation, exact presentation times, one pass.

Frames come out in presentation order with their time read from the stream (``pts * time_base``),
never from ``index / fps``, so variable-frame-rate files and edit lists (a first frame at 1.075 s)
keep their true times. Memory does not grow with the film: frames are yielded one at a time and
converted to RGB only at the sizes a consumer asks for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from trajectory.errors import InputError
from trajectory.videoinfo import VideoInfo

# Metadata that is not UTF-8 (old muxers, Latin-1 titles) must not make a film unreadable. PyAV
# before 19 raises on it unless told to ignore the bad bytes; 19 dropped the option and keeps
# them as lone surrogates instead (see ``container_title``).
_OPEN_OPTIONS = {"metadata_errors": "ignore"} if int(av.__version__.split(".")[0]) < 19 else {}

__all__ = ["DecodedFrame", "FrameReader", "VideoInfo", "probe_video"]

log = logging.getLogger("trajectory")

# After this many consecutive packets that fail to decode, the rest of the stream is given up.
MAX_CONSECUTIVE_DECODE_ERRORS = 50
# A film is called truncated when its decoded end falls short of the declared duration by more
# than this (seconds, or share of the duration), or its frames short of the declared count by
# more than this share. Containers round durations and pad them with audio, so small gaps pass.
TRUNCATION_MIN_S = 1.0
TRUNCATION_SHARE = 0.05


class Scalers:
    """One swscale context per output size and format, kept for the whole pass.

    ``VideoFrame.to_ndarray(width=..)`` builds (and threads) a fresh context for every frame;
    reusing one per target makes the small copy less than half as costly, which cut the decode
    floor's wall time at 1080p by about a quarter. Each is single-threaded: the decoder's own
    threads already fill the cores.
    """

    def __init__(self) -> None:
        self._by_target: dict[tuple[int, int, str], VideoReformatter] = {}

    def to_ndarray(self, frame: av.VideoFrame, width: int, height: int, fmt: str) -> np.ndarray:
        scaler = self._by_target.get((width, height, fmt))
        if scaler is None:
            scaler = self._by_target[(width, height, fmt)] = VideoReformatter()
        scaled = scaler.reformat(
            frame, width=width, height=height, format=fmt, interpolation="AREA", threads=1
        )
        return scaled.to_ndarray()


@dataclass
class DecodedFrame:
    """One decoded frame with its exact presentation time and how long it is shown."""

    index: int
    time_s: float
    frame: av.VideoFrame
    rotation: int
    scalers: Scalers = field(default_factory=Scalers, repr=False)

    def to_array(self, width: int, height: int, fmt: str = "rgb24") -> np.ndarray:
        """Returns the frame at display ``width`` x ``height`` as (height, width, 3) uint8.

        Scaling happens in swscale before the rotation, so a 1080p frame costs no more than
        its small copy. ``fmt`` is ``"rgb24"`` or ``"bgr24"`` (what OpenCV-based code expects).
        """
        coded_w, coded_h = (height, width) if self.rotation % 2 else (width, height)
        array = self.scalers.to_ndarray(self.frame, coded_w, coded_h, fmt)
        if self.rotation:
            array = np.ascontiguousarray(np.rot90(array, self.rotation))
        return array


def _open(path: str) -> av.container.InputContainer:
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    if os.path.isdir(path):
        raise InputError(path, "is a directory, not a video file")
    if os.path.getsize(path) == 0:
        raise InputError(path, "empty file")
    try:
        return av.open(path, **_OPEN_OPTIONS)
    except av.error.FFmpegError as error:
        raise InputError(path, f"not a readable video ({error.strerror or error})") from None


def container_title(container: av.container.InputContainer) -> str | None:
    """The container's title tag, with bytes that are not UTF-8 dropped, on every PyAV version.

    PyAV 19 hands such bytes over as lone surrogates, which no UTF-8 file (tags.json, the
    report) can hold; earlier versions, opened with ``metadata_errors="ignore"``, drop them.
    """
    title = container.metadata.get("title")
    if not title:
        return None
    return title.encode("utf-8", "surrogateescape").decode("utf-8", "ignore") or None


def _video_stream(path: str, container: av.container.InputContainer) -> av.VideoStream:
    streams = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not streams:
        if container.streams.video:
            raise InputError(path, "no video stream (audio file with cover art only)")
        if container.streams.audio:
            raise InputError(path, "no video stream (audio only)")
        raise InputError(path, "no video stream")
    return streams[0]


def _is_still_image(container: av.container.InputContainer) -> bool:
    """FFmpeg's image demuxers (png_pipe, jpeg_pipe, image2, ...) read pictures, not films."""
    names = container.format.name.split(",")
    return any(name == "image2" or name.endswith("_pipe") for name in names)


def _rotation_quarter_turns(frame: av.VideoFrame) -> int:
    # PyAV reports the display matrix angle (counter-clockwise degrees): -90 means the frame
    # must be turned a quarter clockwise to be seen upright. np.rot90 turns counter-clockwise.
    degrees = getattr(frame, "rotation", 0) or 0
    return round(degrees / 90) % 4


def _display_size(frame: av.VideoFrame, stream: av.VideoStream, turns: int) -> tuple[int, int]:
    width, height = frame.width, frame.height
    sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        width = int(round(width * float(sar) / 2)) * 2  # even, like players do
    return (height, width) if turns % 2 else (width, height)


def _declared_duration(container: av.container.InputContainer, stream: av.VideoStream):
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Reads the stream parameters and decodes the first frame to learn its orientation and time.

    Raises:
        InputError: missing, empty or unreadable file, no video stream, or no decodable frame.
    """
    path = os.fspath(path)
    with _open(path) as container:
        stream = _video_stream(path, container)
        if _is_still_image(container):
            codec = stream.codec_context.name
            raise InputError(path, f"a still image ({codec}), not a film")
        first = next(_decode(path, container, stream, _ErrorCount()), None)
        if first is None:
            raise InputError(path, "the video stream has no decodable frame")
        turns = _rotation_quarter_turns(first)
        width, height = _display_size(first, stream, turns)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        return VideoInfo(
            path=path,
            width=width,
            height=height,
            coded_width=first.width,
            coded_height=first.height,
            rotation=turns,
            fps=float(rate) if rate else 0.0,
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000),
            start_s=float(first.time or 0.0),
            duration_s=_declared_duration(container, stream),
            frame_count=stream.frames or None,
            codec=stream.codec_context.name,
            title=container_title(container),
        )


class _ErrorCount:
    def __init__(self) -> None:
        self.count = 0


def _decode(path, container, stream, errors: _ErrorCount) -> Iterator[av.VideoFrame]:
    """Yields decoded frames, counting packets that fail instead of stopping at the first."""
    consecutive = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
            consecutive = 0
        except av.error.FFmpegError as error:
            errors.count += 1
            consecutive += 1
            log.debug("%s: decode error at packet pts=%s: %s", path, packet.pts, error)
            if consecutive >= MAX_CONSECUTIVE_DECODE_ERRORS:
                log.warning("%s: stream unreadable after %d errors; stopping", path, errors.count)
                return
            continue
        yield from frames


class FrameReader:
    """Iterates over a video's frames once, in presentation order, with exact times.

    After the iteration ``end_s`` is the time at which the last frame stops being shown, and
    ``decode_errors`` the number of packets that could not be decoded.

    Example::

        reader = FrameReader(info)
        for frame in reader:
            small = frame.to_array(256, 144)
    """

    def __init__(self, info: VideoInfo, threads: int = 0):
        self.info = info
        self.threads = threads
        self.decode_errors = 0
        self.frames_read = 0
        self.end_s: float | None = None
        self.skipped_out_of_order = 0  # frames whose time was not after the previous frame's
        self.truncated = False  # decoding ended well before the declared duration or frame count

    def __iter__(self) -> Iterator[DecodedFrame]:
        path = self.info.path
        errors = _ErrorCount()
        scalers = Scalers()
        with _open(path) as container:
            stream = _video_stream(path, container)
            stream.thread_type = "AUTO"  # frame + slice threads: decoding is the CPU floor
            if self.threads:
                stream.thread_count = self.threads
            previous: DecodedFrame | None = None
            nominal = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
            try:
                for raw in _decode(path, container, stream, errors):
                    time_s = _frame_time(raw, previous, nominal)
                    if previous is not None and time_s <= previous.time_s:
                        self.skipped_out_of_order += 1  # duplicate or broken timestamp
                        continue
                    if previous is not None:
                        nominal = time_s - previous.time_s  # last frame lasts like its neighbour
                    previous = DecodedFrame(
                        self.frames_read, time_s, raw, self.info.rotation, scalers
                    )
                    self.frames_read += 1
                    yield previous
            finally:
                self.decode_errors = errors.count
            if previous is not None:
                declared = previous.frame.duration
                shown = float(declared * stream.time_base) if declared else nominal
                self.end_s = previous.time_s + shown
        if errors.count:
            log.warning(
                "%s: %d packet(s) could not be decoded; kept the %d frames that did",
                path,
                errors.count,
                self.frames_read,
            )
        self._report_losses()

    def _report_losses(self) -> None:
        """Warns about frames lost without a decode error: a cut-off file, timestamps gone back.

        With codec threading, FFmpeg can lose the error of a file that simply ends early (an MP4
        with its index at the front, cut in half, decodes 58 of 144 frames "cleanly"), so the
        decoded end is checked against what the container declares.
        """
        path, info = self.info.path, self.info
        if self.skipped_out_of_order:
            log.warning(
                "%s: %d frame(s) skipped: their timestamps went back to before earlier frames",
                path,
                self.skipped_out_of_order,
            )
        if self.end_s is None:
            return
        declared_end = info.start_s + info.duration_s if info.duration_s else None
        frames_seen = self.frames_read + self.skipped_out_of_order
        short_in_time = declared_end is not None and declared_end - self.end_s > max(
            TRUNCATION_MIN_S, TRUNCATION_SHARE * info.duration_s
        )
        short_in_frames = bool(info.frame_count) and info.frame_count - frames_seen > max(
            2, TRUNCATION_SHARE * info.frame_count
        )
        self.truncated = short_in_time or short_in_frames
        if self.truncated:
            log.warning(
                "%s: truncated: decoded %d frames up to %.3f s, but the file declares %s",
                path,
                frames_seen,
                self.end_s,
                " and ".join(
                    text
                    for text in (
                        f"{info.duration_s:.3f} s" if info.duration_s else "",
                        f"{info.frame_count} frames" if info.frame_count else "",
                    )
                    if text
                ),
            )


def _frame_time(frame: av.VideoFrame, previous: DecodedFrame | None, nominal: float) -> float:
    if frame.time is not None:
        return float(frame.time)
    # No timestamp at all (rare, raw streams): continue the clock at the nominal rate.
    return 0.0 if previous is None else previous.time_s + nominal
