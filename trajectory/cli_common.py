"""What the ``trajectory`` commands share: exit codes, logging, and the option groups that
more than one command takes (click decorators, applied like ``click.option``).

Only click and the standard library are imported here: ``trajectory --help`` and the commands
that run no model stay off torch and PyAV.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import click

from trajectory.errors import InputError, ModelOutputError, UsageError

MODEL_ENV = "TRAJECTORY_MODEL"
NO_MODEL_HELP = (
    "no emotion model given: pass --model CHECKPOINT or set TRAJECTORY_MODEL "
    "(train one with `python -m train fit`, see README), or use --no-model for shots, "
    "scenes and visual statistics only"
)


def fail(message: str, code: int) -> None:
    """Prints ``trajectory: error: MESSAGE`` on stderr and exits with ``code``."""
    click.echo(f"trajectory: error: {message}", err=True)
    sys.exit(code)


def setup_logging(quiet: bool) -> None:
    """Sends the ``trajectory`` logger's warnings (errors only when quiet) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("trajectory: %(levelname)s: %(message)s"))
    logger = logging.getLogger("trajectory")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


def guarded(run: Callable[[], None]) -> None:
    """Runs a command body, turning errors into the documented exit codes."""
    try:
        run()
    except (InputError, UsageError) as error:  # the user's file or argument: exit 2
        fail(str(error), 2)
    except ModelOutputError as error:  # a broken checkpoint, said plainly: exit 1
        fail(str(error), 1)
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
        fail(f"{type(error).__name__}: {first} (set TRAJECTORY_DEBUG=1 for a traceback)", 1)


def _with_options(command, options: list) -> Callable:
    """Applies click options so that ``--help`` lists them in the order given."""
    for option in reversed(options):
        command = option(command)
    return command


def model_options(command):
    """--model, --no-model: for analyze and catalog; see :func:`resolve_checkpoint`."""
    return _with_options(
        command,
        [
            click.option(
                "--model",
                "model_path",
                type=click.Path(path_type=Path),
                default=None,
                help=f"EmotionNet checkpoint (default: ${MODEL_ENV}).",
            ),
            click.option(
                "--no-model",
                is_flag=True,
                help="Skip emotion scoring: shots, scenes, visual stats.",
            ),
        ],
    )


def fps_option(command):
    """--fps, how densely frames are sampled for scoring: for analyze and catalog."""
    return click.option(
        "--fps",
        type=click.FloatRange(min=0, min_open=True),
        default=1.0,
        show_default=True,
        help="Frames scored per second of film.",
    )(command)


def device_options(command):
    """--batch-size, --device: where and how the model runs, for analyze and catalog."""
    return _with_options(
        command,
        [
            click.option(
                "--batch-size",
                type=click.IntRange(min=1),
                default=None,
                help="Frames per model call.  [default: 64 on CUDA, 32 on MPS, 8 on CPU]",
            ),
            click.option(
                "--device",
                type=click.Choice(["auto", "cpu", "cuda", "mps"]),
                default="auto",
                show_default=True,
                help="Where the model runs.",
            ),
        ],
    )


def resolve_checkpoint(model_path: Path | None, no_model: bool) -> Path | str | None:
    """The checkpoint to score with: --model, else $TRAJECTORY_MODEL; None with --no-model.

    Raises:
        UsageError: both --model and --no-model, or no checkpoint from either and no --no-model.
    """
    if no_model and model_path:
        raise UsageError("--model and --no-model exclude each other")
    if no_model:
        return None
    checkpoint = model_path or os.environ.get(MODEL_ENV) or None
    if checkpoint is None:
        raise UsageError(NO_MODEL_HELP)
    return checkpoint


def scene_options(command):
    """--scene-threshold, --scene-penalty, --min-scene, --scene-deep-weight: for analyze and
    catalog, and for report to regroup."""
    return _with_options(
        command,
        [
            click.option(
                "--scene-threshold",
                type=click.FloatRange(0, 1),
                default=None,
                help="Shot distance below which two shots count as one scene's (default 0.20).",
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
            click.option(
                "--scene-deep-weight",
                type=click.FloatRange(min=0),
                default=None,
                help="Weight of the model's pooled features in shot distances, against 4.5 "
                "for the visual cues; 0 turns them off (default 1.5; no effect without a model).",
            ),
        ],
    )


def scene_params(
    threshold: float | None,
    penalty: float | None,
    min_scene_s: float | None,
    deep_weight: float | None = None,
):
    """SceneParams from the options given; library defaults for those left out."""
    from trajectory.scenes import SceneParams

    defaults = SceneParams()
    return SceneParams(
        threshold=defaults.threshold if threshold is None else threshold,
        min_scene_s=defaults.min_scene_s if min_scene_s is None else min_scene_s,
        penalty=defaults.penalty if penalty is None else penalty,
        deep_weight=defaults.deep_weight if deep_weight is None else deep_weight,
    )
