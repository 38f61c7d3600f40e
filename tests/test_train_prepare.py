"""``train prepare``: FI layouts, majority votes, duplicates, seeded stratified split, bad files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from train.__main__ import main as train_main
from train.annotations import Vote, parse_vote_file, resolve_votes
from train.prepare import prepare, read_manifest
from trajectory.emotions import EMOTIONS

REPO = Path(__file__).resolve().parents[1]


def write_jpeg(path: Path, seed: int = 0, size: int = 24) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def manifest_rows(folder: Path) -> list[dict]:
    with open(folder / "manifest.csv") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Case:
    """One image's vote rows and the label prepare must keep (None: dropped)."""

    image: str
    votes: tuple[tuple[str, int, int], ...]
    kept: str | None


CASES = [
    Case("1001_a", (("amusement", 4, 1),), "amusement"),
    Case("1002_b", (("anger", 2, 3),), None),  # no majority
    Case("1003_c", (("awe", 3, 2), ("contentment", 5, 0)), "contentment"),  # least divisive
    Case("1004_d", (("fear", 3, 2), ("sadness", 4, 1), ("disgust", 1, 4)), "sadness"),
    Case("1005_e", (("excitement", 3, 2), ("amusement", 3, 2)), "amusement"),  # tie: paper order
    Case("1006_f", (("disgust", 5, 0), ("disgust", 3, 2)), "disgust"),  # repeated row
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.image)
def test_majority_and_least_divisive_label(case):
    votes = [
        Vote(f"https://farm1.staticflickr.com/1/{case.image}.jpg", e, a, d)
        for e, a, d in case.votes
    ]
    kept, _ = resolve_votes(votes)
    assert (kept[case.image].emotion if case.image in kept else None) == case.kept


