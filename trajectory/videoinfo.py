"""What a video file declares about itself, as plain data (no PyAV), for results and reports.

:func:`trajectory.video.probe_video` fills it in; the exporters, the report and
``trajectory report`` read it without importing the decoder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video stream, plus what the first frame shows.

    ``width``/``height`` are the display size: non-square pixels stretched out and the
    container's rotation applied. ``duration_s`` is the declared duration (None when the
    container declares none); the decoded end time is known only after a full pass.
    """

    path: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # counter-clockwise quarter turns applied for display: 0, 1, 2 or 3
    fps: float  # average frame rate
    time_base: Fraction
    start_s: float  # presentation time of the first frame
    duration_s: float | None
    frame_count: int | None  # declared; None when the container does not say
    codec: str
    title: str | None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)
