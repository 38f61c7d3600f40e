"""Images from a manifest to uint8 batches, exactly as ``trajectory`` feeds video frames.

Inference squashes each RGB frame to input_size x input_size with swscale's area filter
(``trajectory.video.Scalers``) and calls ``trajectory.model.normalize`` on uint8 (N, H, W, 3)
batches; training squashes its images with the very same swscale call (PIL's bilinear filter
gave inputs up to 16/255 away from what ``analyze`` feeds the model), then applies the paper's
augmentation (horizontal flip, rotation up to 10 degrees either way, no shear). Normalisation
runs on the device, so workers ship 4x smaller uint8 tensors.

Randomness is keyed, not drawn from shared state: each epoch has a seed, and each sample's
augmentation a seed derived from it and the image index, so a run is repeatable for any number
of loader workers and a resumed epoch sees the same images in the same order.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from train.layouts import Item
from trajectory.emotions import EMOTIONS
from trajectory.video import Scalers

log = logging.getLogger("train")


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation: mirror with probability 0.5 when ``hflip``, rotate +-rotation."""

    hflip: bool = True
    rotation: float = 10.0


def squash(rgb: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> (size, size, 3), resampled exactly as ``analyze`` resamples frames.

    A fresh swscale context per image: contexts are not picklable (DataLoader workers on macOS
    start by pickling the dataset), and at image sizes building one costs little.
    """
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return Scalers().to_ndarray(frame, size, size, "rgb24")


def load_image(path: str | Path, size: int) -> Image.Image:
    """Opens any image as RGB and squashes it to ``size`` x ``size`` (see :func:`squash`)."""
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    return Image.fromarray(squash(rgb, size))


def augment(image: Image.Image, aug: Augment, rng: random.Random) -> Image.Image:
    """Mirrors and rotates ``image`` (corners uncovered by the rotation are black)."""
    if aug.hflip and rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if aug.rotation > 0:
        angle = rng.uniform(-aug.rotation, aug.rotation)
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0))
    return image


class ManifestDataset(Dataset):
    """Items of one split as (uint8 (H, W, 3) tensor, class index, item index).

    Indexed by ``(index, seed)`` pairs from :class:`KeyedSampler`. An image that cannot be read
    yields None, which :func:`collate` drops and counts, so a bad file never stops a run.
    """

    def __init__(self, root: Path, items: list[Item], size: int, aug: Augment | None = None):
        self.root = Path(root)
        self.items = items
        self.size = size
        self.aug = aug
        self.labels = [EMOTIONS.index(it.label) for it in items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: tuple[int, int]):
        index, seed = key
        path = self.root / self.items[index].path
        try:
            image = load_image(path, self.size)
        except Exception as error:  # noqa: BLE001 - any decoder failure: skip and count
            log.warning("skipping unreadable image %s (%s)", path, error)
            return None
        if self.aug is not None:
            image = augment(image, self.aug, random.Random(f"{seed}/{index}"))
        return torch.from_numpy(np.asarray(image).copy()), self.labels[index], index


class KeyedSampler(Sampler):
    """Yields ``(index, seed)``: a shuffled (or in-order) pass whose order depends on the seed.

    Call :meth:`set_seed` before each epoch.
    """

    def __init__(self, n: int, shuffle: bool):
        self.n = n
        self.shuffle = shuffle
        self.seed = 0

    def set_seed(self, seed: int) -> None:
        self.seed = seed

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.shuffle:
            order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed))
        else:
            order = torch.arange(self.n)
        return iter([(int(i), self.seed) for i in order])


@dataclass
class Batch:
    """images: uint8 (N, H, W, 3); labels, indices: int64 (N,); skipped: unreadable images."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    skipped: int

    def pin_memory(self) -> Batch:
        return Batch(self.images.pin_memory(), self.labels.pin_memory(), self.indices, self.skipped)


def collate(samples: list) -> Batch:
    """Stacks the readable samples of a batch and counts the rest."""
    good = [s for s in samples if s is not None]
    if not good:
        return Batch(
            torch.empty(0, 0, 0, 3, dtype=torch.uint8),
            torch.empty(0, dtype=torch.long),
            torch.empty(0, dtype=torch.long),
            len(samples),
        )
    images, labels, indices = zip(*good, strict=True)
    return Batch(
        torch.stack(images), torch.tensor(labels), torch.tensor(indices), len(samples) - len(good)
    )


def make_loader(
    dataset: ManifestDataset, batch_size: int, *, shuffle: bool, workers: int, pin: bool
) -> DataLoader:
    """A DataLoader over ``dataset`` driven by a :class:`KeyedSampler` (``loader.sampler``)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=KeyedSampler(len(dataset), shuffle),
        num_workers=workers,
        collate_fn=collate,
        pin_memory=pin,
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
    )
