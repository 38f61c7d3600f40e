"""CMX 3600 EDL through OTIO's adapter: one event per scene, a coloured locator at each.

Each event cuts the film at its scene's first and last frame, so an editor that imports the EDL
gets the film split into scenes, with a ``* LOC:`` locator naming the scene's emotions (Avid,
Resolve and Premiere read these as markers). Timecodes count frames at the film's rate from its
first frame (00:00:00:00); at 29.97 and 59.94 they are drop-frame (``;``), as the ``FCM`` line says.
Films at 12 or 15 fps are counted at 24 or 30 (two timecode frames per film frame).
EDLs are ASCII: locator names drop the middle dot and reel names keep letters and digits only.
"""

from __future__ import annotations

import re
from fractions import Fraction

from trajectory.errors import InputError
from trajectory.exports.base import ExportWriter, SceneMark, film_rate, require, scene_marks
from trajectory.exports.otio import MARKER_COLORS, NO_MODEL_COLOR, media_reference
from trajectory.results import Analysis

DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
# The rates SMPTE timecode (and OTIO's timecode functions) know.
TIMECODE_RATES = tuple(Fraction(n, d) for n, d in [(24000, 1001), (24, 1), (25, 1), (30000, 1001)])
TIMECODE_RATES += tuple(Fraction(n, d) for n, d in [(30, 1), (48000, 1001), (48, 1), (50, 1)])
TIMECODE_RATES += (Fraction(60000, 1001), Fraction(60, 1))
REEL_LENGTH = 8  # the CMX 3600 reel field


def timecode_rate(rate: Fraction) -> tuple[Fraction, int]:
    """The timecode rate for a film at ``rate`` and how many timecode frames one film frame is.

    A film at a timecode rate keeps it; 12 or 15 fps count at 24 or 30 (each frame two timecode
    frames), so every cut still falls on the film's own frames.

    Raises:
        InputError: no timecode rate is a whole multiple of ``rate``.
    """
    for step in range(1, 11):
        if rate * step in TIMECODE_RATES:
            return rate * step, step
    raise InputError(
        None,
        f"scenes.edl: no SMPTE timecode rate is a whole multiple of {float(rate):g} fps; "
        "use the otio export instead",
    )


def reel_name(file_name: str) -> str:
    """Up to 8 letters and digits of the file's stem, upper case ("AX" when none are left)."""
    stem = file_name.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9]", "", stem).upper()[:REEL_LENGTH] or "AX"


def locator_name(scene: SceneMark) -> str:
    """``SCENE 4 FEAR 62% SADNESS 20% AWE 9%`` (ASCII, as EDL comments must be)."""
    shares = [f"{name} {share * 100:.0f}%" for name, share in scene.top_shares(3)]
    return " ".join([f"Scene {scene.index}", *shares]).upper()


def scene_timeline(analysis: Analysis, otio):
    """An OTIO timeline whose video track holds one clip per scene, back to back."""
    rate_fraction, step = timecode_rate(film_rate(analysis.video.fps))
    rate = float(rate_fraction)
    track = otio.schema.Track(name="Scenes", kind=otio.schema.TrackKind.Video)
    reel = reel_name(analysis.video.name)
    for scene in scene_marks(analysis):
        start = otio.opentime.RationalTime(scene.first_frame * step, rate)
        clip = otio.schema.Clip(
            name=analysis.video.name,
            media_reference=media_reference(analysis, otio, rate, step),
            source_range=otio.opentime.TimeRange(
                start, otio.opentime.RationalTime(scene.frames * step, rate)
            ),
        )
        clip.metadata["cmx_3600"] = {"reel": reel}
        clip.markers.append(
            otio.schema.Marker(
                name=locator_name(scene),
                marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(0, rate)),
                color=MARKER_COLORS.get(scene.dominant, NO_MODEL_COLOR),
            )
        )
        track.append(clip)
    timeline = otio.schema.Timeline(name=_ascii(analysis.video.title or analysis.video.name))
    timeline.tracks.append(track)
    return timeline


def _ascii(text: str) -> str:
    return re.sub(r"[^\x20-\x7e]", "_", text).strip() or "trajectory"


class EdlWriter(ExportWriter):
    """CMX 3600 EDL, one cut event per scene with a locator."""

    format = "edl"
    filename = "scenes.edl"
    description = "CMX 3600 EDL: one event per scene, a locator naming its emotions"

    def render(self, analysis: Analysis) -> bytes:
        otio = require("opentimelineio", "the EDL export")
        require("otio_cmx3600_adapter", "the EDL export")
        rate, _ = timecode_rate(film_rate(analysis.video.fps))
        text = otio.adapters.write_to_string(
            scene_timeline(analysis, otio), "cmx_3600", rate=float(rate), style="avid"
        )
        # The adapter writes no FCM line; editors read it to tell drop-frame timecode apart.
        fcm = "FCM: DROP FRAME" if rate in DROP_FRAME_RATES else "FCM: NON-DROP FRAME"
        head, _, events = text.partition("\n\n")
        return f"{head}\n{fcm}\n\n{events}".encode("ascii", "replace")
