"""The catalogue commands: ``trajectory catalog``, ``query`` and ``similar``.

Registered on the ``trajectory`` group by :mod:`trajectory.cli`; the catalogue code itself is
imported only when a command runs.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from trajectory.cli_common import (
    device_options,
    fps_option,
    guarded,
    model_options,
    resolve_checkpoint,
    scene_options,
    scene_params,
    setup_logging,
)

_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out", "catalog", type=click.Path(path_type=Path), required=True, help="Catalogue folder."
)
@model_options
@fps_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Decoding processes.  [default: a third of the cores on CPU, all but one on CUDA]",
)
@device_options
@scene_options
@click.option("--force", is_flag=True, help="Redo every film, even finished ones.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Run on this machine, or on a Ray cluster (pip install 'trajectory[ray]').",
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster for --engine ray: auto or HOST:PORT (default: a local instance).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or per-film lines.")
def catalog(
    sources,
    catalog,
    model_path,
    no_model,
    fps,
    workers,
    batch_size,
    device,
    scene_threshold,
    scene_penalty,
    min_scene,
    scene_deep_weight,
    force,
    engine,
    address,
    quiet,
):
    """Analyze every film in SOURCES (files, folders, list files) into the catalogue --out.

    Exit codes: 0 all films done, 3 finished but some films failed (see index.html), 2 bad
    input or another run holds the catalogue, 1 a bug, 130 interrupted (rerun to resume).
    """
    setup_logging(quiet)
    options = dict(
        fps=fps,
        workers=workers,
        batch_size=batch_size,
        device=device,
        force=force,
        quiet=quiet,
        engine=engine,
        address=address,
        scene_params=scene_params(scene_threshold, scene_penalty, min_scene, scene_deep_weight),
    )
    guarded(partial(_catalog, list(sources), catalog, model_path, no_model, options))


def _catalog(
    sources: list[Path], catalog: Path, model_path: Path | None, no_model: bool, options: dict
) -> None:
    """Runs the catalogue (``options``: run_from_cli's keywords) and exits with its code."""
    from trajectory.catalog.cli import run_from_cli

    checkpoint = resolve_checkpoint(model_path, no_model)
    try:
        code = run_from_cli(sources, catalog, checkpoint, **options)
    except KeyboardInterrupt:  # unlike analyze, the finished films are kept
        click.echo(
            "trajectory: interrupted; finished films are kept, and the same command "
            "finishes the others (reusing their scores so far)",
            err=True,
        )
        sys.exit(130)
    sys.exit(code)


@click.command()
@click.argument("catalog", type=click.Path(path_type=Path))
@click.option("--where", multiple=True, help="Filter, e.g. 'sadness >= 0.3' (repeatable).")
@click.option("--arc", default=None, help="Only films with this arc, e.g. man-in-a-hole.")
@click.option("--min-duration", type=float, default=None, help="Only films at least this long (s).")
@click.option("--sort", default=None, help="Sort column; a leading '-' sorts descending.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option("--scenes", is_flag=True, help="List scenes (filters then apply to scenes).")
@_FORMAT_OPTION
def query(catalog, where, arc, min_duration, sort, limit, scenes, fmt):
    """Films (or scenes) of CATALOG matching every filter."""
    setup_logging(False)
    filters = dict(where=list(where), arc=arc, min_duration=min_duration, sort=sort, limit=limit)
    guarded(partial(_query, catalog, filters, scenes, fmt))


def _query(catalog: Path, filters: dict, scenes: bool, fmt: str) -> None:
    """Prints the films (or scenes) of ``catalog`` that pass ``filters`` (query's keywords)."""
    from trajectory.catalog.db import connect
    from trajectory.catalog.query import format_rows
    from trajectory.catalog.query import query as run_query

    db = connect(catalog / "catalog.db", readonly=True)
    rows = run_query(db, **filters, scenes=scenes)
    click.echo(format_rows(rows, fmt, scenes).rstrip("\n"))


@click.command()
@click.argument("catalog", type=click.Path(path_type=Path))
@click.argument("film")
@click.option("-k", type=click.IntRange(min=1), default=10, show_default=True, help="How many.")
@_FORMAT_OPTION
def similar(catalog, film, k, fmt):
    """Films of CATALOG nearest to FILM (id, path or title) by emotion mix and arc shape."""
    setup_logging(False)
    guarded(partial(_similar, catalog, film, k, fmt))


def _similar(catalog: Path, film: str, k: int, fmt: str) -> None:
    """Prints the ``k`` films nearest to ``film``."""
    from trajectory.catalog.db import connect
    from trajectory.catalog.query import format_rows
    from trajectory.catalog.similar import similar as nearest

    db = connect(catalog / "catalog.db", readonly=True)
    click.echo(format_rows(nearest(db, film, k), fmt).rstrip("\n"))
