"""OpenTimelineIO: the film as one clip on a video track, a coloured marker per scene.

Times are frames at the film's rate counted from its first frame (source timecode 00:00:00:00).
Each marker spans its scene, is coloured by the scene's dominant emotion (OTIO's named marker
colours, the nearest to the report's palette) and named with its largest shares; the scene's
JSON sits in the marker's ``metadata["trajectory"]``.
"""

from __future__ import annotations

from pathlib import Path

from trajectory import __version__
from trajectory.emotions import COLORS
from trajectory.exports.base import ExportWriter, SceneMark, film_frames, film_rate, require
from trajectory.exports.base import scene_marks as _scene_marks
from trajectory.results import Analysis

# OTIO (and editors' EDL locators) know a fixed set of marker colours; the nearest to ours.
MARKER_COLORS = {
    "amusement": "YELLOW",
    "anger": "RED",
    "awe": "CYAN",
    "contentment": "GREEN",
    "disgust": "MAGENTA",
    "excitement": "ORANGE",
    "fear": "BLACK",
    "sadness": "BLUE",
}
NO_MODEL_COLOR = "WHITE"


def marker_name(scene: SceneMark) -> str:
    """``Scene 4 · fear 62% · sadness 20% · awe 9%``; ``Scene 4`` without a model."""
    shares = [f"{name} {share * 100:.0f}%" for name, share in scene.top_shares(3)]
    return " · ".join([f"Scene {scene.index}", *shares])


def media_reference(analysis: Analysis, otio, rate: float, step: int = 1):
    """An external reference to the source film, available from its first frame to its end
    (``step`` timecode frames per film frame)."""
    path = Path(analysis.video.path)
    target = path.resolve().as_uri() if path.is_absolute() else analysis.video.name
    available = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate),
        otio.opentime.RationalTime(film_frames(analysis) * step, rate),
    )
    return otio.schema.ExternalReference(target_url=target, available_range=available)


def scene_marker(scene: SceneMark, otio, rate: float):
    """A marker over ``scene`` (frames from the film start), coloured by its dominant emotion."""
    marker = otio.schema.Marker(
        name=marker_name(scene),
        marked_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(scene.first_frame, rate),
            otio.opentime.RationalTime(scene.frames, rate),
        ),
        color=MARKER_COLORS.get(scene.dominant, NO_MODEL_COLOR),
    )
    marker.metadata["trajectory"] = {
        **scene.as_json(),
        "color": COLORS.get(scene.dominant),  # the report's exact colour, for tools that can
    }
    return marker


def film_timeline(analysis: Analysis, scenes: list[SceneMark] | None = None):
    """The OTIO timeline: one video track, the whole film as one clip, a marker per scene.

    Args:
        scenes: the scenes to mark (default: all of ``analysis``).
    """
    otio = require("opentimelineio", "the OTIO export")
    scenes = _scene_marks(analysis) if scenes is None else scenes
    rate = float(film_rate(analysis.video.fps))
    reference = media_reference(analysis, otio, rate)
    clip = otio.schema.Clip(
        name=analysis.video.name,
        media_reference=reference,
        source_range=reference.available_range,
    )
    for scene in scenes:
        clip.markers.append(scene_marker(scene, otio, rate))
    track = otio.schema.Track(name="Film", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(name=analysis.video.title or analysis.video.name)
    timeline.tracks.append(track)
    timeline.metadata["trajectory"] = {
        "generator": f"trajectory {__version__}",
        "model": analysis.model,
        "film": {"distribution": analysis.film.distribution, "dominant": analysis.film.dominant},
    }
    return timeline


class OtioWriter(ExportWriter):
    """OpenTimelineIO JSON (``.otio``), readable by OTIO and editors with an OTIO importer."""

    format = "otio"
    filename = "timeline.otio"
    description = "OpenTimelineIO timeline: the film as one clip, a marker per scene"

    def render(self, analysis: Analysis) -> bytes:
        otio = require("opentimelineio", "the OTIO export")
        text = otio.adapters.write_to_string(film_timeline(analysis), "otio_json")
        return text.encode("utf-8")
