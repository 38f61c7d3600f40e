"""Batched EmotionNet inference: device choice, mixed precision, no per-frame Python loops."""

from __future__ import annotations

import numpy as np
import torch

from trajectory.model import EmotionModel, normalize


def select_device(name: str = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; an explicit name must be available.

    Raises:
        ValueError: the requested device is not available on this machine.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError("--device mps was asked for, but MPS is not available")
    if name not in ("cpu", "mps") and not name.startswith("cuda"):
        raise ValueError(f"unknown device {name!r} (use auto, cpu, cuda or mps)")
    return torch.device(name)


class FrameScorer:
    """Turns batches of uint8 RGB frames into class probabilities with one model call a batch.

    On CUDA the model runs under bf16 autocast with cudnn autotuning, frames are copied from
    pinned memory asynchronously and normalised on the GPU, so the host only ships uint8.
    """

    def __init__(self, model: EmotionModel, device: torch.device, batch_size: int = 32):
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.net = model.net.eval().to(device).to(memory_format=torch.channels_last)
        self.images_scored = 0
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    @property
    def input_size(self) -> int:
        return self.model.preprocessing.input_size

    @torch.inference_mode()
    def score(self, images: np.ndarray) -> np.ndarray:
        """Scores (N, S, S, 3) uint8 RGB images; returns (N, 8) float32 probabilities.

        N may exceed the batch size; the images are then scored in chunks of ``batch_size``.
        """
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"expected (N, S, S, 3) uint8 images, got {images.shape} {images.dtype}"
            )
        out = [
            self._score_batch(images[i : i + self.batch_size])
            for i in range(0, len(images), self.batch_size)
        ]
        self.images_scored += len(images)
        return np.concatenate(out) if out else np.zeros((0, len(self.model.classes)), np.float32)

    def _score_batch(self, images: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(images))
        if self.device.type == "cuda":
            batch = batch.pin_memory().to(self.device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = self.net(normalize(batch, self.model.preprocessing))
        else:
            logits = self.net(normalize(batch.to(self.device), self.model.preprocessing))
        return torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float32)
