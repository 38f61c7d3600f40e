"""Exports for players and editors, looked up by format name (whisper's ``get_writer`` model).

Adding a format is one module with an :class:`~trajectory.exports.base.ExportWriter` subclass and
one line in ``WRITERS``. Exports read an :class:`~trajectory.results.Analysis` and never decode.
"""

from __future__ import annotations

import os
from pathlib import Path

from trajectory.errors import UsageError
from trajectory.exports.base import ExportWriter
from trajectory.exports.edl import EdlWriter
from trajectory.exports.otio import OtioWriter
from trajectory.exports.vtt import ChaptersWriter, MetadataWriter
from trajectory.files import atomic_write
from trajectory.results import Analysis

WRITERS: dict[str, type[ExportWriter]] = {
    writer.format: writer for writer in (ChaptersWriter, MetadataWriter, OtioWriter, EdlWriter)
}


def parse_formats(text: str) -> list[str]:
    """``"vtt,otio"`` -> ["vtt", "otio"]; ``"all"`` is every format.

    Raises:
        UsageError: an unknown format name.
    """
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if "all" in names:
        return list(WRITERS)
    unknown = [name for name in names if name not in WRITERS]
    if unknown or not names:
        raise UsageError(
            f"unknown export format {', '.join(unknown) or repr(text)}; "
            f"choose from {', '.join(WRITERS)} or all"
        )
    return list(dict.fromkeys(names))


def get_writer(name: str) -> ExportWriter:
    """The writer for format ``name`` (see ``WRITERS``)."""
    return WRITERS[parse_formats(name)[0]]()


def render_exports(analysis: Analysis, formats: list[str]) -> dict[str, bytes]:
    """File name -> content for each format, all rendered before anything is written."""
    return {WRITERS[name].filename: WRITERS[name]().render(analysis) for name in formats}


def write_exports(analysis: Analysis, formats: list[str], out_dir: str | os.PathLike) -> list[Path]:
    """Renders every format first (a failure writes nothing), then writes each atomically."""
    files = render_exports(analysis, formats)
    paths = []
    for name, data in files.items():
        atomic_write(Path(out_dir) / name, data)
        paths.append(Path(out_dir) / name)
    return paths
