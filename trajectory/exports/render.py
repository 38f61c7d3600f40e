"""Scene clips and highlight reels cut from the source film of an output folder.

:func:`make_clips` writes the N scenes where an emotion is strongest as MP4 files;
:func:`make_reel` writes one MP4 of the windows where its smoothed track peaks, with a JSON
beside it listing each segment's source span and score. Both read the saved outputs only
(no scoring, no analysis decode) and publish their files atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trajectory.emotions import EMOTIONS, canonical_emotion
from trajectory.errors import InputError, UsageError
from trajectory.export import read_outputs
from trajectory.exports import plan
from trajectory.exports.ffmpeg_graph import render
from trajectory.exports.source import SourceFilm, find_source
from trajectory.files import atomic_write
from trajectory.outdir import OutputFolder
from trajectory.results import Analysis


@dataclass
class Rendered:
    """What was written: the files, the spans in them, and the source they were cut from."""

    files: list[Path]
    cuts: list[plan.Cut]
    source: SourceFilm
    manifest: Path


def emotion_name(name: str) -> str:
    """The class name for ``--emotion`` (abbreviations such as "sad" allowed).

    Raises:
        UsageError: not one of the 8 classes.
    """
    try:
        return canonical_emotion(name)
    except ValueError:
        raise UsageError(
            f"--emotion: unknown emotion {name!r}; choose from {', '.join(EMOTIONS)}"
        ) from None


def scored_outputs(out_dir: Path, emotion: str) -> Analysis:
    """The saved analysis, checked to carry emotion scores.

    Raises:
        InputError: not an output folder, no scenes, or analysed without a model.
    """
    analysis = read_outputs(out_dir)
    if not np.isfinite(analysis.frames[emotion].to_numpy(dtype=float)).any():
        raise InputError(
            out_dir / "tags.json",
            f"has no emotion scores (analysed with --no-model): cannot rank scenes by {emotion}",
        )
    return analysis


def make_clips(
    out_dir: str | os.PathLike,
    emotion: str,
    top: int = 5,
    min_share: float = 0.0,
    pad_s: float = 0.0,
    video: str | os.PathLike | None = None,
    dest: str | os.PathLike | None = None,
) -> Rendered:
    """Cuts the ``top`` scenes with the largest share of ``emotion`` into ``dest`` (default
    ``out_dir/clips-<emotion>/``), replacing any earlier folder there as a whole.

    Files are ``NN_scene_SSSS.mp4`` (NN the rank) and ``clips.json``.
    """
    out_dir, emotion = Path(out_dir), emotion_name(emotion)
    analysis = scored_outputs(out_dir, emotion)
    scene_count = len(analysis.scenes)
    if top > scene_count:
        raise InputError(out_dir, f"--top {top} but the film has only {scene_count} scenes")
    source = find_source(analysis, out_dir, video)
    cuts = plan.plan_clips(analysis, emotion, top, min_share, pad_s, source.rate)
    if not cuts:
        raise InputError(out_dir, f"no scene has at least {min_share:.0%} {emotion}")
    target = Path(dest) if dest else out_dir / f"clips-{emotion}"
    # The clips folder is published as a whole, like an output folder: locked while this run
    # writes it, staged, then swapped in, so it never mixes two runs' clips.
    with OutputFolder(target).claim() as folder:
        staging = folder.staging()
        try:
            files = []
            for rank, cut in enumerate(cuts, start=1):
                name = f"{rank:02d}_scene_{cut.scene:04d}.mp4"
                render(source, [cut], staging / name)
                files.append(target / name)
            manifest = {
                **_header(analysis, source, emotion),
                "pad_s": pad_s,
                "min_share": min_share,
                "clips": [{"file": f.name, **c.as_json()} for f, c in zip(files, cuts)],
            }
            atomic_write(staging / "clips.json", _json(manifest))
            folder.publish(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Rendered(files, cuts, source, target / "clips.json")


def make_reel(
    out_dir: str | os.PathLike,
    emotion: str,
    seconds: float = 60.0,
    segment_s: float = 4.0,
    crossfade_s: float = 0.5,
    video: str | os.PathLike | None = None,
    dest: str | os.PathLike | None = None,
) -> Rendered:
    """Writes a reel of about ``seconds`` of the film's ``emotion`` peaks to ``dest`` (default
    ``out_dir/reel-<emotion>.mp4``) and its segment list beside it (same name, ``.json``)."""
    out_dir, emotion = Path(out_dir), emotion_name(emotion)
    analysis = scored_outputs(out_dir, emotion)
    if seconds > analysis.duration_s:
        raise InputError(
            out_dir, f"--seconds {seconds:g} is longer than the film ({analysis.duration_s:.1f} s)"
        )
    source = find_source(analysis, out_dir, video)
    fade_frames = round(crossfade_s * source.rate)
    fade_s = float(fade_frames / source.rate)
    options = plan.ReelOptions(seconds=seconds, segment_s=segment_s, crossfade_s=fade_s)
    cuts = plan.plan_reel(analysis, emotion, options, source.rate)
    if not cuts:
        raise InputError(out_dir, f"no stretch of the film is scored for {emotion}")
    target = Path(dest) if dest else out_dir / f"reel-{emotion}.mp4"
    render(source, cuts, target, crossfade_s=fade_s)
    manifest = {
        **_header(analysis, source, emotion),
        "duration_s": round(reel_duration(cuts, fade_s), 6),
        "segment_s": segment_s,
        "crossfade_s": round(fade_s, 6),
        "segments": [
            {"reel_start_s": round(start, 6), **cut.as_json()}
            for start, cut in zip(reel_starts(cuts, fade_s), cuts)
        ],
    }
    manifest_path = target.with_suffix(".json")
    atomic_write(manifest_path, _json(manifest))
    return Rendered([target], cuts, source, manifest_path)


def reel_starts(cuts: list[plan.Cut], crossfade_s: float) -> list[float]:
    """Where each segment begins in the reel (each overlaps the previous by the crossfade)."""
    starts, at = [], 0.0
    for cut in cuts:
        starts.append(at)
        at += cut.duration_s - crossfade_s
    return starts


def reel_duration(cuts: list[plan.Cut], crossfade_s: float) -> float:
    return sum(cut.duration_s for cut in cuts) - crossfade_s * max(len(cuts) - 1, 0)


def _header(analysis: Analysis, source: SourceFilm, emotion: str) -> dict:
    return {
        "source": str(source.path),
        "source_rate": f"{source.rate.numerator}/{source.rate.denominator}",
        "audio": source.has_audio,
        "emotion": emotion,
        "model": analysis.model,
    }


def _json(document: dict) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")
