"""FI vote files: majority labels and duplicate resolution (Sreenivas & Zhao, section 3.2).

FI was built by showing each (image, emotion) pair to 5 Mechanical Turk workers who agreed or
disagreed. A vote file has one row per pair. Accepted, liberally:

* CSV, TSV, or whitespace-separated text; blank lines and ``#`` comments are ignored.
* With a header naming the columns: an image column (``id``, ``image``, ``image_id``, ``file``,
  ``filename``, ``path``, ``url``, ``image_url``, ``link``, ``name``), an emotion column
  (``emotion``, ``label``, ``class``, ``category``), and the counts (``agree`` / ``votes_agree`` /
  ``yes`` and ``disagree`` / ``votes_disagree`` / ``no``; or ``agree`` plus a ``votes``/``total``
  column).
* Without a header: ``image agree disagree`` or ``image emotion agree disagree`` (in any column
  order: the emotion column is the one whose values are class names).
* Without an emotion column, the emotion comes from the file name (``amusement.csv``,
  ``fi_sad_votes.txt``).

An image is identified by the file name of its id or URL without extension (the Flickr photo id
for FI's URLs), and found under the image folder by relative path, file name or that stem.
A pair is kept when a majority agreed (agree > disagree: 3 or more of 5). When several emotions
of one image are kept, the least divisive one wins: the highest agree share, then the most agree
votes, then the earlier class in the paper's order.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from train.layouts import Discovery, Item, class_of, is_image
from trajectory.emotions import EMOTIONS, canonical_emotion
from trajectory.errors import InputError

ID_COLUMNS = (
    "id",
    "image",
    "image_id",
    "img",
    "file",
    "filename",
    "path",
    "url",
    "image_url",
    "link",
    "name",
)
EMOTION_COLUMNS = ("emotion", "label", "class", "category", "emotion_label")
AGREE_COLUMNS = ("agree", "agrees", "votes_agree", "agree_votes", "num_agree", "yes")
DISAGREE_COLUMNS = (
    "disagree",
    "disagrees",
    "votes_disagree",
    "disagree_votes",
    "num_disagree",
    "no",
)
TOTAL_COLUMNS = ("votes", "total", "num_votes", "total_votes")


@dataclass(frozen=True)
class Vote:
    """The votes for one (image, emotion) pair."""

    image: str  # the id as written in the file
    emotion: str
    agree: int
    disagree: int

    @property
    def key(self) -> str:
        """The image's identity: file name without extension of the id or URL path."""
        path = urlparse(self.image).path if "://" in self.image else self.image
        return PurePosixPath(path.replace("\\", "/")).stem

    def salience(self) -> tuple[float, int, int]:
        """Sort key, larger is less divisive (see the module docstring)."""
        total = max(self.agree + self.disagree, 1)
        return (self.agree / total, self.agree, -EMOTIONS.index(self.emotion))


def _read_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    if "\t" in lines[0] or "," in lines[0]:
        return [
            [f.strip() for f in row]
            for row in csv.reader(lines, delimiter="\t" if "\t" in lines[0] else ",")
        ]
    return [ln.split() for ln in lines]


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _is_int(value: str) -> bool:
    return re.fullmatch(r"\d+", value.strip()) is not None


def _columns_from_header(header: list[str]) -> dict[str, int | None] | None:
    header = [h.strip().lower().replace(" ", "_") for h in header]
    cols = {
        "image": _find(header, ID_COLUMNS),
        "emotion": _find(header, EMOTION_COLUMNS),
        "agree": _find(header, AGREE_COLUMNS),
        "disagree": _find(header, DISAGREE_COLUMNS),
        "total": _find(header, TOTAL_COLUMNS),
    }
    return cols if cols["image"] is not None and cols["agree"] is not None else None


def _columns_from_values(rows: list[list[str]]) -> dict[str, int | None] | None:
    sample = [r for r in rows[:50] if len(r) == len(rows[0])]
    width = len(rows[0])
    numeric = [i for i in range(width) if all(_is_int(r[i]) for r in sample)]
    emotion = [i for i in range(width) if i not in numeric and all(class_of(r[i]) for r in sample)]
    text = [i for i in range(width) if i not in numeric and i not in emotion]
    if len(numeric) != 2 or len(text) != 1 or len(emotion) > 1:
        return None
    return {
        "image": text[0],
        "emotion": emotion[0] if emotion else None,
        "agree": numeric[0],
        "disagree": numeric[1],
        "total": None,
    }


def _emotion_from_name(path: Path) -> str | None:
    for token in re.split(r"[^a-zA-Z]+", path.stem):
        if token and class_of(token):
            return class_of(token)
    return None


