"""The source film of an output folder, found and probed for cutting (clips and reel).

tags.json records where the film was analysed (``video.path``) and its file name
(``video.file``). Clips and the reel look at ``--video PATH`` when given, else ``video.path``,
else a file of that name beside the output folder or inside it; the film found must have the
analysed length, so a different film of the same name is refused rather than cut wrongly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from trajectory.errors import InputError
from trajectory.exports.base import film_rate
from trajectory.results import Analysis

# The film found may differ from the analysed length by this much (containers round).
LENGTH_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class SourceFilm:
    """What cutting needs to know about the source file.

    ``container_start_s`` is where ffmpeg's ``-ss 0`` lands (the container's start time);
    scene times are presentation times, so a cut at time t seeks to t - container_start_s.
    """

    path: Path
    rate: Fraction  # the video stream's frame rate
    container_start_s: float
    duration_s: float | None
    has_audio: bool
    width: int
    height: int

    @property
    def frame_s(self) -> float:
        return float(1 / self.rate)


def source_candidates(analysis: Analysis, out_dir: Path, override: Path | None) -> list[Path]:
    """Where to look for the film, in order (``override`` alone when given)."""
    if override is not None:
        return [Path(override)]
    name = analysis.video.name
    candidates = [Path(analysis.video.path), out_dir.resolve().parent / name, out_dir / name]
    return list(dict.fromkeys(candidates))


def find_source(analysis: Analysis, out_dir: str | os.PathLike, override=None) -> SourceFilm:
    """The first candidate that exists, probed and checked against the analysis.

    Raises:
        InputError: no candidate exists, it is not a video, or it is not the analysed film.
    """
    out_dir = Path(out_dir)
    candidates = source_candidates(analysis, out_dir, override)
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        looked = ", ".join(str(path) for path in candidates)
        raise InputError(out_dir, f"source film not found (looked at {looked}); pass --video PATH")
    source = probe_source(found)
    _check_matches(source, analysis)
    return source


def probe_source(path: Path) -> SourceFilm:
    """Reads the stream parameters ffmpeg's cutting depends on.

    Raises:
        InputError: unreadable, or no video stream.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(path, "no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            start = container.start_time / av.time_base if container.start_time else 0.0
            duration = container.duration / av.time_base if container.duration else None
            return SourceFilm(
                path=path.resolve(),
                rate=Fraction(rate) if rate else film_rate(25.0),
                container_start_s=float(start),
                duration_s=duration,
                has_audio=bool(container.streams.audio),
                width=stream.codec_context.width,
                height=stream.codec_context.height,
            )
    except av.error.FFmpegError as error:
        raise InputError(path, f"not a readable video ({error.strerror or error})") from None


def _check_matches(source: SourceFilm, analysis: Analysis) -> None:
    if source.duration_s is None:
        return
    # The container ends where its longest stream does (audio may run a little past the video).
    found_end = source.container_start_s + source.duration_s
    if abs(found_end - analysis.end_s) > max(LENGTH_TOLERANCE_S, 0.02 * analysis.duration_s):
        raise InputError(
            source.path,
            f"ends at {found_end:.2f} s but the analysed film ended at {analysis.end_s:.2f} s: "
            "not the analysed film (pass the right one with --video PATH)",
        )
