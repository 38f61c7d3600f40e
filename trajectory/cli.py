"""The ``trajectory`` command: a thin layer over :func:`trajectory.analyze` and the writers.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, no traceback), 1 anything else,
130 when interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import click

from trajectory import __version__
from trajectory.errors import InputError

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


def _guarded(run) -> None:
    """Runs a command body, turning errors into the documented exit codes."""
    try:
        run()
    except InputError as error:
        _fail(str(error), 2)
    except ValueError as error:  # bad argument values that click's types could not catch
        _fail(str(error), 2)
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
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def analyze(video, model_path, no_model, out_dir, fps, batch_size, device, shots, no_report, quiet):
    """Analyze VIDEO: shots, scenes and emotion distributions -> tags.json, CSVs, report."""
    _setup_logging(quiet)

    def run():
        from trajectory.video import probe_video

        info = probe_video(video)  # a bad file fails here, before torch is even imported
        from trajectory.model import load_checkpoint
        from trajectory.pipeline import analyze as run_analysis

        checkpoint = None if no_model else (model_path or os.environ.get(MODEL_ENV) or None)
        if no_model and model_path:
            raise ValueError("--model and --no-model exclude each other")
        if checkpoint is None and not no_model:
            _fail(NO_MODEL_HELP, 2)
        model = load_checkpoint(checkpoint) if checkpoint else None  # fail before decoding
        target = out_dir or Path("trajectory-out") / Path(video).stem
        if target.exists() and not target.is_dir():
            raise InputError(target, "exists and is not a folder (--out needs a folder)")
        # Scores are logged beside the output folder as they come, so an interrupted run
        # resumes instead of scoring the film again; the log goes once the outputs are written.
        resume_log = target.parent / f".{target.name}.scores-partial"
        result = run_analysis(
            info,
            model,
            fps=fps,
            batch_size=batch_size,
            device=device,
            progress=not quiet,
            resume_log=resume_log,
            shots=shots,
        )
        _write(result, target, report=not no_report)
        resume_log.unlink(missing_ok=True)
        if not quiet:
            click.echo(_summary(result, target), err=True)

    _guarded(run)


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--smoothing",
    type=click.FloatRange(min=0),
    default=None,
    help="Smoothing window of the timeline in seconds (default: about 2% of the film).",
)
def report(out_dir, smoothing):
    """Re-aggregate OUT_DIR's saved per-frame scores and re-render its report.html."""
    _setup_logging(False)

    def run():
        from trajectory.export import read_outputs

        result = read_outputs(out_dir)
        _write(result, out_dir, report=True, smoothing_s=smoothing)
        click.echo(f"trajectory: wrote {out_dir / 'report.html'}", err=True)

    _guarded(run)


def _write(result, out_dir: Path, report: bool, smoothing_s: float | None = None) -> None:
    from trajectory.export import write_outputs

    extra = {}
    if report:
        from trajectory.report import render_report

        html = render_report(result, out_dir=out_dir, smoothing_s=smoothing_s)
        extra["report.html"] = html.encode("utf-8")
    write_outputs(result, out_dir, extra=extra)


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
    feeling = "no emotion model"
    if film.distribution:
        top = sorted(film.distribution.items(), key=lambda kv: -kv[1])[:3]
        feeling = ", ".join(f"{share:.0%} {name}" for name, share in top)
    return (
        f"trajectory: {result.video.name}: {result.duration_s:.1f} s, {len(result.shots)} shots, "
        f"{len(result.scenes)} scenes; {feeling}; wrote {out_dir}"
    )
