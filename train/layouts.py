"""Finding FI's images and labels in the layouts people actually have.

Three layouts are understood (see :func:`discover`):

* ``folders``: ``ROOT/<class>/*.jpg`` with full or abbreviated class names in any case
  (``Amusement``, ``amuse``, ``SAD``), optionally one level down (``ROOT/emotion_dataset/<class>``).
* ``splits``: ``ROOT/{train,val,test}/<class>/*.jpg`` (``val`` may be ``valid``, ``validation``
  or ``dev``).
* ``annotations``: vote files in the style of the original FI release: one row per (image, emotion)
  with the number of workers who agreed and disagreed; see :mod:`train.annotations`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from trajectory.emotions import canonical_emotion
from trajectory.errors import InputError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
ANNOTATION_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})
SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "dev",
    "valid": "dev",
    "validation": "dev",
    "dev": "dev",
    "test": "test",
    "testing": "test",
}
SPLITS = ("train", "dev", "test")


@dataclass
class Item:
    """One labelled image. ``path`` is relative to the data root, with forward slashes."""

    path: str
    label: str
    split: str | None = None
    agree: int | None = None
    disagree: int | None = None


@dataclass
class Discovery:
    """What :func:`discover` found: the layout, the labelled images, and what it left out."""

    layout: str
    items: list[Item]
    skipped: Counter = field(default_factory=Counter)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (file or id, reason)
    notes: list[str] = field(default_factory=list)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def class_of(name: str) -> str | None:
    """The canonical emotion for a folder name, or None when it is not a class folder."""
    try:
        return canonical_emotion(name)
    except ValueError:
        return None


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_under(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f) for f in sorted(filenames) if is_image(Path(f))]
    return found


def scan_class_folders(root: Path, base: Path, split: str | None = None) -> Discovery:
    """Images in ``base/<class>/**`` labelled by their class folder; other folders are noted."""
    found = Discovery("folders", [])
    for sub in _subdirs(base):
        label = class_of(sub.name)
        if label is None:
            found.notes.append(f"ignored folder {sub.relative_to(root).as_posix()}/ (not a class)")
            continue
        for image in _images_under(sub):
            found.items.append(Item(image.relative_to(root).as_posix(), label, split))
    return found


def scan_split_folders(root: Path) -> Discovery:
    """Images in ``root/{train,val,test}/<class>/**``, keeping the split they came in."""
    found = Discovery("splits", [])
    for sub in _subdirs(root):
        split = SPLIT_NAMES.get(sub.name.lower())
        if split is None:
            found.notes.append(f"ignored folder {sub.name}/ (not train, val or test)")
            continue
        part = scan_class_folders(root, sub, split)
        found.items += part.items
        found.notes += part.notes
    return found


def detect_layout(root: Path) -> tuple[str, Path]:
    """Returns ("folders" | "splits" | "annotations", the folder holding the class folders).

    Raises:
        InputError: nothing recognisable under ``root``.
    """
    if not root.is_dir():
        raise InputError(root, "no such folder" if not root.exists() else "is not a folder")
    subdirs = _subdirs(root)
    names = [d.name for d in subdirs]
    if any(class_of(n) for n in names):
        return "folders", root
    if any(n.lower() in SPLIT_NAMES for n in names):
        return "splits", root
    if any(p.suffix.lower() in ANNOTATION_EXTENSIONS for p in root.iterdir() if p.is_file()):
        return "annotations", root
    if len(subdirs) == 1:
        return detect_layout(subdirs[0])
    raise InputError(
        root,
        "found neither class folders (amusement/, anger/, ...), nor train/val/test folders, "
        "nor annotation files (.csv/.tsv/.txt); see `python -m train prepare --help`",
    )
