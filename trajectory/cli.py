"""The ``trajectory`` command: a thin layer over :func:`trajectory.analyze` and the writers.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, no traceback), 1 anything else,
130 when interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click

from trajectory import __version__
from trajectory.errors import InputError, ModelOutputError, UsageError

MODEL_ENV = "TRAJECTORY_MODEL"
NO_MODEL_HELP = (
    "no emotion model given: pass --model CHECKPOINT or set TRAJECTORY_MODEL "
    "(train one with `python -m train fit`, see README), or use --no-model for shots, "
    "scenes and visual statistics only"
)


def _fail(message: str, code: int) -> None:
    click.echo(f"trajectory: error: {message}", err=True)
    sys.exit(code)


def _setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("trajectory: %(levelname)s: %(message)s"))
    logger = logging.getLogger("trajectory")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


def _guarded(run: Callable[[], None]) -> None:
    """Runs a command body, turning errors into the documented exit codes."""
    try:
        run()
    except (InputError, UsageError) as error:  # the user's file or argument: exit 2
        _fail(str(error), 2)
    except ModelOutputError as error:  # a broken checkpoint, said plainly: exit 1
        _fail(str(error), 1)
    except KeyboardInterrupt:
        click.echo(
            "trajectory: interrupted; no output was written (scores so far are kept, "
            "and the same command resumes from them)",
            err=True,
        )
        sys.exit(130)
    except Exception as error:  # a bug: say so briefly, trace only on request
        if os.environ.get("TRAJECTORY_DEBUG"):
            traceback.print_exc()
        first = str(error).splitlines()[0] if str(error) else ""
        _fail(f"{type(error).__name__}: {first} (set TRAJECTORY_DEBUG=1 for a traceback)", 1)


def _scene_options(command):
    """--scene-threshold, --scene-penalty, --min-scene: for analyze, and for report to regroup."""
    options = [
        click.option(
            "--scene-threshold",
            type=click.FloatRange(0, 1),
            default=None,
            help="Shot distance below which two shots count as one scene's (default 0.22).",
        ),
        click.option(
            "--scene-penalty",
            type=click.FloatRange(min=0),
            default=None,
            help="Cost of one more scene; larger joins more short scenes (default 0.35).",
        ),
        click.option(
            "--min-scene",
            type=click.FloatRange(min=0),
            default=None,
            help="Shortest scene in seconds, where the shots allow it (default 2).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _scene_params(threshold: float | None, penalty: float | None, min_scene_s: float | None):
    """SceneParams from the options given; library defaults for those left out."""
    from trajectory.scenes import SceneParams

    defaults = SceneParams()
    return SceneParams(
        threshold=defaults.threshold if threshold is None else threshold,
        min_scene_s=defaults.min_scene_s if min_scene_s is None else min_scene_s,
        penalty=defaults.penalty if penalty is None else penalty,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trajectory")
def main() -> None:
    """What a film feels like, scene by scene."""


@main.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help=f"EmotionNet checkpoint (default: ${MODEL_ENV}).",
)
@click.option("--no-model", is_flag=True, help="Skip emotion scoring: shots, scenes, visual stats.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: trajectory-out/<video stem>/).",
)
@click.option(
    "--fps",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Frames scored per second of film.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Frames per model call.  [default: 64 on CUDA, 32 on MPS, 8 on CPU]",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="auto",
    show_default=True,
    help="Where the model runs.",
)
@click.option(
    "--shots",
    type=click.Choice(["auto", "fast", "learned", "classic"]),
    default="auto",
    show_default=True,
    help="Shot detection: fast CPU detectors, learned (TransNetV2, needs torch), classic "
    "(before dissolves were detected); auto = learned when the model runs on CUDA, else fast.",
)
@_scene_options
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option(
    "--export",
    "export_formats",
    default=None,
    metavar="FORMATS",
    help="Also write these exports, comma-separated: vtt, vtt-meta, otio, edl or all.",
)
def analyze(
    video,
    model_path,
    no_model,
    out_dir,
    fps,
    batch_size,
    device,
    shots,
    scene_threshold,
    scene_penalty,
    min_scene,
    no_report,
    quiet,
    export_formats,
):
    """Analyze VIDEO: shots, scenes and emotion distributions -> tags.json, CSVs, report."""
    _setup_logging(quiet)
    options = dict(
        fps=fps,
        batch_size=batch_size,
        device=device,
        report=not no_report,
        export_formats=export_formats,
        scene_params=_scene_params(scene_threshold, scene_penalty, min_scene),
        shots=shots,
    )
    _guarded(partial(_analyze, video, model_path, no_model, out_dir, quiet, options))


def _analyze(video, model_path, no_model, out_dir, quiet, options) -> None:
    """Checks everything that can be checked before decoding, then analyzes and publishes."""
    from trajectory.outdir import OutputFolder, default_out_dir
    from trajectory.video import probe_video

    formats = _export_formats(options["export_formats"])  # a typo fails before any decoding
    info = probe_video(video)  # a bad file fails here, before torch is even imported
    if no_model and model_path:
        raise UsageError("--model and --no-model exclude each other")
    checkpoint = None if no_model else (model_path or os.environ.get(MODEL_ENV) or None)
    if checkpoint is None and not no_model:
        raise UsageError(NO_MODEL_HELP)
    target = out_dir or default_out_dir(video)
    # The output folder is locked and probed before decoding: a folder another run holds or
    # that cannot be written fails now, not after the whole film.
    with OutputFolder(target).claim() as folder:
        model = None
        if checkpoint:
            from trajectory.model import load_checkpoint

            model = load_checkpoint(checkpoint)
        from trajectory.pipeline import analyze as run_analysis

        # Scores are logged beside the output folder as they come, so an interrupted run
        # resumes instead of scoring the film again; the log goes once the outputs are written.
        result = run_analysis(
            info,
            model,
            fps=options["fps"],
            batch_size=options["batch_size"],
            device=options["device"],
            progress=not quiet,
            resume_log=folder.scores_log,
            scene_params=options["scene_params"],
            shots=options["shots"],
        )
        failed_export = _write(result, target, report=options["report"], export_formats=formats)
        folder.scores_log.unlink(missing_ok=True)
    if failed_export is not None:  # the outputs are written; say what was not
        raise failed_export
    if not quiet:
        click.echo(_summary(result, target), err=True)


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--smoothing",
    type=click.FloatRange(min=0),
    default=None,
    help="Smoothing window of the timeline in seconds (default: about 2% of the film).",
)
@_scene_options
def report(out_dir, smoothing, scene_threshold, scene_penalty, min_scene):
    """Re-aggregate OUT_DIR's saved per-frame scores and re-render its report.html.

    With --scene-threshold, --scene-penalty or --min-scene, shots are regrouped into scenes
    from the saved shot signatures (shots.npz) first; other options keep the saved values.
    """
    _setup_logging(False)
    regroup = (scene_threshold, scene_penalty, min_scene)
    _guarded(partial(_report, out_dir, smoothing, regroup))


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out", "catalog", type=click.Path(path_type=Path), required=True, help="Catalogue folder."
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help=f"EmotionNet checkpoint (default: ${MODEL_ENV}).",
)
@click.option("--no-model", is_flag=True, help="Skip emotion scoring: shots, scenes, visual stats.")
@click.option(
    "--fps",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Frames scored per second of film.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Decoding processes.  [default: a third of the cores on CPU, all but one on CUDA]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Frames per model call.  [default: 64 on CUDA, 32 on MPS, 8 on CPU]",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="auto",
    show_default=True,
    help="Where the model runs.",
)
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
    force,
    engine,
    address,
    quiet,
):
    """Analyze every film in SOURCES (files, folders, list files) into the catalogue --out.

    Exit codes: 0 all films done, 3 finished but some films failed (see index.html), 2 bad
    input or another run holds the catalogue, 1 a bug, 130 interrupted (rerun to resume).
    """
    _setup_logging(quiet)

    def run():
        from trajectory.catalog.cli import run_from_cli

        if no_model and model_path:
            raise UsageError("--model and --no-model exclude each other")
        checkpoint = None if no_model else (model_path or os.environ.get(MODEL_ENV) or None)
        if checkpoint is None and not no_model:
            _fail(NO_MODEL_HELP, 2)
        try:
            code = run_from_cli(
                list(sources), catalog, checkpoint, fps, workers, batch_size, device, force, quiet,
                engine=engine, address=address,
            )  # fmt: skip
        except KeyboardInterrupt:
            click.echo(
                "trajectory: interrupted; finished films are kept, and the same command "
                "finishes the others (reusing their scores so far)",
                err=True,
            )
            sys.exit(130)
        sys.exit(code)

    _guarded(run)


@main.command()
@click.argument("catalog", type=click.Path(path_type=Path))
@click.option("--where", multiple=True, help="Filter, e.g. 'sadness >= 0.3' (repeatable).")
@click.option("--arc", default=None, help="Only films with this arc, e.g. man-in-a-hole.")
@click.option("--min-duration", type=float, default=None, help="Only films at least this long (s).")
@click.option("--sort", default=None, help="Sort column; a leading '-' sorts descending.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option("--scenes", is_flag=True, help="List scenes (filters then apply to scenes).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def query(catalog, where, arc, min_duration, sort, limit, scenes, fmt):
    """Films (or scenes) of CATALOG matching every filter."""
    _setup_logging(False)

    def run():
        from trajectory.catalog.db import connect
        from trajectory.catalog.query import format_rows
        from trajectory.catalog.query import query as run_query

        db = connect(catalog / "catalog.db", readonly=True)
        rows = run_query(db, list(where), arc, min_duration, sort, limit, scenes)
        click.echo(format_rows(rows, fmt, scenes).rstrip("\n"))

    _guarded(run)


@main.command()
@click.argument("catalog", type=click.Path(path_type=Path))
@click.argument("film")
@click.option("-k", type=click.IntRange(min=1), default=10, show_default=True, help="How many.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def similar(catalog, film, k, fmt):
    """Films of CATALOG nearest to FILM (id, path or title) by emotion mix and arc shape."""
    _setup_logging(False)

    def run():
        from trajectory.catalog.db import connect
        from trajectory.catalog.query import format_rows
        from trajectory.catalog.similar import similar as nearest

        db = connect(catalog / "catalog.db", readonly=True)
        click.echo(format_rows(nearest(db, film, k), fmt).rstrip("\n"))

    _guarded(run)


def _report(out_dir: Path, smoothing: float | None, regroup: tuple) -> None:
    from trajectory.export import read_outputs

    result = read_outputs(out_dir)
    regrouped = any(value is not None for value in regroup)
    if regrouped:
        from trajectory.assemble import regroup as regroup_scenes

        saved = result.scene_grouping or {}
        threshold, penalty, min_scene = regroup
        params = _scene_params(
            threshold if threshold is not None else saved.get("threshold"),
            penalty if penalty is not None else saved.get("penalty"),
            min_scene if min_scene is not None else saved.get("min_scene_s"),
        )
        result = regroup_scenes(result, params)
    # Re-rendering keeps the run's other files (exports); regrouping makes them stale.
    _write(result, out_dir, report=True, smoothing_s=smoothing, carry_over=not regrouped)
    click.echo(f"trajectory: wrote {out_dir / 'report.html'}", err=True)


def _write(
    result,
    out_dir: Path,
    report: bool,
    smoothing_s: float | None = None,
    export_formats=(),
    carry_over: bool = False,
) -> InputError | None:
    """Writes the outputs; returns the first export that could not be made, if any."""
    from trajectory.export import write_outputs

    extra = {}
    if report:
        from trajectory.report import render_report

        html = render_report(result, out_dir=out_dir, smoothing_s=smoothing_s)
        extra["report.html"] = html.encode("utf-8")
    failed = None
    for name in export_formats:  # published with the other outputs, in the same atomic step
        from trajectory.exports import render_exports

        try:
            extra.update(render_exports(result, [name]))
        except InputError as error:  # the analysis is still worth keeping
            failed = failed or error
    write_outputs(result, out_dir, extra=extra, carry_over=carry_over)
    return failed


def _export_formats(text: str | None) -> list[str]:
    if not text:
        return []
    from trajectory.exports import parse_formats

    return parse_formats(text)


@main.command("export")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    required=True,
    metavar="FORMATS",
    help="Comma-separated: vtt (chapters), vtt-meta (scene JSON track), otio, edl, or all.",
)
@click.option(
    "--out",
    "dest",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the exported files (default: OUT_DIR).",
)
def export_command(out_dir, formats, dest):
    """Export OUT_DIR's scenes for players and editors, from the saved outputs (no decoding)."""
    _setup_logging(False)

    def run():
        from trajectory.export import read_outputs
        from trajectory.exports import write_exports

        names = _export_formats(formats)
        for path in write_exports(read_outputs(out_dir), names, dest or out_dir):
            click.echo(f"trajectory: wrote {path}", err=True)

    _guarded(run)


