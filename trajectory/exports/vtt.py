"""WebVTT: scene chapters for HTML5 players, and a metadata track with each scene's JSON.

Cue times are the scene table's times (the film's presentation times, as the report uses them),
to the millisecond. Chapters read ``Scene 4 · fear 62% · 00:12:03`` (scene numbers are the
scene table's), or ``Scene 4 · 00:12:03`` without an emotion model.
"""

from __future__ import annotations

import json

from trajectory.exports.base import ExportWriter, SceneMark, scene_marks
from trajectory.results import Analysis


def vtt_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` as WebVTT writes cue times (hours always present)."""
    millis = max(round(seconds * 1000), 0)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _clock(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def chapter_title(scene: SceneMark) -> str:
    """``Scene 4 · fear 62% · 00:12:03``; the emotion part only with a model."""
    parts = [f"Scene {scene.index}"]
    if scene.dominant is not None and scene.confidence is not None:
        parts.append(f"{scene.dominant} {scene.confidence * 100:.0f}%")
    parts.append(_clock(scene.start_s))
    return " · ".join(parts)


def _escape(text: str) -> str:
    """Cue text may not hold a raw ``&`` or ``<``, nor the ``-->`` arrow."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "--&gt;")


def _document(cues: list[tuple[str, float, float, str]], note: str) -> bytes:
    lines = ["WEBVTT", "", "NOTE", note, ""]
    for ident, start, end, payload in cues:
        lines += [ident, f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}", payload, ""]
    return "\n".join(lines).encode("utf-8")


def _cue_span(scene: SceneMark) -> tuple[float, float]:
    # A cue must end after it starts; a zero-length scene still gets its millisecond.
    return scene.start_s, max(scene.end_s, scene.start_s + 0.001)


class ChaptersWriter(ExportWriter):
    """One chapter cue per scene, for ``<track kind="chapters">``, video.js and Plyr."""

    format = "vtt"
    filename = "chapters.vtt"
    description = "WebVTT chapters, one cue per scene"

    def render(self, analysis: Analysis) -> bytes:
        cues = [
            (f"scene-{s.index}", *_cue_span(s), _escape(chapter_title(s)))
            for s in scene_marks(analysis)
        ]
        return _document(cues, f"Scenes of {_escape(analysis.video.name)} found by trajectory.")


class MetadataWriter(ExportWriter):
    """One metadata cue per scene whose text is the scene's JSON (as in tags.json)."""

    format = "vtt-meta"
    filename = "scenes.vtt"
    description = "WebVTT metadata track, each scene's JSON as a cue"

    def render(self, analysis: Analysis) -> bytes:
        cues = []
        for scene in scene_marks(analysis):
            payload = json.dumps(scene.as_json(), separators=(",", ":"))
            # JSON allows "\u003e" for ">", so the payload can never hold the cue arrow.
            cues.append(
                (f"scene-{scene.index}", *_cue_span(scene), payload.replace(">", "\\u003e"))
            )
        note = "Metadata track: each cue's text is one scene as JSON (kind=metadata)."
        return _document(cues, note)
