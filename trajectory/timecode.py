"""Time as a type at the edges: seconds inside, "HH:MM:SS.mmm" only when written out."""

from __future__ import annotations

import math


def format_timecode(seconds: float) -> str:
    """Formats seconds as ``HH:MM:SS.mmm`` (rounded to the millisecond)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a timecode")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
