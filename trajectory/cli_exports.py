"""The export commands, which read a finished output folder: ``trajectory export``, ``clips``
and ``reel``.

Registered on the ``trajectory`` group by :mod:`trajectory.cli`; the exporters and ffmpeg are
imported only when a command runs (never torch).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from trajectory.cli_common import guarded, setup_logging

_EMOTION_OPTION = click.option(
    "--emotion", required=True, help="One of the 8 classes (amusement ... sadness)."
)
_VIDEO_OPTION = click.option(
    "--video",
    type=click.Path(path_type=Path),
    default=None,
    help="The source film (default: tags.json video.path, else OUT_DIR/../<file name>).",
)


def _dest_option(help_text: str):
    """--out DEST, where a command writes (its default said in ``help_text``)."""
    return click.option(
        "--out", "dest", type=click.Path(path_type=Path), default=None, help=help_text
    )


def parse_export_option(text: str | None) -> list[str]:
    """``--format``/``--export`` text -> format names; none for an empty or missing value.

    Raises:
        UsageError: an unknown format name.
    """
    if not text:
        return []
    from trajectory.exports import parse_formats

    return parse_formats(text)


@click.command("export")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    required=True,
    metavar="FORMATS",
    help="Comma-separated: vtt (chapters), vtt-meta (scene JSON track), otio, edl, or all.",
)
@_dest_option("Folder for the exported files (default: OUT_DIR).")
def export_command(out_dir, formats, dest):
    """Export OUT_DIR's scenes for players and editors, from the saved outputs (no decoding)."""
    setup_logging(False)
    guarded(partial(_export, out_dir, formats, dest or out_dir))


def _export(out_dir: Path, formats: str, dest: Path) -> None:
    """Writes the chosen exports of ``out_dir``'s saved outputs into ``dest``."""
    from trajectory.export import read_outputs
    from trajectory.exports import write_exports

    names = parse_export_option(formats)
    for path in write_exports(read_outputs(out_dir), names, dest):
        click.echo(f"trajectory: wrote {path}", err=True)


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@_EMOTION_OPTION
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Only scenes where the emotion holds at least this share.",
)
@click.option(
    "--pad", type=click.FloatRange(min=0), default=0.0, show_default=True, help="Seconds added."
)
@_VIDEO_OPTION
@_dest_option("Folder for the clips (default: OUT_DIR/clips-<emotion>/).")
def clips(out_dir, emotion, top, min_confidence, pad, video, dest):
    """Cut the --top scenes where EMOTION is strongest from the source film as MP4 clips."""
    setup_logging(False)
    options = dict(top=top, min_share=min_confidence, pad_s=pad, video=video, dest=dest)
    guarded(partial(_clips, out_dir, emotion, options))


def _clips(out_dir: Path, emotion: str, options: dict) -> None:
    """Cuts the clips (``options``: make_clips' keywords) and says how many scenes qualified."""
    from trajectory.exports.render import make_clips

    done = make_clips(out_dir, emotion, **options)
    if len(done.cuts) < options["top"]:
        click.echo(f"trajectory: only {len(done.cuts)} scenes qualify", err=True)
    click.echo(f"trajectory: wrote {len(done.files)} clips to {done.manifest.parent}", err=True)


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@_EMOTION_OPTION
@click.option("--seconds", type=click.FloatRange(min=1), default=60.0, show_default=True)
@click.option(
    "--segment",
    type=click.FloatRange(min=1),
    default=4.0,
    show_default=True,
    help="Length of one window around a peak, in seconds.",
)
@click.option(
    "--crossfade", type=click.FloatRange(min=0), default=0.5, show_default=True, help="Seconds."
)
@_VIDEO_OPTION
@_dest_option("The reel's MP4 (default: OUT_DIR/reel-<emotion>.mp4; its JSON beside it).")
def reel(out_dir, emotion, seconds, segment, crossfade, video, dest):
    """A highlight reel of the moments where EMOTION peaks, in film order, with crossfades."""
    setup_logging(False)
    options = dict(
        seconds=seconds, segment_s=segment, crossfade_s=crossfade, video=video, dest=dest
    )
    guarded(partial(_reel, out_dir, emotion, options))


def _reel(out_dir: Path, emotion: str, options: dict) -> None:
    """Renders the reel (``options``: make_reel's keywords) and says where it went."""
    from trajectory.exports.render import make_reel

    done = make_reel(out_dir, emotion, **options)
    click.echo(
        f"trajectory: wrote {done.files[0]} ({len(done.cuts)} segments) and {done.manifest}",
        err=True,
    )
