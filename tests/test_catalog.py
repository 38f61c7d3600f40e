"""Catalogue mode end to end: resuming after SIGKILL, per-film isolation, content ids, the lock."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import psutil
import pytest
from catalog_helpers import (
    assert_same_outputs,
    film_folders,
    kill_after_first_film,
    make_library,
    run_catalog,
)
from click.testing import CliRunner
from report_helpers import make_video

from trajectory.catalog import sources
from trajectory.catalog.engine import LocalEngine
from trajectory.catalog.run import EXIT_SOME_FAILED, catalog_lock
from trajectory.catalog.run import run_catalog as catalog_run
from trajectory.catalog.stages import Settings
from trajectory.cli import main
from trajectory.model import load_checkpoint
from trajectory.signatures import MEASURED_DEEP_WEIGHT


def _rows(catalog: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(catalog / "catalog.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM films ORDER BY path").fetchall()
    finally:
        db.close()


def test_catalogue_resumes_after_sigkill(tmp_path, tiny_checkpoint):
    library = tmp_path / "library"
    good = make_library(library)
    options = ["--model", str(tiny_checkpoint), "--fps", "4", "--device", "cpu", "--workers", "2"]

    # The clean run in this process (torch is loaded already); the others as the command.
    model = load_checkpoint(tiny_checkpoint)
    settings = Settings(4.0, str(tiny_checkpoint), model.describe(), 32, 8, "cpu")
    engine = LocalEngine(2, model)
    clean = catalog_run([library], tmp_path / "clean", settings, engine, progress=False)
    assert len(clean.done) == len(good) and len(clean.failed) == 1
    assert clean.exit_code == EXIT_SOME_FAILED

    catalog = tmp_path / "catalog"
    args = [str(library), "--out", str(catalog), *options]
    done_at_kill, decoders = kill_after_first_film(args, catalog)
    assert 1 <= done_at_kill < len(good), "the kill did not land mid-way"
    _, alive = psutil.wait_procs(decoders, timeout=30)
    assert not alive, "decoder processes outlived the killed driver"

    rerun = run_catalog(*args)
    assert rerun.returncode == EXIT_SOME_FAILED, rerun.stderr
    assert f"{done_at_kill} already done" in rerun.stderr

    rows = _rows(catalog)
    by_path = {Path(r["path"]).name: r for r in rows}
    assert len(rows) == len(by_path) == len(good) + 1  # every film exactly once
    assert {n for n, r in by_path.items() if r["status"] == "done"} == set(good)
    broken = by_path["broken.mkv"]
    assert broken["status"] == "failed"
    assert broken["error"] == "the video stream has no decodable frame"
    done_ids = {r["id"] for r in rows if r["status"] == "done"}
    assert set(film_folders(catalog)) == done_ids  # nothing half-published, nothing extra
    assert not list((catalog / ".work").glob("*")), "score logs of finished films stay behind"
    assert not [p for p in catalog.rglob("*") if ".partial" in p.name]
    clean_folders = film_folders(tmp_path / "clean")
    for film_id in done_ids:
        assert_same_outputs(clean_folders[film_id], catalog / "films" / film_id)
    # ... and each is what `trajectory analyze` writes for that film.
    command = ["analyze", str(good["film3.mkv"]), "--out", str(tmp_path / "analyze"), "--fps",
               "4", "--model", str(tiny_checkpoint), "--quiet"]  # fmt: skip
    analysed = CliRunner().invoke(main, command)
    assert analysed.exit_code == 0, analysed.output
    assert_same_outputs(tmp_path / "analyze", catalog / "films" / by_path["film3.mkv"]["id"])
    # ... with the model's pooled features in the grouping (carried through resume as well).
    for film_id in done_ids:
        tags = json.loads((catalog / "films" / film_id / "tags.json").read_text())
        assert tags["scene_grouping"]["deep_weight"] == MEASURED_DEEP_WEIGHT
        with np.load(catalog / "films" / film_id / "shots.npz") as shots:
            assert np.abs(shots["deep"]).sum(axis=1).min() > 0

    db = sqlite3.connect(catalog / "catalog.db")
    skipped = dict(db.execute("SELECT path, reason FROM skipped").fetchall())
    assert skipped[str(library / "sound.wav")] == "no video stream (audio only)"
    assert "not a readable video" in skipped[str(library / "notes.txt.bak")]
    scenes = db.execute("SELECT film_id, count(*) FROM scenes GROUP BY film_id").fetchall()
    assert {f for f, _ in scenes} == done_ids
    page = (catalog / "index.html").read_text()
    assert "broken.mkv" in page and "sound.wav" in page
    assert "A &lt;b&gt;title&lt;/b&gt; &amp; more" in page and "<b>title</b>" not in page


def test_replaced_moved_and_forced_films(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    first = make_video(library / "one.mp4", seconds=3)
    make_video(library / "two.mp4", seconds=4)
    catalog = tmp_path / "catalog"
    args = [str(library), "--out", str(catalog), "--no-model", "--quiet"]
    assert run_catalog(*args).returncode == 0
    before = {Path(r["path"]).name: r["id"] for r in _rows(catalog)}

    make_video(first, seconds=5, fps=15)  # replaced: new content under the same name
    (library / "two.mp4").rename(library / "renamed.mp4")  # moved: same content
    result = run_catalog(*args[:-1])
    assert result.returncode == 0, result.stderr
    assert "1 analysed, 0 failed, 1 already done" in result.stderr
    after = {Path(r["path"]).name: r for r in _rows(catalog)}
    assert set(after) == {"one.mp4", "renamed.mp4"}
    assert after["renamed.mp4"]["id"] == before["two.mp4"]
    assert after["one.mp4"]["id"] != before["one.mp4"]
    assert after["one.mp4"]["duration_s"] == pytest.approx(5.0, abs=0.1)
    assert set(film_folders(catalog)) == {r["id"] for r in after.values()}

    forced = run_catalog(*args[:-1], "--force")
    assert "2 analysed, 0 failed, 0 already done" in forced.stderr

    # Films grouped with other scene parameters are redone with this run's.
    regrouped = run_catalog(*args[:-1], "--min-scene", "1000")
    assert "2 analysed, 0 failed, 0 already done" in regrouped.stderr
    for folder in film_folders(catalog).values():
        tags = json.loads((folder / "tags.json").read_text())
        assert tags["scene_grouping"]["min_scene_s"] == 1000 and len(tags["scenes"]) == 1
    again = run_catalog(*args[:-1], "--min-scene", "1000")
    assert "0 analysed, 0 failed, 2 already done" in again.stderr


def test_concurrent_run_is_refused(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    make_video(library / "one.mp4", seconds=2)
    catalog = tmp_path / "catalog"
    with catalog_lock(catalog):  # another run holds the catalogue
        result = run_catalog(str(library), "--out", str(catalog), "--no-model")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"trajectory: error: {catalog}: another trajectory catalog run is using it"]
    assert not (catalog / "catalog.db").exists()  # refused before touching anything


def test_sources_list_file_ids_titles_and_copies(tmp_path):
    video = make_video(tmp_path / "clip.mp4", seconds=2)
    shutil.copy(video, tmp_path / "copy.mp4")
    listing = tmp_path / "films.csv"
    listing.write_text("path,id,title\nclip.mp4,my-film,My Film\ncopy.mp4\nmissing.mp4\n")
    films, skipped = sources.identify_all(sources.expand([listing]))
    content_id = sources.fingerprint(video)
    assert [(f.film_id, f.title) for f in films] == [("my-film", "My Film"), (content_id, "copy")]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [("missing.mp4", "no such file")]

    films, skipped = sources.identify_all(sources.expand([tmp_path]))  # the folder: a copy
    assert [Path(f.path).name for f in films] == ["clip.mp4"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert reasons["copy.mp4"] == f"same film id as {video} (a copy)"
    assert "not a readable video" in reasons["films.csv"]
