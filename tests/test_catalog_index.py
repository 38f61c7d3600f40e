"""The catalogue index read back: query filters against hand-computed answers, similar films,
and index.html (escaping, size at 500 films, sorting and filtering in headless Chromium)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from catalog_helpers import ROOT, env
from report_helpers import inspect_report, synthetic_analysis

from trajectory.catalog import db as catalog_db
from trajectory.catalog.page import write_index
from trajectory.catalog.similar import js_distance, shape_distance, similar
from trajectory.catalog.sources import Film, Skipped
from trajectory.emotions import EMOTIONS

INJECTION = "<img src=x onerror=alert(1)>"
PAGE_BUDGET_500 = 800_000  # bytes of index.html for 500 films (keyframes are links)


def _analyses(count: int) -> list:
    return [
        synthetic_analysis(duration_s=300 + 60 * i, shots=40, scenes=6, seed=i, name=f"f{i}.mp4")
        for i in range(count)
    ]


def _catalog(folder: Path, analyses: list, copies: int = 1) -> Path:
    """A catalog.db holding ``analyses`` (each ``copies`` times), a failed film, a skipped file."""
    folder.mkdir(parents=True, exist_ok=True)
    db = catalog_db.connect(folder / "catalog.db")
    films = []
    for copy in range(copies):
        for i, analysis in enumerate(analyses):
            title = INJECTION if (i, copy) == (1, 0) else f"Film {i} copy {copy}"
            films.append((f"id{i:03d}c{copy:03d}", title, analysis))
    catalog_db.set_pending(
        db, [Film(f, f, f"/films/{f}.mp4", t, a.duration_s) for f, t, a in films], 1.0, "ab" * 32
    )
    for film_id, _, analysis in films:
        keyframe = Path("films", film_id, "keyframes", "scene_0000.jpg")
        (folder / keyframe).parent.mkdir(parents=True)
        (folder / keyframe).write_bytes(analysis.keyframes[0])
        catalog_db.mark_done(db, film_id, analysis, keyframe.as_posix())
    catalog_db.set_pending(db, [Film("bad", "bad", "/films/bad.mkv", "bad", 1.0)], 1.0, None)
    catalog_db.mark_failed(db, "bad", "the video stream has no decodable frame")
    catalog_db.record_skipped(db, [Skipped(f"/films/{INJECTION}.wav", "no video stream")])
    write_index(db, folder)
    db.close()
    return folder


def _query(catalog: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trajectory", "query", str(catalog), *args],
        cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="module")
def analyses():
    return _analyses(8)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, analyses) -> Path:
    return _catalog(tmp_path_factory.mktemp("catalog"), analyses)


def _expected_films(analyses) -> pd.DataFrame:
    table = pd.DataFrame([a.film.distribution for a in analyses])
    table["id"] = [f"id{i:03d}c000" for i in range(len(analyses))]
    table["duration"] = [round(a.duration_s, 3) for a in analyses]
    table["arc"] = [a.film.arc for a in analyses]
    return table


def test_query_films_against_hand_computed_answers(catalog, analyses):
    expected = _expected_films(analyses)
    threshold = float(expected["sadness"].median())
    want = expected[(expected["sadness"] >= threshold) & (expected["duration"] >= 420)]
    want = want.sort_values("fear", ascending=False).head(3)
    result = _query(catalog, "--where", f"sadness >= {threshold}", "--min-duration", "420",
                    "--sort", "-fear", "--limit", "3", "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == list(want["id"])
    assert [r["fear"] for r in rows] == pytest.approx(list(want["fear"]), abs=1e-4)

    arc = expected["arc"].iloc[0]
    rows = json.loads(_query(catalog, "--arc", arc, "--format", "json").stdout)
    assert sorted(r["id"] for r in rows) == sorted(expected.loc[expected["arc"] == arc, "id"])

    csv_rows = _query(catalog, "--where", "dominant = awe", "--format", "csv").stdout
    dominant = [a.film.dominant for a in analyses]
    assert len(csv_rows.strip().splitlines()) - 1 == dominant.count("awe")


def test_query_scenes_against_hand_computed_answers(catalog, analyses):
    scenes = pd.concat([a.scenes.assign(film=f"id{i:03d}c000") for i, a in enumerate(analyses)])
    threshold = float(scenes["fear"].quantile(0.7))
    want = scenes[scenes["fear"] >= threshold]
    result = _query(catalog, "--scenes", "--where", f"fear >= {threshold}", "--format", "json")
    rows = json.loads(result.stdout)
    assert sorted((r["film"], r["scene"]) for r in rows) == sorted(
        zip(want["film"], want["index"].astype(int))
    )
    table = _query(catalog, "--scenes", "--where", f"fear >= {threshold}", "--limit", "1")
    assert table.returncode == 0 and "00:0" in table.stdout  # timecodes in the table


@pytest.mark.parametrize(
    "where, message",
    [
        ("fear >> 0.3", "is not a number"),
        ("fear", "expected COLUMN OP VALUE"),
        ("fear >= lots", "'lots' is not a number"),
        ("id = 1; DROP TABLE films", None),  # a value: bound, harmless, matches nothing
        ("sadness) OR (1 >= 1", "expected COLUMN OP VALUE"),
        ("password >= 1", "unknown column 'password'"),
    ],
)
def test_malformed_filters_are_refused_in_one_line(catalog, where, message):
    result = _query(catalog, "--where", where)
    if message is None:
        assert result.returncode == 0 and result.stdout.strip() == "(no match)"
        assert _query(catalog, "--limit", "1").returncode == 0  # the table is still there
        return
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_similar_ranks_by_hand_computed_distance(tmp_path, analyses):
    catalog = _catalog(tmp_path / "c", analyses[:5], copies=2)  # each film twice
    db = catalog_db.connect(catalog / "catalog.db", readonly=True)
    nearest = similar(db, "id002c000", k=3)
    assert nearest[0]["id"] == "id002c001" and nearest[0]["distance"] == 0.0
    p = np.array([analyses[2].film.distribution[e] for e in EMOTIONS])
    expected = {}
    for i in (0, 1, 3, 4):
        q = np.array([analyses[i].film.distribution[e] for e in EMOTIONS])
        m = (p + q) / 2
        entropy = lambda x: -np.sum(x * np.log2(x))  # noqa: E731
        js = np.sqrt(entropy(m) - (entropy(p) + entropy(q)) / 2)
        track = lambda a: catalog_db.valence_track(  # noqa: E731
            a.frames["time_s"].to_numpy(), a.frames["valence"].to_numpy()
        )
        shape = np.sqrt(np.mean((track(analyses[2]) - track(analyses[i])) ** 2)) / 2
        expected[f"id{i:03d}c000"] = 0.5 * js + 0.5 * shape
    best = min(expected, key=expected.get)
    assert nearest[1]["id"] in (best, best.replace("c000", "c001"))
    assert nearest[1]["distance"] == pytest.approx(expected[best], abs=2e-4)
    assert js_distance(np.eye(8)[0], np.eye(8)[1]) == pytest.approx(1.0)
    assert shape_distance(np.ones(10), -np.ones(40)) == pytest.approx(1.0)


def test_page_escapes_lists_problems_and_stays_small(tmp_path):
    catalog = _catalog(tmp_path / "big", _analyses(20), copies=25)  # 500 films
    page = (catalog / "index.html").read_text()
    assert page.count('<tr data-id="') == 500
    assert INJECTION not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "the video stream has no decodable frame" in page and "no video stream" in page
    assert len(page.encode()) < PAGE_BUDGET_500


@pytest.mark.browser
def test_page_sorts_and_filters_in_chromium(chromium, catalog, analyses):
    page = catalog / "index.html"
    ids = "Array.from(document.querySelectorAll('#films tbody tr:not([hidden])'))" \
        ".map(r => r.dataset.id)"  # fmt: skip
    checks = {
        "rows": "document.querySelectorAll('#films tbody tr').length",
        "problems": "document.querySelectorAll('#problems tbody tr').length",
        "injected": "document.querySelector('#films tr[data-id=\"id001c000\"] .title a')"
        ".textContent",
    }
    actions = {
        "by_fear": f"(window.catalog.sortBy('fear', true), {ids})",
        "by_duration": "(document.querySelector('th[data-key=duration]').click(),"
        f" document.querySelector('th[data-key=duration]').click(), {ids})",
        "filtered": "(document.getElementById('filter').value = 'film 3',"
        " window.catalog.applyFilter(),"
        f" {ids})",
        "shown": "document.getElementById('shown').textContent",
    }
    seen = inspect_report(chromium, page, checks, actions=actions)
    assert seen.values["ready"] and not seen.console_errors and not seen.dialogs
    assert seen.values["rows"] == len(analyses) and seen.values["problems"] == 2
    assert seen.values["injected"] == INJECTION  # shown as text, never run
    expected = _expected_films(analyses)
    assert seen.values["by_fear"] == list(expected.sort_values("fear", ascending=False)["id"])
    # A numeric column sorts descending on the first click, ascending on the second.
    assert seen.values["by_duration"] == list(expected.sort_values("duration")["id"])
    assert seen.values["filtered"] == ["id003c000"]
    assert seen.values["shown"] == f"1 of {len(analyses)} shown"
