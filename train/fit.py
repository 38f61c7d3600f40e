"""``python -m train fit``: the paper's iterative unfreezing on a prepared FI manifest.

Writes into ``--out``:

* ``best.pt``: the best model on the dev split, in the checkpoint format ``trajectory analyze
  --model`` reads (``trajectory.model.save_checkpoint``); its ``training`` dict holds the recipe,
  the per-epoch history, the best dev metrics and the data manifest's hash.
* ``last.pt``: the state after the last completed epoch (weights, optimizer, position, history),
  from which ``--resume`` continues at the same stage and epoch with the same optimizer state.
* ``log.csv``: one row per epoch: stage, lr, train/dev loss and accuracy, time.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from train.prepare import Manifest, read_manifest
from train.recipe import FitConfig, select_stages
from train.trainer import RunState, Trainer, build_net, load_state
from train.utils import Runtime, make_runtime
from trajectory.errors import InputError
from trajectory.model import EmotionNet, file_sha256

log = logging.getLogger("train")


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m train fit",
        description="Fine-tune VGG19 on a prepared FI manifest with the paper's iterative "
        "unfreezing. Recipe options default to the paper's (see train/recipe.py).",
        add_help=add_help,
    )
    p.add_argument("--data", required=True, help="folder written by `python -m train prepare`")
    p.add_argument("--out", required=True, help="run folder: best.pt, last.pt, log.csv")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--image-root", help="where the manifest's images are, if they moved")
    recipe = p.add_argument_group("recipe (recorded in the checkpoint; ignored with --resume)")
    recipe.add_argument(
        "--backbone",
        choices=("imagenet", "random"),
        help="torchvision's ImageNet VGG19 weights (default) or random init",
    )
    recipe.add_argument(
        "--backbone-weights",
        metavar="PATH",
        help="a local VGG19 weights file instead of downloading",
    )
    recipe.add_argument(
        "--stages", type=_ints, help="rows of the stage table, e.g. 0,1 (default all)"
    )
    recipe.add_argument("--lr", type=_floats, help="one learning rate, or one per stage")
    recipe.add_argument(
        "--epochs", type=_ints, help="one epoch count, or one per stage (default 10)"
    )
    recipe.add_argument("--batch-size", type=int, help="default 32")
    recipe.add_argument("--dropout", type=float, help="default 0.5")
    recipe.add_argument("--input-size", type=int, help="square input side in pixels (default 224)")
    recipe.add_argument("--no-hflip", dest="hflip", action="store_false", default=None)
    recipe.add_argument("--rotation", type=float, help="max rotation in degrees (default 10)")
    recipe.add_argument("--weight-decay", type=float, help="Adam L2 penalty (default 0)")
    recipe.add_argument("--seed", type=int, help="default 0")
    run = p.add_argument_group("runtime")
    run.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    run.add_argument("--workers", type=int, help="loader processes (default 8 with CUDA, else 0)")
    run.add_argument("--no-amp", dest="amp", action="store_false", help="float32 on CUDA too")
    run.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


CONFIG_ARGS = ("batch_size", "dropout", "input_size", "hflip", "rotation", "weight_decay", "seed")
RECIPE_ARGS = ("backbone", "backbone_weights", "stages", "lr", "epochs", *CONFIG_ARGS)


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """The run's FitConfig: the paper's recipe with the options the user gave."""
    if args.backbone_weights and args.backbone == "random":
        raise ValueError("--backbone random and --backbone-weights contradict each other")
    backbone, sha = args.backbone or "imagenet", None
    if args.backbone_weights:
        path = Path(args.backbone_weights)
        if not path.is_file():
            raise InputError(path, "no such weights file")
        backbone, sha = str(path.resolve()), file_sha256(path)
    given = {k: getattr(args, k) for k in CONFIG_ARGS if getattr(args, k) is not None}
    stages = select_stages(args.stages, args.lr, args.epochs)
    return FitConfig(stages=stages, backbone=backbone, backbone_sha256=sha, **given)


def start_or_resume(args: argparse.Namespace, manifest: Manifest, out: Path, runtime: Runtime):
    """A Trainer for a fresh run, or for the interrupted run in ``out`` with ``--resume``."""
    if not args.resume:
        if (out / "last.pt").exists():
            raise InputError(
                out, "already holds a run; pass --resume to continue it, or choose another --out"
            )
        config = config_from_args(args)
        return Trainer(config, manifest, out, runtime, build_net(config), RunState())
    saved = load_state(out / "last.pt")
    if saved["manifest_sha256"] != manifest.sha256:
        raise InputError(out, "was trained on a different manifest than --data")
    ignored = [k for k in RECIPE_ARGS if getattr(args, k) is not None]
    if ignored:
        log.warning("--resume continues the saved recipe; ignoring %s", ", ".join(ignored))
    config = FitConfig.from_dict(saved["config"])
    net = EmotionNet(dropout=config.dropout)
    net.load_state_dict(saved["model"])
    state = RunState(saved["next_stage"], saved["next_epoch"], saved["history"], saved["best"])
    log.info("resuming at stage %d epoch %d", state.next_stage + 1, state.next_epoch + 1)
    return Trainer(config, manifest, out, runtime, net, state, saved["optimizer"], saved["scaler"])


def main(args: argparse.Namespace) -> int:
    """Runs (or resumes) a fit; prints where the best checkpoint is."""
    runtime = make_runtime(args.device, args.amp, args.channels_last, args.workers, not args.quiet)
    manifest = read_manifest(args.data, args.image_root)
    out = Path(args.out)
    trainer = start_or_resume(args, manifest, out, runtime)  # validates before --out exists
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        state = trainer.run()
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()  # failed before the first epoch was saved: leave no empty --out
        raise
    best = state.best or {}
    print(
        f"best dev accuracy {best.get('dev_accuracy', 0):.1%} (stage {best.get('stage_name')}, "
        f"epoch {best.get('epoch', 0) + 1}); checkpoint {out / 'best.pt'}",
        file=sys.stderr,
    )
    return 0
