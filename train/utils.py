"""Generic training helpers: device and precision choice, keyed seeds, atomic files, metric logs."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from trajectory.files import atomic_write
from trajectory.scoring import select_device


@dataclass(frozen=True)
class Runtime:
    """How a run executes (not what it computes): device, precision, memory layout, loading.

    Attributes:
        device: where the network runs.
        amp_dtype: autocast dtype (bfloat16 or float16), or None for full float32.
        channels_last: NHWC memory layout for the convolutions.
        workers: DataLoader worker processes.
        progress: show a progress bar per epoch on stderr.
    """

    device: torch.device
    amp_dtype: torch.dtype | None = None
    channels_last: bool = True
    workers: int = 0
    progress: bool = True

    @property
    def pin_memory(self) -> bool:
        return self.device.type == "cuda"

    def describe(self) -> dict:
        """Plain data for checkpoints."""
        name = self.device.type
        if name == "cuda":
            name = f"cuda ({torch.cuda.get_device_name(self.device)})"
        amp = None if self.amp_dtype is None else str(self.amp_dtype).removeprefix("torch.")
        return {
            "device": name,
            "amp": amp,
            "channels_last": self.channels_last,
            "workers": self.workers,
            "torch": str(torch.__version__),
        }


def make_runtime(
    device: str = "auto",
    amp: bool = True,
    channels_last: bool = True,
    workers: int | None = None,
    progress: bool = True,
) -> Runtime:
    """Mixed precision on CUDA only (bfloat16 where supported, else float16 with loss scaling);
    by default 8 loader workers with CUDA (at most the core count) and none on other devices."""
    dev = select_device(device)
    amp_dtype = None
    if amp and dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if workers is None:
        workers = min(8, os.cpu_count() or 1) if dev.type == "cuda" else 0
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return Runtime(dev, amp_dtype, channels_last, workers, progress)


def autocast(runtime: Runtime) -> contextlib.AbstractContextManager:
    """torch.autocast for the runtime's precision, or a no-op in float32."""
    if runtime.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(runtime.device.type, dtype=runtime.amp_dtype)


def epoch_seed(seed: int, stage: int, epoch: int) -> int:
    """The seed of one epoch: shuffling, augmentation and dropout all derive from it."""
    return (seed * 1_000_003 + stage * 1_009 + epoch) % (2**63)


def atomic_torch_save(obj, path: Path) -> None:
    """``torch.save`` that never leaves a half-written file behind an interruption."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, buffer.getvalue())


def write_csv(path: Path, rows: list[dict]) -> None:
    """Writes dict rows (columns from the first row) atomically."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    atomic_write(path, buffer.getvalue().encode("utf-8"))


class Meter:
    """Running sums of loss and correct predictions, kept on the device to avoid syncs.

    The loss sum is float32 (MPS has no float64); at FI's 21k training images per epoch its
    relative rounding stays near 1e-6, far below what the log shows.
    """

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), device=device, dtype=torch.float32)
        self.correct = torch.zeros((), device=device, dtype=torch.long)
        self.count = 0

    def update(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """``loss`` is the batch mean; ``logits`` (N, C), ``labels`` (N,)."""
        self.loss += loss.detach().float() * len(labels)
        self.correct += (logits.argmax(1) == labels).sum()
        self.count += len(labels)

    def result(self) -> dict:
        n = max(self.count, 1)
        return {
            "loss": self.loss.item() / n,
            "accuracy": self.correct.item() / n,
            "images": self.count,
        }
