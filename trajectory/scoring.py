"""Batched EmotionNet inference: device choice, mixed precision, no per-frame Python loops."""

from __future__ import annotations

import os

import numpy as np
import torch

from trajectory.errors import UsageError
from trajectory.model import EmotionModel, normalize


def select_device(name: str = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; an explicit name must be available.

    Raises:
        UsageError: the requested device is not available on this machine.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but no CUDA GPU is available")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UsageError("--device mps was asked for, but MPS is not available")
    if name not in ("cpu", "mps") and not name.startswith("cuda"):
        raise UsageError(f"unknown device {name!r} (use auto, cpu, cuda or mps)")
    return torch.device(name)


def default_batch_size(device: torch.device) -> int:
    """Frames per model call when the caller does not say.

    A GPU wants large batches to stay busy. On a CPU, VGG19 costs the same per image at batch
    4 as at 32 (oneDNN already fills the cores with one image), so a small batch only helps:
    the model starts as soon as 8 frames are sampled instead of idling while 32 s of film are
    decoded, and the activations of a batch of 32 would add ~0.6 GB of peak memory.
    """
    return {"cuda": 64, "mps": 32}.get(device.type, 8)


def inference_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype for inference on ``device``, or None for plain float32.

    CUDA: bfloat16 where the GPU supports it (Ampere and later), else float16 (T4, V100, which
    have fp16 tensor cores but no bf16). CPU and MPS stay float32 (bf16 measured 1.7x slower on
    an AVX512-BF16 CPU without AMX).
    """
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


COMPILE_ENV = "TRAJECTORY_COMPILE"  # "1": torch.compile the model (CPU: ~10% faster, ~1 min once)


class FrameScorer:
    """Turns batches of uint8 RGB frames into class probabilities with one model call a batch.

    Everywhere the network runs channels-last, which oneDNN's and cuDNN's convolutions prefer
    (on the benchmark CPU, fp32 VGG19 runs ~3-4x faster than in the default NCHW layout).

    On CUDA the model runs under bf16 autocast (fp16 on GPUs without bf16, see
    :func:`inference_dtype`) with cudnn autotuning; frames go through one
    reused pinned host buffer, are copied asynchronously and normalised on the GPU, so the host
    only ships uint8. Short batches are padded to ``batch_size`` there, so cudnn tunes one shape.

    On CPU the model stays fp32 (bf16 was 1.7x slower on AVX512-BF16 without AMX); with
    ``compile=True`` (or ``TRAJECTORY_COMPILE=1``) it is compiled by torch.compile with
    weight freezing, which pays a one-off compile of about a minute for ~10% fewer CPU seconds
    per image: worth it for feature films, not for clips.
    """

    def __init__(
        self,
        model: EmotionModel,
        device: torch.device,
        batch_size: int | None = None,
        *,
        compile: bool | None = None,
    ):
        if batch_size is None:
            batch_size = default_batch_size(device)
        if batch_size < 1:
            raise UsageError(f"batch size must be at least 1, got {batch_size}")
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.net = model.net.eval().to(device).to(memory_format=torch.channels_last)
        self.images_scored = 0
        self.amp_dtype = inference_dtype(device)
        self._pinned: torch.Tensor | None = None
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        if compile is None:
            compile = os.environ.get(COMPILE_ENV, "") not in ("", "0")
        forward = self.net.forward_with_pooled  # logits + pooled features for scene signatures
        self._forward = _compiled(forward) if compile else forward

    @property
    def input_size(self) -> int:
        return self.model.preprocessing.input_size

    @property
    def feature_width(self) -> int:
        """F, the width of the pooled features: the last conv layer's output channels."""
        convs = [m for m in self.net.features.modules() if isinstance(m, torch.nn.Conv2d)]
        return convs[-1].out_channels

    def score(self, images: np.ndarray) -> np.ndarray:
        """Scores (N, S, S, 3) uint8 RGB images; returns (N, 8) float32 probabilities."""
        return self.score_with_features(images)[0]

    @torch.inference_mode()
    def score_with_features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (N, S, S, 3) uint8 RGB images: (N, 8) probabilities, (N, 512) pooled features.

        Both float32. N may exceed the batch size; the images are then scored in chunks of
        ``batch_size``. The features are the last conv block averaged over space.
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
        if not out:
            return np.zeros((0, len(self.model.classes)), np.float32), np.zeros((0, 0), np.float32)
        return np.concatenate([p for p, _ in out]), np.concatenate([f for _, f in out])

    def _score_batch(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.device.type == "cuda":
            return self._score_cuda(images)
        batch = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        logits, pooled = self._forward(normalize(batch, self.model.preprocessing))
        probs = torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float32)
        return probs, pooled.float().cpu().numpy()

    def _score_cuda(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        count = len(images)
        shape = (self.batch_size, *images.shape[1:])
        if self._pinned is None or self._pinned.shape != shape:
            self._pinned = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        self._pinned[:count].copy_(torch.from_numpy(images))
        self._pinned[count:].zero_()  # padding: one shape for cudnn, whatever N arrives
        batch = self._pinned.to(self.device, non_blocking=True)
        with torch.autocast("cuda", dtype=self.amp_dtype):
            logits, pooled = self._forward(normalize(batch, self.model.preprocessing))
        probs = torch.softmax(logits[:count].float(), dim=1).cpu()  # waits: the buffer is free
        return probs.numpy().astype(np.float32), pooled[:count].float().cpu().numpy()


def _compiled(net):
    """``torch.compile`` with frozen weights (constant-folded, prepacked for oneDNN)."""
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True
    return torch.compile(net, dynamic=False)
