"""The inner loops: one training epoch, and prediction/evaluation under inference mode."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from tqdm import tqdm

from train.data import Batch
from train.utils import Meter, Runtime, autocast
from trajectory.model import Preprocessing, normalize


def to_input(batch: Batch, preprocessing: Preprocessing, runtime: Runtime):
    """uint8 batch -> (normalised float (N, 3, H, W) on the device, labels (N,) on the device)."""
    images = batch.images.to(runtime.device, non_blocking=True)
    x = normalize(images, preprocessing)
    if not runtime.channels_last:
        x = x.contiguous()
    return x, batch.labels.to(runtime.device, non_blocking=True)


def train_one_epoch(net, optimizer, loader, preprocessing, runtime, scaler, desc="") -> dict:
    """One pass over the training loader. Returns mean loss, accuracy, images and skipped."""
    net.train()
    meter, skipped = Meter(runtime.device), 0
    bar = tqdm(loader, desc=desc, disable=not runtime.progress, leave=False, unit="batch")
    for step, batch in enumerate(bar):
        skipped += batch.skipped
        if len(batch.labels) == 0:
            continue
        x, y = to_input(batch, preprocessing, runtime)
        with autocast(runtime):
            logits = net(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        meter.update(loss, logits, y)
        if runtime.progress and step % 10 == 0:
            r = meter.result()
            bar.set_postfix(loss=f"{r['loss']:.3f}", acc=f"{r['accuracy']:.1%}")
    return {**meter.result(), "skipped": skipped}


@torch.inference_mode()
def predict(net, loader, preprocessing, runtime) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class probabilities for every readable image of a (non-shuffled) loader.

    Returns:
        indices (N,) int64 into the dataset, labels (N,) int64, probabilities (N, C) float32,
        all on the CPU.
    """
    net.eval()
    indices, labels, probs = [], [], []
    for batch in tqdm(loader, desc="predict", disable=not runtime.progress, leave=False):
        if len(batch.labels) == 0:
            continue
        x, _ = to_input(batch, preprocessing, runtime)
        with autocast(runtime):
            logits = net(x)
        probs.append(logits.float().softmax(1).cpu())
        indices.append(batch.indices)
        labels.append(batch.labels)
    if not probs:
        return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), torch.empty(0, 8)
    return torch.cat(indices), torch.cat(labels), torch.cat(probs)


def evaluate(net, loader, preprocessing, runtime) -> dict:
    """Mean cross-entropy and accuracy of ``net`` on a loader (under inference mode)."""
    _, labels, probs = predict(net, loader, preprocessing, runtime)
    if len(labels) == 0:
        return {"loss": float("nan"), "accuracy": 0.0, "images": 0}
    loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels).item()
    accuracy = (probs.argmax(1) == labels).double().mean().item()
    return {"loss": loss, "accuracy": accuracy, "images": len(labels)}