def write_annotated_fi(root: Path) -> None:
    """Images named by Flickr id in per-emotion folders, plus one CSV of votes for all of them."""
    rows = [("image_url", "emotion", "votes_agree", "votes_disagree")]
    for case in CASES:
        rows += [
            (f"http://farm.example/x/{case.image}.jpg", e.capitalize(), a, d)
            for e, a, d in case.votes
        ]
        write_jpeg(root / "images" / case.votes[0][0] / f"{case.image}.jpg")
    for c, label in enumerate(("amusement", "sadness")):  # two classes of 20 for the split
        for i in range(20):
            name = f"{2000 + 100 * c + i}_z"
            rows.append((f"http://farm.example/y/{name}.jpg", label, 3 + i % 3, 2 - i % 3))
            write_jpeg(root / "images" / label / f"{name}.jpg", seed=i)
    rows.append(("http://farm.example/gone/9999_q.jpg", "awe", 5, 0))  # expired link
    truncate(root / "images" / "amusement" / "2005_z.jpg")
    (root / "images" / "sadness" / "2107_z.jpg").write_bytes(b"<html>404</html>")
    with open(root / "votes.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_prepare_annotations(tmp_path: Path):
    write_annotated_fi(tmp_path / "fi")
    info = prepare(
        tmp_path / "fi",
        tmp_path / "a",
        annotations=[tmp_path / "fi" / "votes.csv"],
        fractions=(0.8, 0.1, 0.1),
        seed=3,
    )
    rows = manifest_rows(tmp_path / "a")
    labels = {Path(r["path"]).stem: r["label"] for r in rows}
    for case in CASES:
        assert labels.get(case.image) == case.kept, case.image
    assert info["skipped"]["unreadable"] == 2 and info["skipped"]["missing"] == 1
    assert info["skipped"]["minority"] == 2  # 1002_b anger, 1004_d disgust
    assert "2005_z" not in labels and "2107_z" not in labels
    skipped = (tmp_path / "a" / "skipped.csv").read_text()
    assert "2005_z.jpg" in skipped and "9999_q" in skipped
    by_split = Counter((r["label"], r["split"]) for r in rows)
    assert by_split[("amusement", "dev")] == by_split[("amusement", "test")] == 2  # of 21
    assert by_split[("sadness", "dev")] == by_split[("sadness", "test")] == 2  # of 20
    assert {r["agree"] for r in rows} <= {"3", "4", "5"}


def test_split_is_deterministic_and_seeded(tmp_path: Path):
    write_annotated_fi(tmp_path / "fi")
    votes = [tmp_path / "fi" / "votes.csv"]
    a = prepare(tmp_path / "fi", tmp_path / "a", annotations=votes, seed=7)
    b = prepare(tmp_path / "fi", tmp_path / "b", annotations=votes, seed=7)
    c = prepare(tmp_path / "fi", tmp_path / "c", annotations=votes, seed=8)
    assert a["manifest_sha256"] == b["manifest_sha256"] != c["manifest_sha256"]
    assert read_manifest(tmp_path / "a").sha256 == a["manifest_sha256"]
    assert sum(a["counts"]["train"].values()) == sum(c["counts"]["train"].values())


def test_headerless_vote_files_named_by_emotion(tmp_path: Path):
    (tmp_path / "fi").mkdir()
    (tmp_path / "fi" / "Amusement_votes.txt").write_text(
        "# id agree disagree\n11_a 3 2\n12_b 1 4\n"
    )
    (tmp_path / "fi" / "sad.tsv").write_text("13_c\t5\t0\n11_a\t5\t0\n")
    votes, bad = parse_vote_file(tmp_path / "fi" / "Amusement_votes.txt")
    assert bad == 0 and [(v.key, v.emotion) for v in votes] == [
        ("11_a", "amusement"),
        ("12_b", "amusement"),
    ]
    for name in ("11_a", "12_b", "13_c"):
        write_jpeg(tmp_path / "fi" / "img" / f"{name}.png")
    prepare(tmp_path / "fi", tmp_path / "out", fractions=(1.0, 0.0, 0.0))
    labels = {Path(r["path"]).stem: r["label"] for r in manifest_rows(tmp_path / "out")}
    assert labels == {"11_a": "sadness", "13_c": "sadness"}


def test_class_folders_any_case_and_abbreviations(tmp_path: Path):
    names = {
        "AMUSE": "amusement",
        "anger": "anger",
        "Awe": "awe",
        "content": "contentment",
        "disgust": "disgust",
        "excit": "excitement",
        "fear": "fear",
        "Sad": "sadness",
    }
    for folder in names:
        for i in range(20):
            write_jpeg(tmp_path / "FI" / folder / f"{i}.JPG", seed=i)
    write_jpeg(tmp_path / "FI" / "thumbnails" / "x.jpg")
    (tmp_path / "FI" / "Sad" / "notes.txt").write_text("not an image")
    (tmp_path / "FI" / "Sad" / "empty.jpg").write_bytes(b"")
    info = prepare(tmp_path / "FI", tmp_path / "out", workers=2)  # 162 files: a process pool
    assert info["layout"] == "folders" and info["skipped"] == {"unreadable": 1}
    assert any("thumbnails" in n for n in info["notes"])
    for label in EMOTIONS:
        assert [info["counts"][s][label] for s in ("train", "dev", "test")] == [18, 1, 1]


def test_train_val_test_folders_keep_their_split(tmp_path: Path):
    for split, n in (("train", 3), ("val", 2), ("test", 1)):
        for i in range(n):
            write_jpeg(tmp_path / "FI" / split / "fear" / f"{i}.jpg", seed=i)
    info = prepare(tmp_path / "FI", tmp_path / "out")
    assert info["layout"] == "splits" and info["split_source"] == "kept"
    assert [info["counts"][s]["fear"] for s in ("train", "dev", "test")] == [3, 2, 1]
    info = prepare(tmp_path / "FI", tmp_path / "re", resplit=True, fractions=(0.5, 0.5, 0.0))
    assert info["split_source"] == "stratified"
    assert json.loads((tmp_path / "re" / "prepare.json").read_text())["counts"] == info["counts"]


def test_cli_bad_source_exits_2(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "train",
            "prepare",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no such folder" in result.stderr and "Traceback" not in result.stderr


def test_one_class_refuses_empty_splits_and_fit_leaves_no_empty_out(tmp_path: Path, capsys):
    for i in range(6):
        write_jpeg(tmp_path / "FI" / "fear" / f"{i}.jpg", seed=i)
    # 6 images of one class: 5% of 6 rounds to 0 dev and 0 test images.
    code = train_main(
        ["prepare", str(tmp_path / "FI"), "--out", str(tmp_path / "d"), "--workers", "1"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "dev/test would get no image" in err[0]
    assert not (tmp_path / "d").exists()
    # Asked for no dev split: prepare notes the missing classes; fit then refuses, leaving no --out.
    code = train_main(
        ["prepare", str(tmp_path / "FI"), "--out", str(tmp_path / "d"), "--split", "1", "0", "0"]
    )
    assert code == 0 and "no images of amusement" in capsys.readouterr().err
    fit = ["fit", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "run"), "--quiet"]
    code = train_main([*fit, "--backbone", "random", "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "needs train and dev images" in err[-1]
    assert not (tmp_path / "run").exists()