def parse_vote_file(path: Path) -> tuple[list[Vote], int]:
    """Reads one vote file. Returns the votes and the number of rows that could not be used.

    Raises:
        InputError: the columns cannot be worked out, or no emotion is given at all.
    """
    rows = _read_rows(path)
    if not rows:
        return [], 0
    cols = _columns_from_header(rows[0])
    if cols is not None:
        rows = rows[1:]
    elif (cols := _columns_from_values(rows)) is None:
        raise InputError(
            path,
            "cannot tell the image, emotion and agree/disagree columns apart; "
            "add a header such as 'image,emotion,agree,disagree'",
        )
    fallback = _emotion_from_name(path)
    if cols["emotion"] is None and fallback is None:
        raise InputError(path, "has no emotion column and its file name names no emotion")
    if cols["disagree"] is None and cols["total"] is None:
        raise InputError(path, "has agree counts but neither disagree nor total votes")
    votes, bad = [], 0
    for row in rows:
        try:
            votes.append(_vote_from_row(row, cols, fallback))
        except (IndexError, ValueError):
            bad += 1
    return votes, bad


def _vote_from_row(row: list[str], cols: dict[str, int | None], fallback: str | None) -> Vote:
    emotion = canonical_emotion(row[cols["emotion"]]) if cols["emotion"] is not None else fallback
    agree = int(row[cols["agree"]])
    if cols["disagree"] is not None:
        disagree = int(row[cols["disagree"]])
    else:
        disagree = int(row[cols["total"]]) - agree
    image = row[cols["image"]].strip()
    if not image or agree < 0 or disagree < 0:
        raise ValueError(f"bad row {row}")
    return Vote(image, emotion, agree, disagree)


def resolve_votes(votes: list[Vote]) -> tuple[dict[str, Vote], Counter]:
    """Keeps majority-agreed pairs, then one label per image: the least divisive.

    Returns:
        The kept vote per image key, and counts of what was dropped: ``minority`` (pairs without
        a majority), ``duplicate_labels`` (majority labels lost to a less divisive one of the same
        image), ``images_with_duplicates``.
    """
    stats = Counter()
    by_image: dict[str, list[Vote]] = defaultdict(list)
    for vote in votes:
        if vote.agree > vote.disagree:
            by_image[vote.key].append(vote)
        else:
            stats["minority"] += 1
    kept = {}
    for key in sorted(by_image):
        candidates = by_image[key]
        kept[key] = max(candidates, key=Vote.salience)
        labels = {v.emotion for v in candidates}
        if len(labels) > 1:
            stats["images_with_duplicates"] += 1
            stats["duplicate_labels"] += len(labels) - 1
    return kept, stats


class ImageIndex:
    """Finds an image under ``root`` by relative path, file name, or file name without extension."""

    def __init__(self, root: Path):
        self.root = root
        self.by_path: set[str] = set()
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_stem: dict[str, list[str]] = defaultdict(list)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and is_image(p)):
            rel = path.relative_to(root).as_posix()
            self.by_path.add(rel)
            self.by_name[path.name].append(rel)
            self.by_stem[path.stem].append(rel)

    def find(self, vote: Vote) -> str | None:
        """The relative path of the vote's image; among several, one in its emotion's folder."""
        if vote.image in self.by_path:
            return vote.image
        name = PurePosixPath(urlparse(vote.image).path if "://" in vote.image else vote.image).name
        candidates = self.by_name.get(name) or self.by_stem.get(vote.key) or []
        for rel in candidates:
            if any(class_of(part) == vote.emotion for part in PurePosixPath(rel).parts[:-1]):
                return rel
        return candidates[0] if candidates else None


def discover_annotations(images_root: Path, vote_files: list[Path]) -> Discovery:
    """Labelled images from vote files; images named in them but absent count as ``missing``."""
    found = Discovery("annotations", [])
    votes = []
    for path in vote_files:
        file_votes, bad = parse_vote_file(path)
        votes += file_votes
        found.skipped["bad_rows"] += bad
        found.notes.append(f"{path.name}: {len(file_votes)} votes")
    kept, stats = resolve_votes(votes)
    found.skipped.update(stats)
    index = ImageIndex(images_root)
    for key in sorted(kept):
        vote = kept[key]
        rel = index.find(vote)
        if rel is None:
            found.skipped["missing"] += 1
            found.skipped_files.append((vote.image, "missing"))
            continue
        found.items.append(Item(rel, vote.emotion, None, vote.agree, vote.disagree))
    return found
