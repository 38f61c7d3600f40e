"""Time as a type at the edges: seconds inside, "HH:MM:SS.mmm" only when written out."""

from __future__ import annotations

import math
import re

_TIMECODE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def format_timecode(seconds: float) -> str:
    """Formats seconds as ``HH:MM:SS.mmm`` (rounded to the millisecond)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a timecode")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def parse_timecode(text: str) -> float:
    """Parses ``HH:MM:SS.mmm``, ``MM:SS`` or plain seconds into seconds."""
    text = text.strip()
    match = _TIMECODE.match(text)
    if match is None:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"not a timecode: {text!r}") from None
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
