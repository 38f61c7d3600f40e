"""EmotionNet: torchvision's VGG19 convolutional features with the paper's single 8-way head.

The three fully connected layers of VGG19 are replaced by dropout 0.5 and one Linear(25088, 8)
(Sreenivas & Zhao, section 4.2). Module names follow torchvision's VGG, so ``features.34`` is
conv5_4 and ImageNet weights load unchanged.

Checkpoints describe themselves (format, architecture, classes, preprocessing) and are loaded with
``torch.load(weights_only=True)``, which refuses any pickle that would execute code.

A model's identity (``EmotionModel.sha256``, written to tags.json and keyed in resume logs) is a
hash of what decides its outputs: architecture, classes, preprocessing and weights. It is not the
file's hash, so ``train evaluate --write-to-checkpoint`` adding metrics to the file, or saving the
weights in another memory layout, leaves earlier outputs matching the model.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torchvision.models import VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.files import atomic_write

CHECKPOINT_FORMAT = "trajectory.emotionnet"
CHECKPOINT_VERSION = 1
ARCH = "vgg19"
FEATURE_DIM = 512 * 7 * 7  # VGG19 conv5 channels x adaptive pool 7x7
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """How frames become model input. Stored in the checkpoint; inference never guesses it."""

    input_size: int = 224
    resize: str = "squash"  # resize both sides to input_size, ignoring aspect (the paper's)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


class EmotionNet(nn.Module):
    """VGG19 features -> adaptive average pool 7x7 -> flatten -> dropout -> Linear(25088, C).

    ``forward`` takes normalised images (N, 3, H, W) float and returns logits (N, C); any
    H, W >= 32 works (the pool makes the head size-independent), which lets tests run small.
    """

    def __init__(self, num_classes: int = len(EMOTIONS), dropout: float = 0.5):
        super().__init__()
        self.features = make_layers(cfgs["E"])  # VGG19's 16 conv layers, torchvision's indices
        for module in self.features.modules():  # torchvision's VGG initialisation
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(FEATURE_DIM, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))

    def forward_with_pooled(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, C) logits and (N, 512) global-average-pooled last conv features (scene cues)."""
        maps = self.features(x)
        logits = self.classifier(torch.flatten(self.avgpool(maps), 1))
        return logits, maps.mean(dim=(2, 3))


def build_emotionnet(backbone: str | os.PathLike = "imagenet", dropout: float = 0.5) -> EmotionNet:
    """Creates an EmotionNet whose convolutional layers start from ``backbone``.

    Args:
        backbone: ``"imagenet"`` for torchvision's ImageNet VGG19 weights (downloaded once into
            torch's hub cache), a path to a local VGG19 state dict (``vgg19-dcbb9e9d.pth`` or any
            file with ``features.*`` keys), or ``"random"`` for random initialisation, which
            must be asked for explicitly.
    """
    net = EmotionNet(dropout=dropout)
    if backbone == "random":
        return net
    if backbone == "imagenet":
        state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
        source = "torchvision VGG19_Weights.IMAGENET1K_V1"
    else:
        state = _load_state_file(Path(backbone))
        source = os.fspath(backbone)
    features = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    if not features:
        raise InputError(source, "has no VGG19 'features.*' weights")
    try:
        net.features.load_state_dict(features)
    except RuntimeError as error:
        raise InputError(source, f"does not match VGG19's convolutional layers: {error}") from None
    return net


@dataclass
class EmotionModel:
    """A loaded checkpoint: the network plus everything needed to use it correctly.

    Attributes:
        sha256: the model's identity, :func:`model_identity` (not the file's hash).
        file_sha256: the checkpoint file's hash, which changes when metrics are added.
    """

    net: EmotionNet
    classes: tuple[str, ...]
    preprocessing: Preprocessing
    sha256: str | None = None
    path: str | None = None
    training: dict = field(default_factory=dict)
    file_sha256: str | None = None

    def describe(self) -> dict:
        """The ``model`` block of tags.json."""
        return {"arch": ARCH, "sha256": self.sha256, "classes": list(self.classes)}


