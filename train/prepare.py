"""``python -m train prepare``: FI as found on disk -> a verified, split, hashed manifest.

Writes into ``--out``:

* ``manifest.csv``: ``path,label,split,agree,disagree``, one row per usable image, ``path``
  relative to the data root; every later run and the evaluation read their images from it.
* ``prepare.json``: the data root, layout, seed, split fractions, counts per split and class,
  what was skipped and why, and the manifest's sha256 (recorded in checkpoints).
* ``skipped.csv``: each skipped file or image id with its reason (unreadable, missing, ...).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from train.annotations import discover_annotations
from train.layouts import (
    ANNOTATION_EXTENSIONS,
    SPLITS,
    Discovery,
    Item,
    detect_layout,
    scan_class_folders,
    scan_split_folders,
)
from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError

MANIFEST_FORMAT = "trajectory.fi-manifest"
MANIFEST_COLUMNS = ("path", "label", "split", "agree", "disagree")
PAPER_FRACTIONS = (0.9, 0.05, 0.05)


@dataclass
class Manifest:
    """A prepared dataset: the rows of manifest.csv plus prepare.json."""

    root: Path
    rows: list[Item]
    sha256: str
    info: dict

    def split(self, name: str) -> list[Item]:
        """The rows of one split ("train", "dev" or "test"), in manifest order."""
        return [r for r in self.rows if r.split == name]


def verify_image(path: str) -> str | None:
    """Decodes the whole image. Returns None if it is usable, else the reason it is not."""
    try:
        with Image.open(path) as image:
            image.load()  # a truncated file fails here (PIL's LOAD_TRUNCATED_IMAGES is off)
            if min(image.size) < 1:
                return "empty image"
    except Exception as error:  # noqa: BLE001 - any decoder failure means "unreadable"
        return f"{type(error).__name__}: {error}".splitlines()[0][:200]
    return None


def verify_images(paths: list[str], workers: int) -> list[str | None]:
    """:func:`verify_image` over many files, in ``workers`` processes (1: in this process)."""
    if workers <= 1 or len(paths) < 64:
        return [verify_image(p) for p in paths]
    # spawn, not fork: the parent may hold torch's thread pools, which fork can deadlock.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(verify_image, paths, chunksize=64))


def stratified_split(
    items: list[Item], fractions: tuple[float, float, float], seed: int
) -> list[str]:
    """Assigns "train"/"dev"/"test" per class in the given proportions, reproducibly.

    Each class is ordered by path, then shuffled by a generator seeded with (seed, class index),
    so the split depends only on the seed and the file names, and adding images to one class
    leaves the other classes' splits unchanged. Dev and test get ``round(n * fraction)`` images
    of each class; train gets the rest.

    Returns:
        One split name per item, in the order of ``items``.
    """
    splits = [""] * len(items)
    for c, label in enumerate(EMOTIONS):
        members = sorted(
            (i for i, it in enumerate(items) if it.label == label), key=lambda i: items[i].path
        )
        order = np.random.default_rng([seed, c]).permutation(len(members))
        n_dev = round(len(members) * fractions[1])
        n_test = round(len(members) * fractions[2])
        for rank, j in enumerate(order):
            name = "dev" if rank < n_dev else "test" if rank < n_dev + n_test else "train"
            splits[members[j]] = name
    return splits


def discover(source: Path, layout: str, vote_files: list[Path] | None) -> tuple[Discovery, Path]:
    """Finds the labelled images under ``source``. Returns them and the data root."""
    if vote_files:
        layout = "annotations"
    detected, root = detect_layout(source) if layout == "auto" else (layout, source)
    if detected == "folders":
        return scan_class_folders(root, root), root
    if detected == "splits":
        return scan_split_folders(root), root
    if detected != "annotations":
        raise ValueError(f"unknown layout {layout!r}")
    files = vote_files or sorted(
        p for p in root.iterdir() if p.is_file() and p.suffix.lower() in ANNOTATION_EXTENSIONS
    )
    if not files:
        raise InputError(root, "no annotation files (.csv/.tsv/.txt) found; pass --annotations")
    return discover_annotations(root, files), root


def assign_splits(found: Discovery, fractions, seed: int, resplit: bool) -> str:
    """Fills ``item.split``. Returns how: "kept" (the folders' own split) or "stratified"."""
    present = {it.split for it in found.items}
    if found.layout == "splits" and not resplit and set(SPLITS) <= present:
        return "kept"
    if found.layout == "splits" and not resplit:
        found.notes.append(f"splits {sorted(present)} lack one of {SPLITS}: re-split")
    for item, split in zip(
        found.items, stratified_split(found.items, fractions, seed), strict=True
    ):
        item.split = split
    return "stratified"


def check_splits(found: Discovery, fractions, split_source: str, source) -> None:
    """Refuses a split that came out empty though asked for; notes classes left out.

    ``fit`` needs train and dev images and ``evaluate`` test images: an empty split would
    only fail later, after the manifest was written. A split given fraction 0 may be empty.

    Raises:
        InputError: a split with a fraction above 0 (or, for kept splits, any split) is empty.
    """
    sizes = {name: sum(it.split == name for it in found.items) for name in SPLITS}
    wanted = dict(zip(SPLITS, fractions, strict=True))
    empty = [n for n in SPLITS if sizes[n] == 0 and (split_source == "kept" or wanted[n] > 0)]
    classes = sorted({it.label for it in found.items}, key=EMOTIONS.index)
    if empty:
        raise InputError(
            source,
            f"split {'/'.join(empty)} would get no image ({len(found.items)} images in "
            f"{len(classes)} class(es), split {'/'.join(f'{f:g}' for f in fractions)} rounded "
            "per class); add images or change --split",
        )
    missing = [e for e in EMOTIONS if e not in classes]
    if missing:
        found.notes.append(f"no images of {', '.join(missing)}: the model cannot learn them")
    for name in ("dev", "test"):
        absent = [
            e for e in classes if not any(i.split == name and i.label == e for i in found.items)
        ]
        if absent and wanted[name] > 0 and len(absent) < len(classes):
            found.notes.append(f"{name} has no images of {', '.join(absent)}")


def prepare(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    layout: str = "auto",
    annotations: list[str | os.PathLike] | None = None,
    fractions: tuple[float, float, float] = PAPER_FRACTIONS,
    seed: int = 0,
    resplit: bool = False,
    workers: int = 1,
) -> dict:
    """Builds ``out/manifest.csv``, ``out/prepare.json`` and ``out/skipped.csv`` from ``source``.

    Returns:
        The contents of prepare.json.

    Raises:
        InputError: ``source`` holds nothing usable.
        ValueError: the fractions are not three non-negative numbers summing to 1.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split fractions must be 3 numbers >= 0 summing to 1, got {fractions}")
    vote_files = [Path(p) for p in annotations] if annotations else None
    found, root = discover(Path(source), layout, vote_files)
    problems = verify_images([os.fspath(root / it.path) for it in found.items], workers)
    usable = []
    for item, problem in zip(found.items, problems, strict=True):
        if problem is None:
            usable.append(item)
        else:
            found.skipped["unreadable"] += 1
            found.skipped_files.append((item.path, problem))
    found.items = usable
    if not usable:
        raise InputError(source, "no usable labelled images found")
    split_source = assign_splits(found, fractions, seed, resplit)
    check_splits(found, fractions, split_source, source)
    return write_outputs(Path(out), root.resolve(), found, fractions, seed, split_source)


def _manifest_bytes(items: list[Item]) -> bytes:
    order = {s: i for i, s in enumerate(SPLITS)}
    rows = sorted(items, key=lambda it: (order[it.split], EMOTIONS.index(it.label), it.path))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for it in rows:
        writer.writerow(
            [
                it.path,
                it.label,
                it.split,
                "" if it.agree is None else it.agree,
                "" if it.disagree is None else it.disagree,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def write_outputs(out: Path, root: Path, found: Discovery, fractions, seed, split_source) -> dict:
    """Writes the three files of a prepared dataset and returns prepare.json's contents."""
    out.mkdir(parents=True, exist_ok=True)
    data = _manifest_bytes(found.items)
    counts = {s: dict.fromkeys(EMOTIONS, 0) for s in SPLITS}
    for it in found.items:
        counts[it.split][it.label] += 1
    info = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "root": os.fspath(root),
        "layout": found.layout,
        "split_source": split_source,
        "fractions": list(fractions),
        "seed": seed,
        "images": len(found.items),
        "counts": counts,
        "skipped": dict(sorted(found.skipped.items())),
        "notes": found.notes,
        "manifest_sha256": hashlib.sha256(data).hexdigest(),
    }
    (out / "manifest.csv").write_bytes(data)
    (out / "prepare.json").write_text(json.dumps(info, indent=2) + "\n")
    with open(out / "skipped.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([("file", "reason"), *found.skipped_files])
    return info


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip() else None


def read_manifest(data: str | os.PathLike, image_root: str | os.PathLike | None = None) -> Manifest:
    """Loads a prepared dataset folder (or its manifest.csv).

    Args:
        data: the folder ``prepare`` wrote, or the path of its manifest.csv.
        image_root: where the images are now, if they moved since ``prepare``.

    Raises:
        InputError: the folder is not a prepared dataset.
    """
    folder = Path(data)
    folder = folder.parent if folder.suffix == ".csv" else folder
    try:
        info = json.loads((folder / "prepare.json").read_text())
        raw = (folder / "manifest.csv").read_bytes()
    except (OSError, ValueError) as error:
        raise InputError(
            folder, f"not a prepared dataset; run `python -m train prepare` ({error})"
        ) from None
    if info.get("format") != MANIFEST_FORMAT:
        raise InputError(folder / "prepare.json", f"format is not {MANIFEST_FORMAT!r}")
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    rows = [
        Item(
            r["path"],
            r["label"],
            r["split"],
            _optional_int(r["agree"]),
            _optional_int(r["disagree"]),
        )
        for r in reader
    ]
    root = Path(image_root) if image_root else Path(info["root"])
    return Manifest(root, rows, hashlib.sha256(raw).hexdigest(), info)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train prepare",
        description="Find FI labelled images, skip unreadable ones, split, write a manifest.",
        add_help=add_help,
    )
    parser.add_argument(
        "source",
        help="FI folder: <class>/ folders, train|val|test/<class>/ "
        "folders, or images plus vote files (see train/annotations.py)",
    )
    parser.add_argument("--out", required=True, help="folder for manifest.csv and prepare.json")
    parser.add_argument(
        "--layout", default="auto", choices=("auto", "folders", "splits", "annotations")
    )
    parser.add_argument(
        "--annotations",
        nargs="+",
        metavar="FILE",
        help="vote files (default: .csv/.tsv/.txt files in SOURCE)",
    )
    parser.add_argument(
        "--split",
        nargs=3,
        type=float,
        default=PAPER_FRACTIONS,
        metavar=("TRAIN", "DEV", "TEST"),
        help="fractions (default 0.9 0.05 0.05)",
    )
    parser.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    parser.add_argument(
        "--resplit", action="store_true", help="pool train/val/test folders and split them anew"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that verify images (default: all cores)",
    )
    return parser


def main(args: argparse.Namespace) -> int:
    """Runs :func:`prepare` and prints a one-line summary."""
    info = prepare(
        args.source,
        args.out,
        layout=args.layout,
        annotations=args.annotations,
        fractions=tuple(args.split),
        seed=args.seed,
        resplit=args.resplit,
        workers=args.workers,
    )
    for note in info["notes"]:
        print(f"note: {note}", file=sys.stderr)
    sizes = {s: sum(c.values()) for s, c in info["counts"].items()}
    print(
        f"{info['images']} images ({info['layout']} layout, split {info['split_source']}): "
        f"train {sizes['train']}, dev {sizes['dev']}, test {sizes['test']}; "
        f"skipped {info['skipped'] or 'nothing'}; manifest {Path(args.out) / 'manifest.csv'}"
    )
    return 0