_EMOTION_OPTION = click.option(
    "--emotion", required=True, help="One of the 8 classes (amusement ... sadness)."
)
_VIDEO_OPTION = click.option(
    "--video",
    type=click.Path(path_type=Path),
    default=None,
    help="The source film (default: tags.json video.path, else OUT_DIR/../<file name>).",
)


@main.command()
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
@click.option(
    "--out",
    "dest",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the clips (default: OUT_DIR/clips-<emotion>/).",
)
def clips(out_dir, emotion, top, min_confidence, pad, video, dest):
    """Cut the --top scenes where EMOTION is strongest from the source film as MP4 clips."""
    _setup_logging(False)

    def run():
        from trajectory.exports.render import make_clips

        done = make_clips(out_dir, emotion, top, min_confidence, pad, video=video, dest=dest)
        if len(done.cuts) < top:
            click.echo(f"trajectory: only {len(done.cuts)} scenes qualify", err=True)
        click.echo(f"trajectory: wrote {len(done.files)} clips to {done.manifest.parent}", err=True)

    _guarded(run)


@main.command()
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
@click.option(
    "--out",
    "dest",
    type=click.Path(path_type=Path),
    default=None,
    help="The reel's MP4 (default: OUT_DIR/reel-<emotion>.mp4; its JSON beside it).",
)
def reel(out_dir, emotion, seconds, segment, crossfade, video, dest):
    """A highlight reel of the moments where EMOTION peaks, in film order, with crossfades."""
    _setup_logging(False)

    def run():
        from trajectory.exports.render import make_reel

        done = make_reel(out_dir, emotion, seconds, segment, crossfade, video=video, dest=dest)
        click.echo(
            f"trajectory: wrote {done.files[0]} ({len(done.cuts)} segments) and {done.manifest}",
            err=True,
        )

    _guarded(run)


def run() -> None:
    """Console entry point: click's usage errors become one line on stderr and exit code 2."""
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("trajectory: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        _fail(error.format_message().replace("\n", " "), 2)
    sys.exit(code or 0)


def _summary(result, out_dir: Path) -> str:
    film = result.film
    feeling = "no emotion model" if result.model is None else "no frame scored by the model"
    if film.distribution:
        top = sorted(film.distribution.items(), key=lambda kv: -kv[1])[:3]
        feeling = ", ".join(f"{share:.0%} {name}" for name, share in top)
    return (
        f"trajectory: {result.video.name}: {result.duration_s:.1f} s, {len(result.shots)} shots, "
        f"{len(result.scenes)} scenes; {feeling}; wrote {out_dir}"
    )