def save_checkpoint(
    path: str | os.PathLike,
    net: EmotionNet,
    preprocessing: Preprocessing = Preprocessing(),
    training: dict | None = None,
) -> None:
    """Writes the checkpoint atomically (temp file in the same folder, then rename).

    ``training`` must be plain data (dicts, lists, str, numbers): it is stored next to the
    weights so a checkpoint records its recipe, metrics and data manifest.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "arch": ARCH,
        "classes": list(EMOTIONS),
        "input_size": preprocessing.input_size,
        "resize": preprocessing.resize,
        "mean": list(preprocessing.mean),
        "std": list(preprocessing.std),
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "training": training or {},
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write(path, buffer.getvalue())


def _load_state_file(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "is not a file")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles before refusing them
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unsafe pickle"
        raise InputError(path, f"refused: not a plain weights file ({first})") from None
    except Exception as error:  # arbitrary bytes fail in arbitrary ways (a text file: KeyError)
        raise InputError(
            path, f"not a readable PyTorch checkpoint ({type(error).__name__}: {error})"
        ) from None


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_identity(
    state_dict: dict[str, torch.Tensor], preprocessing: Preprocessing, classes: tuple[str, ...]
) -> str:
    """sha256 over the architecture, classes, preprocessing and every weight, in key order.

    Each tensor contributes its name, dtype, shape and bytes in contiguous (NCHW) order, so the
    identity does not depend on the memory layout the weights were saved in, nor on anything
    else stored in the checkpoint (the training record, metrics).
    """
    digest = hashlib.sha256()
    header = {"arch": ARCH, "classes": list(classes), "preprocessing": asdict(preprocessing)}
    digest.update(repr(sorted(header.items())).encode())
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> EmotionModel:
    """Loads an EmotionNet checkpoint without executing pickled code.

    Raises:
        InputError: the file is missing, not a checkpoint, unsafe, or of a format, architecture
            or class list this version does not understand.
    """
    path = Path(path)
    payload = _load_state_file(path)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise InputError(
            path, f"not a trajectory EmotionNet checkpoint (format != {CHECKPOINT_FORMAT!r})"
        )
    if payload.get("version") != CHECKPOINT_VERSION:
        raise InputError(path, f"checkpoint version {payload.get('version')!r} is not supported")
    if payload.get("arch") != ARCH:
        raise InputError(
            path, f"architecture {payload.get('arch')!r} is not supported (need {ARCH})"
        )
    classes = tuple(payload.get("classes") or ())
    if classes != EMOTIONS:
        raise InputError(
            path,
            f"class list {list(classes)} does not match the 8 emotion classes {list(EMOTIONS)}",
        )
    try:
        preprocessing = Preprocessing(
            input_size=int(payload["input_size"]),
            resize=str(payload["resize"]),
            mean=tuple(float(x) for x in payload["mean"]),
            std=tuple(float(x) for x in payload["std"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(path, f"checkpoint preprocessing is incomplete ({error})") from None
    if (
        preprocessing.resize != "squash"
        or len(preprocessing.mean) != 3
        or preprocessing.input_size < 32
    ):
        raise InputError(path, f"unsupported preprocessing {asdict(preprocessing)}")
    net = EmotionNet(num_classes=len(classes))
    try:
        net.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError) as error:
        raise InputError(
            path, f"weights do not fit EmotionNet ({str(error).splitlines()[0]})"
        ) from None
    net.eval().to(device)
    return EmotionModel(
        net=net,
        classes=classes,
        preprocessing=preprocessing,
        sha256=model_identity(payload["state_dict"], preprocessing, classes),
        path=os.fspath(path),
        training=payload.get("training") or {},
        file_sha256=file_sha256(path),
    )


def normalize(images: torch.Tensor, preprocessing: Preprocessing) -> torch.Tensor:
    """uint8 images (N, H, W, 3) -> normalised float (N, 3, H, W) on the images' device.

    The result is channels-last in memory, which the convolutions prefer on CPU and GPU alike.
    """
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(preprocessing.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(preprocessing.std, device=x.device).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)
