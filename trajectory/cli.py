"""The ``trajectory`` command: a thin layer over :func:`trajectory.analyze` and the writers.

``analyze`` and ``report`` are here; the catalogue commands are in :mod:`trajectory.cli_catalog`,
the export commands in :mod:`trajectory.cli_exports`, and what they share (exit codes, option
groups, the checkpoint from --model/--no-model/$TRAJECTORY_MODEL) in :mod:`trajectory.cli_common`.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, no traceback), 1 anything else,
130 when interrupted.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from trajectory import __version__
from trajectory.cli_catalog import catalog, query, similar
from trajectory.cli_common import (
    device_options,
    fail,
    fps_option,
    guarded,
    model_options,
    resolve_checkpoint,
    scene_options,
    scene_params,
    setup_logging,
)
from trajectory.cli_exports import clips, export_command, parse_export_option, reel
from trajectory.errors import InputError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trajectory")
def main() -> None:
    """What a film feels like, scene by scene."""


for _command in (catalog, query, similar, export_command, clips, reel):
    main.add_command(_command)  # --help lists commands by name, wherever they are defined


@main.command()
@click.argument("video", type=click.Path(path_type=Path))
@model_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: trajectory-out/<video stem>/).",
)
@fps_option
@device_options
@click.option(
    "--shots",
    type=click.Choice(["auto", "fast", "learned", "classic"]),
    default="auto",
    show_default=True,
    help="Shot detection: fast CPU detectors, learned (TransNetV2, needs torch), classic "
    "(before dissolves were detected); auto = fast on every device (it scores above learned).",
)
@scene_options
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
    scene_deep_weight,
    no_report,
    quiet,
    export_formats,
):
    """Analyze VIDEO: shots, scenes and emotion distributions -> tags.json, CSVs, report."""
    setup_logging(quiet)
    options = dict(
        fps=fps,
        batch_size=batch_size,
        device=device,
        report=not no_report,
        export_formats=export_formats,
        scene_params=scene_params(scene_threshold, scene_penalty, min_scene, scene_deep_weight),
        shots=shots,
    )
    guarded(partial(_analyze, video, model_path, no_model, out_dir, quiet, options))


def _analyze(video, model_path, no_model, out_dir, quiet, options) -> None:
    """Checks everything that can be checked before decoding, then analyzes and publishes."""
    from trajectory.outdir import OutputFolder, default_out_dir
    from trajectory.video import probe_video

    formats = parse_export_option(options["export_formats"])  # a typo fails before any decoding
    info = probe_video(video)  # a bad file fails here, before torch is even imported
    checkpoint = resolve_checkpoint(model_path, no_model)
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
@scene_options
def report(out_dir, smoothing, scene_threshold, scene_penalty, min_scene, scene_deep_weight):
    """Re-aggregate OUT_DIR's saved per-frame scores and re-render its report.html.

    With --scene-threshold, --scene-penalty, --min-scene or --scene-deep-weight, shots are
    regrouped into scenes from the saved shot signatures (shots.npz) first; other options keep
    the saved values.
    """
    setup_logging(False)
    regroup = (scene_threshold, scene_penalty, min_scene, scene_deep_weight)
    guarded(partial(_report, out_dir, smoothing, regroup))


def _report(out_dir: Path, smoothing: float | None, regroup: tuple) -> None:
    """Re-aggregates the saved outputs (regrouping scenes if asked) and rewrites them."""
    from trajectory.export import read_outputs

    result = read_outputs(out_dir)
    regrouped = any(value is not None for value in regroup)
    if regrouped:
        from trajectory.assemble import regroup as regroup_scenes

        saved = result.scene_grouping or {}
        threshold, penalty, min_scene, deep_weight = regroup
        # A saved deep_weight of 0 means off or no features: regrouping keeps it so, unless asked.
        params = scene_params(
            threshold if threshold is not None else saved.get("threshold"),
            penalty if penalty is not None else saved.get("penalty"),
            min_scene if min_scene is not None else saved.get("min_scene_s"),
            deep_weight if deep_weight is not None else saved.get("deep_weight"),
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


def run() -> None:
    """Console entry point: click's usage errors become one line on stderr and exit code 2."""
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("trajectory: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        fail(error.format_message().replace("\n", " "), 2)
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
