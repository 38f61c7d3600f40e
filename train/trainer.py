"""A training run: unfreezing stages, dev evaluation per epoch, best checkpoint, resumable state.

The run's position (next stage and epoch), history and best dev metrics live in ``last.pt``
together with the weights and the optimizer state, written atomically after every completed
epoch. Every epoch's randomness (shuffling, augmentation, dropout) derives from
``epoch_seed(seed, stage, epoch)``, so a resumed run repeats exactly what an uninterrupted one
would have done.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError

import torch
import torchvision

from train.data import Augment, ManifestDataset, make_loader
from train.engine import evaluate, train_one_epoch
from train.prepare import Manifest
from train.recipe import FitConfig, Stage, apply_stage, build_optimizer
from train.utils import Runtime, atomic_torch_save, epoch_seed, write_csv
from trajectory.errors import InputError
from trajectory.model import (
    EmotionNet,
    Preprocessing,
    build_emotionnet,
    save_checkpoint,
)

log = logging.getLogger("train")

STATE_FORMAT = "trajectory.train-state"
PAPER_TEST_ACCURACY = 0.601  # Sreenivas & Zhao, section 5: the bar to match


@dataclass
class RunState:
    """Where a run stands: the next (stage, epoch) to run and what happened so far."""

    next_stage: int = 0
    next_epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best: dict | None = None


def build_net(config: FitConfig) -> EmotionNet:
    """The network a fresh run starts from; the head (and a random backbone) seeded by config.

    Raises:
        InputError: the ImageNet weights cannot be downloaded, or the weights file is unusable.
    """
    torch.manual_seed(config.seed)
    try:
        return build_emotionnet(config.backbone, dropout=config.dropout)
    except (URLError, OSError, RuntimeError) as error:
        raise InputError(
            None,
            f"could not get torchvision's ImageNet VGG19 weights ({error}); pass "
            "--backbone-weights PATH (a local vgg19-dcbb9e9d.pth) or ask for --backbone random",
        ) from None


def is_better(dev: dict, best: dict | None) -> bool:
    """Higher dev accuracy wins; equal accuracy, lower dev loss."""
    if best is None:
        return True
    return (dev["accuracy"], -dev["loss"]) > (best["dev_accuracy"], -best["dev_loss"])


BEST_KEYS = ("stage", "stage_name", "epoch", "dev_accuracy", "dev_loss", "train_accuracy")


def epoch_record(s: int, stage: Stage, epoch: int, train: dict, dev: dict, best: bool) -> dict:
    """One row of the history and of log.csv (``seconds`` is added by the caller)."""
    return {
        "stage": s,
        "stage_name": stage.name,
        "epoch": epoch,
        "lr": stage.lr,
        "train_loss": train["loss"],
        "train_accuracy": train["accuracy"],
        "dev_loss": dev["loss"],
        "dev_accuracy": dev["accuracy"],
        "train_images": train["images"],
        "skipped": train["skipped"],
        "best": best,
    }


def training_record(
    config: FitConfig, state: RunState, manifest: Manifest, runtime: Runtime
) -> dict:
    """The ``training`` dict stored in checkpoints (plain data only)."""
    return {
        "recipe": config.to_dict(),
        "history": state.history,
        "best": state.best,
        "complete": state.next_stage >= len(config.stages),
        "data": {
            "manifest_sha256": manifest.sha256,
            "layout": manifest.info.get("layout"),
            "counts": manifest.info.get("counts"),
            "root": str(manifest.root),
        },
        "runtime": {**runtime.describe(), "torchvision": str(torchvision.__version__)},
        "paper_test_accuracy": PAPER_TEST_ACCURACY,
    }


def save_state(path: Path, net, optimizer, scaler, config: FitConfig, state: RunState, sha256: str):
    """Writes last.pt: everything ``--resume`` needs, loadable with weights_only=True."""
    atomic_torch_save(
        {
            "format": STATE_FORMAT,
            "version": 1,
            "config": config.to_dict(),
            "manifest_sha256": sha256,
            "next_stage": state.next_stage,
            "next_epoch": state.next_epoch,
            "history": state.history,
            "best": state.best,
            "model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler.is_enabled() else None,
        },
        path,
    )


def load_state(path: Path) -> dict:
    """Reads last.pt.

    Raises:
        InputError: missing, unreadable or not a training state.
    """
    if not path.is_file():
        raise InputError(path, "no run to resume here (last.pt is missing)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - corrupt or foreign file
        raise InputError(path, f"cannot read the training state ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") != STATE_FORMAT:
        raise InputError(path, f"not a training state (format != {STATE_FORMAT!r})")
    return payload


@dataclass
class Trainer:
    """Everything one run needs; :meth:`run` executes the remaining stages."""

    config: FitConfig
    manifest: Manifest
    out: Path
    runtime: Runtime
    net: EmotionNet
    state: RunState
    resume_optimizer: dict | None = None
    resume_scaler: dict | None = None

    def __post_init__(self):
        self.preprocessing = Preprocessing(input_size=self.config.input_size)
        aug = Augment(self.config.hflip, self.config.rotation)
        size, bs, rt = self.config.input_size, self.config.batch_size, self.runtime
        train_set = ManifestDataset(self.manifest.root, self.manifest.split("train"), size, aug)
        dev_set = ManifestDataset(self.manifest.root, self.manifest.split("dev"), size)
        if len(train_set) == 0 or len(dev_set) == 0:
            raise InputError(self.manifest.root, "the manifest needs train and dev images")
        self.train_loader = make_loader(
            train_set, bs, shuffle=True, workers=rt.workers, pin=rt.pin_memory
        )
        self.dev_loader = make_loader(
            dev_set, bs, shuffle=False, workers=rt.workers, pin=rt.pin_memory
        )
        memory_format = torch.channels_last if rt.channels_last else torch.contiguous_format
        self.net.to(rt.device, memory_format=memory_format)
        fp16 = rt.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler(rt.device.type, enabled=fp16)
        if self.resume_scaler is not None and fp16:
            self.scaler.load_state_dict(self.resume_scaler)

    def run(self) -> RunState:
        """Runs every remaining stage; returns the final state."""
        for s in range(self.state.next_stage, len(self.config.stages)):
            stage = self.config.stages[s]
            apply_stage(self.net, stage)
            optimizer = build_optimizer(self.net, stage, self.config.weight_decay)
            if self.resume_optimizer is not None and self.state.next_epoch > 0:
                optimizer.load_state_dict(self.resume_optimizer)
            self.resume_optimizer = None
            for epoch in range(self.state.next_epoch, stage.epochs):
                self.run_epoch(s, epoch, optimizer)
            self.state.next_stage, self.state.next_epoch = s + 1, 0
        self.finish()
        return self.state

    def run_epoch(self, s: int, epoch: int, optimizer) -> None:
        """Trains one epoch, evaluates on dev, keeps the best checkpoint, saves the state."""
        stage = self.config.stages[s]
        started = time.perf_counter()
        seed = epoch_seed(self.config.seed, s, epoch)
        torch.manual_seed(seed)  # dropout
        self.train_loader.sampler.set_seed(seed)  # shuffling and augmentation
        desc = (
            f"stage {s + 1}/{len(self.config.stages)} {stage.name} epoch {epoch + 1}/{stage.epochs}"
        )
        rt, prep = self.runtime, self.preprocessing
        train = train_one_epoch(self.net, optimizer, self.train_loader, prep, rt, self.scaler, desc)
        dev = evaluate(self.net, self.dev_loader, prep, rt)
        record = epoch_record(s, stage, epoch, train, dev, is_better(dev, self.state.best))
        record["seconds"] = round(time.perf_counter() - started, 3)
        self.state.history.append(record)
        last = epoch + 1 == stage.epochs
        self.state.next_stage, self.state.next_epoch = (s + 1, 0) if last else (s, epoch + 1)
        if record["best"]:
            self.state.best = {k: record[k] for k in BEST_KEYS}
            self.save_best()
        save_state(
            self.out / "last.pt",
            self.net,
            None if last else optimizer,
            self.scaler,
            self.config,
            self.state,
            self.manifest.sha256,
        )
        write_csv(self.out / "log.csv", self.state.history)
        log.info(
            "%s: train loss %.4f acc %.1f%% | dev loss %.4f acc %.1f%% | %.0f s%s",
            desc,
            train["loss"],
            100 * train["accuracy"],
            dev["loss"],
            100 * dev["accuracy"],
            record["seconds"],
            "  (best)" if record["best"] else "",
        )

    def save_best(self) -> None:
        record = training_record(self.config, self.state, self.manifest, self.runtime)
        save_checkpoint(self.out / "best.pt", self.net, self.preprocessing, training=record)

    def finish(self) -> None:
        """Rewrites best.pt with the complete history, and leaves ``net`` with the best weights."""
        best = self.out / "best.pt"
        if not best.exists():
            return
        payload = torch.load(best, map_location="cpu", weights_only=True)
        self.net.load_state_dict(payload["state_dict"])
        self.save_best()
