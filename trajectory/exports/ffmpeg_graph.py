"""Cutting and joining spans of a film with an ffmpeg filter graph built by ffmpeg-python.

Each span is its own input, seeked a second early (fast, keyframe-based) and then cut exactly in
the graph: ``trim`` from half a frame before its first frame for its frame count, ``atrim`` to
the sample, timestamps reset. Spans join with ``xfade``/``acrossfade`` (or ``concat`` without a
crossfade). Everything is re-encoded (H.264 + AAC in MP4), so cuts need not fall on keyframes.

The ffmpeg binary is the one on PATH, else the one the ``imageio-ffmpeg`` wheel ships.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from trajectory.errors import InputError
from trajectory.exports.base import INSTALL_HINT, require
from trajectory.exports.plan import Cut
from trajectory.exports.source import SourceFilm
from trajectory.files import replacing

PREROLL_S = 1.0  # seek this much before a cut, then trim exactly in the graph
FFMPEG_HELP = (
    "no ffmpeg binary found: install ffmpeg on PATH (e.g. `apt install ffmpeg`) or "
    f"{INSTALL_HINT} (the imageio-ffmpeg wheel ships one)"
)
ENCODE = {
    "c:v": "libx264",
    "crf": 18,
    "preset": "veryfast",
    "pix_fmt": "yuv420p",
    "c:a": "aac",
    "b:a": "160k",
    "movflags": "+faststart",
    "f": "mp4",
}


def find_ffmpeg() -> str:
    """The ffmpeg executable: on PATH, else imageio-ffmpeg's, checked to run.

    Raises:
        InputError: neither is there (the CLI exits 2 and says how to get one).
    """
    candidates = [shutil.which("ffmpeg")]
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    for exe in filter(None, candidates):
        if _runs(exe):
            return exe
    raise InputError(None, FFMPEG_HELP)


def _runs(exe: str) -> bool:
    try:
        done = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def has_filter(exe: str, name: str) -> bool:
    """Whether this ffmpeg build has filter ``name`` (xfade needs ffmpeg 4.3 or later)."""
    done = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, timeout=60)
    return any(line.split()[1:2] == [name] for line in done.stdout.decode().splitlines())


def cut_streams(ffmpeg, source: SourceFilm, cut: Cut, audio: bool):
    """The video (and audio) stream of one span, starting at time 0.

    Returns:
        (video, audio or None) ffmpeg-python stream nodes.
    """
    at = cut.start_s - source.container_start_s  # where ffmpeg's -ss counts from
    seek = max(at - PREROLL_S, 0.0)
    options = {"ss": f"{seek:.6f}"} if seek > 0 else {}
    stream = ffmpeg.input(str(source.path), **options)
    offset = at - seek  # timestamps restart at the seek point
    video = stream.video.trim(
        start=f"{max(offset - source.frame_s / 2, 0.0):.6f}",
        # half a frame short of the next one: exactly cut.frames frames, whatever the rounding
        duration=f"{(cut.frames - 0.5) / cut.rate:.6f}",
    ).setpts("PTS-STARTPTS")
    if source.width % 2 or source.height % 2:  # H.264 4:2:0 needs even sizes
        video = video.filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2", 0, 0)
    if not audio:
        return video, None
    sound = (
        stream.audio.filter("atrim", start=f"{offset:.6f}", duration=f"{cut.duration_s:.6f}")
        .filter("asetpts", "PTS-STARTPTS")
        .filter("apad", whole_dur=f"{cut.duration_s:.6f}")  # a film whose sound ends early
    )
    return video, sound


def join(ffmpeg, parts: list, cuts: list[Cut], crossfade_s: float, audio: bool):
    """Joins the spans in order, crossfading ``crossfade_s`` (a whole number of frames)."""
    if len(parts) == 1:
        return parts[0]
    if crossfade_s <= 0:
        flat = [node for video, sound in parts for node in ((video, sound) if audio else (video,))]
        joined = ffmpeg.concat(*flat, v=1, a=1 if audio else 0).node
        return joined[0], (joined[1] if audio else None)
    video, sound = parts[0]
    elapsed = cuts[0].duration_s
    for (next_video, next_sound), cut in zip(parts[1:], cuts[1:]):
        video = ffmpeg.filter(
            [video, next_video],
            "xfade",
            transition="fade",
            duration=f"{crossfade_s:.6f}",
            offset=f"{elapsed - crossfade_s:.6f}",
        )
        if audio:
            sound = ffmpeg.filter([sound, next_sound], "acrossfade", d=f"{crossfade_s:.6f}")
        elapsed += cut.duration_s - crossfade_s
    return video, sound


def render(source: SourceFilm, cuts: list[Cut], target: Path, crossfade_s: float = 0.0) -> Path:
    """Renders ``cuts`` of ``source`` joined in order into the MP4 ``target``, atomically.

    Raises:
        InputError: no ffmpeg binary, or one without xfade when a crossfade is asked for.
        RuntimeError: ffmpeg failed (its last error line).
    """
    ffmpeg = require("ffmpeg", "rendering clips and reels (ffmpeg-python)")
    exe = find_ffmpeg()
    if crossfade_s > 0 and len(cuts) > 1 and not has_filter(exe, "xfade"):
        raise InputError(exe, "this ffmpeg has no xfade filter (needs 4.3+); " + INSTALL_HINT)
    audio = source.has_audio
    parts = [cut_streams(ffmpeg, source, cut, audio) for cut in cuts]
    video, sound = join(ffmpeg, parts, cuts, crossfade_s, audio)
    streams = [video, sound] if audio else [video]
    options = ENCODE if audio else {k: v for k, v in ENCODE.items() if not k.endswith(":a")}
    with replacing(target, suffix=".partial.mp4") as tmp:
        command = (
            ffmpeg.output(*streams, str(tmp), **options)
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .overwrite_output()
        )
        try:
            command.run(cmd=exe, capture_stdout=True, capture_stderr=True)
        except ffmpeg.Error as error:
            lines = error.stderr.decode("utf-8", "replace").strip().splitlines() or ["(no output)"]
            raise RuntimeError(f"ffmpeg failed on {source.path}: {lines[-1]}") from None
    return target
