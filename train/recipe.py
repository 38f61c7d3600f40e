"""The paper's fine-tuning recipe as data: the unfreezing stages and the run configuration.

Sreenivas & Zhao train the new 8-way head alone, then unfreeze VGG19's last four convolutional
layers one at a time, then the whole network, each stage with a fresh Adam optimizer for 10 epochs
of batch 32. Module names are torchvision's (``features.34`` is conv5_4).

The paper's text gives 1e-4 for the head stage, but its own learning-rate search (figure 2d)
measured 23.5% dev accuracy at 1e-4 against 54.8% at 1e-5, so the head stage uses 1e-5 here, as
in the project's DESIGN.md. Override it with ``--lr`` to try the text's value.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn


@dataclass(frozen=True)
class Stage:
    """One unfreezing stage.

    Attributes:
        name: a short label for logs ("head", "conv5_4", ...).
        trainable: module-name prefixes whose parameters train in this stage; a parameter trains
            when its name equals a prefix or starts with ``prefix + "."``.
        lr: Adam learning rate.
        epochs: passes over the training split.
    """

    name: str
    trainable: tuple[str, ...]
    lr: float
    epochs: int = 10


HEAD = "classifier"  # dropout + Linear(25088, 8) in trajectory.model.EmotionNet

PAPER_STAGES: tuple[Stage, ...] = (
    Stage("head", (HEAD,), 1e-5),
    Stage("conv5_4", (HEAD, "features.34"), 1e-5),
    Stage("conv5_3", (HEAD, "features.34", "features.32"), 1e-6),
    Stage("conv5_2", (HEAD, "features.34", "features.32", "features.30"), 1e-6),
    Stage("conv5_1", (HEAD, "features.34", "features.32", "features.30", "features.28"), 1e-6),
    Stage("all", (HEAD, "features"), 1e-6),
)


@dataclass(frozen=True)
class FitConfig:
    """Everything that determines a training run's result. Saved in checkpoints as plain data.

    Attributes:
        stages: the unfreezing schedule, run in order.
        batch_size: images per optimizer step.
        dropout: dropout probability before the head's Linear layer.
        input_size: side of the square (squashed) network input, in pixels.
        hflip: whether training images are mirrored left-right with probability 0.5.
        rotation: training images are rotated by a uniform angle in [-rotation, rotation] degrees.
        weight_decay: Adam's L2 penalty (the paper uses none).
        backbone: "imagenet", "random", or the path of a local VGG19 weights file.
        backbone_sha256: sha256 of that file when ``backbone`` is a path.
        seed: seeds weight initialisation, shuffling, augmentation and dropout.
    """

    stages: tuple[Stage, ...] = PAPER_STAGES
    batch_size: int = 32
    dropout: float = 0.5
    input_size: int = 224
    hflip: bool = True
    rotation: float = 10.0
    weight_decay: float = 0.0
    backbone: str = "imagenet"
    backbone_sha256: str | None = None
    seed: int = 0

    def __post_init__(self):
        if not self.stages:
            raise ValueError("a run needs at least one stage")
        if self.batch_size < 1 or self.input_size < 32:
            raise ValueError("batch_size must be >= 1 and input_size >= 32")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        for stage in self.stages:
            if stage.lr <= 0 or stage.epochs < 0 or not stage.trainable:
                raise ValueError(f"bad stage {stage}")

    def to_dict(self) -> dict:
        """Plain data (dicts, lists, str, numbers) for checkpoints and logs."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> FitConfig:
        """Inverse of :meth:`to_dict`."""
        stages = tuple(
            Stage(s["name"], tuple(s["trainable"]), float(s["lr"]), int(s["epochs"]))
            for s in data["stages"]
        )
        return replace(cls(), **{**data, "stages": stages})


def select_stages(
    indices: list[int] | None = None,
    lrs: list[float] | None = None,
    epochs: list[int] | None = None,
) -> tuple[Stage, ...]:
    """Picks stages from PAPER_STAGES and overrides their learning rates and epoch counts.

    Args:
        indices: rows of the stage table to run, in order (default: all six).
        lrs: one learning rate for every selected stage, or one per selected stage.
        epochs: one epoch count for every selected stage, or one per selected stage.

    Raises:
        ValueError: an index is out of range or a list has the wrong length.
    """
    indices = list(range(len(PAPER_STAGES))) if indices is None else indices
    for i in indices:
        if not 0 <= i < len(PAPER_STAGES):
            raise ValueError(f"stage {i} is not in the table (0-{len(PAPER_STAGES) - 1})")
    stages = [PAPER_STAGES[i] for i in indices]
    for key, values in (("lr", lrs), ("epochs", epochs)):
        if values is None:
            continue
        if len(values) not in (1, len(stages)):
            raise ValueError(f"give one {key} or one per stage ({len(stages)}), got {values}")
        values = values * len(stages) if len(values) == 1 else values
        stages = [replace(s, **{key: v}) for s, v in zip(stages, values, strict=True)]
    return tuple(stages)


def is_trainable(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether parameter ``name`` (e.g. "features.34.weight") falls under one of ``prefixes``."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def apply_stage(net: nn.Module, stage: Stage) -> list[nn.Parameter]:
    """Sets requires_grad to exactly the stage's parameters and returns them in module order.

    Raises:
        ValueError: a prefix of the stage matches no parameter (a typo would silently freeze it).
    """
    params = []
    for name, param in net.named_parameters():
        param.requires_grad_(is_trainable(name, stage.trainable))
        if param.requires_grad:
            params.append(param)
    names = [n for n, _ in net.named_parameters()]
    for prefix in stage.trainable:
        if not any(is_trainable(n, (prefix,)) for n in names):
            raise ValueError(f"stage {stage.name!r}: no parameter under {prefix!r}")
    return params


def build_optimizer(net: nn.Module, stage: Stage, weight_decay: float = 0.0) -> torch.optim.Adam:
    """A fresh Adam over the parameters that require grad after :func:`apply_stage`."""
    params = [p for p in net.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=stage.lr, weight_decay=weight_decay)
