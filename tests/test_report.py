"""The HTML report: what it shows, escaping, its size on a long film, re-rendering from saved
files, and the page itself in headless Chromium (``-m browser``)."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from plotly.offline import get_plotlyjs
from report_helpers import (
    inspect_report,
    make_video,
    page_part,
    report_data,
    synthetic_analysis,
    trace,
)

from trajectory import report
from trajectory import report_figures as figures
from trajectory.cli import main
from trajectory.emotions import COLORS, EMOTIONS
from trajectory.timecode import format_timecode

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
SAMPLES = REPO / "sample_videos"
# What a 2-hour film may add to plotly.js (~4.8 MB): drawn tracks, cuts, scenes, keyframes.
LONG_FILM_DATA_BUDGET = 1_500_000
INJECTION_TITLE = "<script>alert(1)</script>"
# "/" cannot be part of a file name, so the name carries the other ways to run script.
INJECTION_NAME = "<img src=x onerror=alert(1)><script>alert(2)<\\script>.mp4"
EMOTION_WORD = re.compile(r"\b(" + "|".join(EMOTIONS) + r")\b")


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def _analyze(video: Path, out: Path, *options: str) -> Path:
    _cli("analyze", str(video), "--out", str(out), "--quiet", "--device", "cpu", *options)
    return out


def _visible_text(page: str) -> str:
    return re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)


# -- fixtures: each video is analysed once per session -------------------------------------------


@pytest.fixture(scope="module")
def long_film():
    """A made-up 2-hour film sampled at 1 fps: 7200 frames, 1500 shots, 60 scenes."""
    return synthetic_analysis(duration_s=7200.0, shots=1500, scenes=60)


@pytest.fixture(scope="module")
def long_report(long_film) -> str:
    return report.render_report(long_film)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, tiny_checkpoint) -> Path:
    """An 8 s generated video (a cut every second) analysed with the random model."""
    folder = tmp_path_factory.mktemp("small")
    video = make_video(folder / "cuts.mp4", seconds=8.0)
    return _analyze(video, folder / "out", "--model", str(tiny_checkpoint))


# -- pure functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration_s", "window_s"), [(0, 5), (43.25, 5), (600, 12), (3000, 60), (7200, 120)]
)
def test_default_smoothing_is_two_percent_of_the_film_within_bounds(duration_s, window_s):
    assert report.default_smoothing(duration_s) == window_s


def test_downsample_keeps_a_short_series_as_it_is():
    times = np.array([0.0, 1.0, 1.5, 2.0, 3.0])
    values = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    tracks = figures.downsample(times, {"v": values}, max_points=10)
    np.testing.assert_array_equal(tracks.times, times)
    np.testing.assert_array_equal(tracks.values["v"], values)
    np.testing.assert_array_equal(tracks.counts, 1)


def test_downsample_bounds_a_long_series_and_keeps_its_mean():
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 7200, 7200))
    values = rng.random(7200)
    tracks = figures.downsample(times, {"v": values}, max_points=2000)
    assert len(tracks.times) <= 2000
    assert np.all(np.diff(tracks.times) > 0)
    assert tracks.counts.sum() == len(times)
    assert np.average(tracks.values["v"], weights=tracks.counts) == pytest.approx(values.mean())


def test_smooth_binned_is_smooth_track_when_each_bin_is_one_frame():
    from trajectory.aggregate import smooth_track

    rng = np.random.default_rng(2)
    times = np.cumsum(rng.uniform(0.2, 1.5, 300))
    values = rng.random(300)
    tracks = figures.downsample(times, {"v": values}, max_points=1000)
    smoothed = figures.smooth_binned(tracks, tracks.values["v"], 12.0)
    np.testing.assert_allclose(smoothed, smooth_track(times, values, 12.0))


def test_embedded_json_cannot_close_the_script():
    text = report.script_json({"name": "</script><!-- & -->", "x": np.float32(0.5)})
    assert not set("<>&") & set(text)
    assert json.loads(text) == {"name": "</script><!-- & -->", "x": 0.5}


@pytest.mark.parametrize("smoothing_s", [-1.0, math.nan, math.inf])
def test_bad_smoothing_is_refused(long_film, smoothing_s):
    with pytest.raises(ValueError, match="smoothing"):
        report.render_report(long_film, smoothing_s=smoothing_s)


# -- what the page holds -------------------------------------------------------------------------


def test_long_film_report_stays_small(long_report, record_property):
    size = len(long_report.encode("utf-8"))
    data = size - len(get_plotlyjs().encode("utf-8"))
    record_property("report_bytes", size)
    record_property("report_bytes_beyond_plotlyjs", data)
    print(f"2 h film report: {size / 1e6:.2f} MB, {data / 1e6:.2f} MB beyond plotly.js")
    assert data < LONG_FILM_DATA_BUDGET
    assert long_report.count(get_plotlyjs()[:200]) == 1  # plotly.js embedded once
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", long_report)
    for drawn in report_data(long_report)["figures"]["timeline"]["data"]:
        if drawn["name"] not in ("scenes", "shot cuts"):
            assert len(drawn["x"]) <= report.MAX_POINTS, drawn["name"]


def test_header_shows_the_film_model_and_distribution(long_film, long_report):
    header = page_part(long_report, "header", "film")
    assert "long_synthetic.mp4" in header
    assert "2 h 00 min" in header and "02:00:00.000" in header
    assert "vgg19" in header and "abababababab" in header
    assert "No emotion model" not in header
    for tag in long_film.film.tags:
        assert tag in page_part(long_report, "p", "film-tags")
    assert long_film.film.arc in header
    bars = report_data(long_report)["figures"]["distribution"]["data"][0]
    shares = dict(zip(bars["y"], bars["x"], strict=True))
    assert shares == long_film.film.distribution
    assert bars["marker"]["color"] == [COLORS[e] for e in bars["y"]]


def test_timeline_draws_emotions_valence_scenes_and_cuts(long_film, long_report):
    data = report_data(long_report)
    figure = data["figures"]["timeline"]
    for emotion in EMOTIONS:
        assert trace(data, emotion)["line"]["color"] == COLORS[emotion]
    assert trace(data, "valence")["yaxis"] == "y2"
    assert len(trace(data, "shot cuts")["x"]) == len(long_film.shots) - 1
    scenes = trace(data, "scenes")
    assert scenes["marker"]["color"] == [COLORS[d] for d in long_film.scenes["dominant"]]
    bands = [s["fillcolor"] for s in figure["layout"]["shapes"] if s["yref"] == "y domain"]
    assert bands == scenes["marker"]["color"]
    hover = trace(data, "hover")["text"]
    assert re.fullmatch(r"scene \d+(<br>[a-z]+ \d+%){3}", hover[len(hover) // 2])
    assert data["window_s"] == 120.0
    assert "over 120 s" in page_part(long_report, "p", "smoothing-note")


def test_scene_table_lists_every_scene(long_film, long_report):
    table = page_part(long_report, "section", "scenes")
    assert table.count("<tr data-scene=") == len(long_film.scenes)
    assert table.count('src="data:image/jpeg;base64,') == len(long_film.scenes)
    row = long_film.scenes.iloc[7]
    cells = re.search(r'<tr data-scene="7".*?</tr>', table).group(0)
    assert format_timecode(row.start_s) in cells and format_timecode(row.end_s) in cells
    assert f"{row.dominant}</span>" in cells and f"{row.confidence * 100:.0f}%" in cells
    top = sorted(EMOTIONS, key=lambda e: -row[e])[:3]
    assert re.findall(r'class="top-name">([a-z]+)<', cells) == top


def test_smoothing_window_is_applied(long_film):
    page = report.render_report(long_film, smoothing_s=30)
    data = report_data(page)
    assert data["window_s"] == 30.0
    assert '<option value="30" selected>' in page
    frames = long_film.frames
    tracks = figures.downsample(frames["time_s"].to_numpy(), {"fear": frames["fear"]}, 2000)
    expected = figures.smooth_binned(tracks, tracks.values["fear"], 30.0)
    np.testing.assert_allclose(trace(data, "fear")["y"], expected, atol=1e-4)


def test_no_model_report_shows_nothing_as_emotion():
    result = synthetic_analysis(duration_s=600.0, shots=120, scenes=8, emotional=False)
    page = report.render_report(result)
    data = report_data(page)
    assert "No emotion model was used" in page_part(page, "p", "no-model")
    assert set(data["figures"]) == {"timeline"}
    names = {t["name"] for t in data["figures"]["timeline"]["data"]}
    assert names == {"brightness", "colourfulness", "hover", "scenes", "shot cuts"}
    assert not EMOTION_WORD.search(_visible_text(page))
    drawn = json.dumps(data["figures"]).upper()
    assert not [c for c in COLORS.values() if c.upper() in drawn]
    assert page_part(page, "section", "scenes").count("<tr data-scene=") == 8


def test_names_and_titles_from_the_file_are_escaped(tmp_path):
    result = synthetic_analysis(
        duration_s=120.0, shots=20, scenes=4, name=INJECTION_NAME, title=INJECTION_TITLE
    )
    (tmp_path / INJECTION_NAME).write_bytes(b"\0")  # beside the report: a player is embedded
    page = report.render_report(result, out_dir=tmp_path)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert f">{html.escape(INJECTION_TITLE)}</h1>" in page
    assert f"<title>{html.escape(INJECTION_TITLE)} · trajectory</title>" in page
    assert html.escape(INJECTION_NAME) in page_part(page, "header", "film")
    assert '<source src="%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E' in page
    assert page.count("</script>") == 3  # plotly.js, the data, the page's code
    report_data(page)  # the embedded JSON still parses


@pytest.mark.parametrize(
    ("beside", "embedded"),
    [("film.mp4", True), ("film.webm", True), ("film.mkv", False), (None, False)],
    ids=["mp4", "webm", "mkv-not-playable", "not-beside"],
)
def test_player_only_for_a_playable_video_beside_the_report(tmp_path, beside, embedded):
    name = beside or "film.mp4"
    result = synthetic_analysis(duration_s=120.0, shots=20, scenes=4, name=name)
    if beside:
        (tmp_path / beside).write_bytes(b"\0")
    assert ('<video id="player"' in report.render_report(result, out_dir=tmp_path)) == embedded
    assert '<video id="player"' not in report.render_report(result)


# -- trajectory report: re-rendering from saved files --------------------------------------------


def _thumbnails(page: str) -> list[np.ndarray]:
    found = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page)
    return [cv2.imdecode(np.frombuffer(base64.b64decode(b), np.uint8), 1) for b in found]


def test_rerender_changes_only_what_it_should(small_run):
    out = small_run
    analyzed = (out / "report.html").read_text("utf-8")
    saved = {n: (out / n).read_bytes() for n in ("frames.csv", "scenes.csv", "tags.json")}
    _cli("report", str(out))
    default = (out / "report.html").read_text("utf-8")
    _cli("report", str(out), "--smoothing", "0")
    raw = (out / "report.html").read_text("utf-8")

    for page in (default, raw):  # header and scene table: as analyze wrote them
        assert page_part(page, "header", "film") == page_part(analyzed, "header", "film")
        # Keyframes are JPEG bytes passed through untouched: the table is byte-identical.
        assert page_part(page, "section", "scenes") == page_part(analyzed, "section", "scenes")
        assert len(_thumbnails(page)) == len(_thumbnails(analyzed)) > 0
    first, again, unsmoothed = report_data(analyzed), report_data(default), report_data(raw)
    assert again["window_s"] == first["window_s"] == report.default_smoothing(8.0)
    for emotion in EMOTIONS:
        np.testing.assert_allclose(
            trace(again, emotion)["y"], trace(first, emotion)["y"], atol=2e-4
        )
    # --smoothing 0: the drawn tracks are the saved per-frame scores themselves.
    assert unsmoothed["window_s"] == 0 and "Not smoothed" in raw
    frames = pd.read_csv(out / "frames.csv")
    np.testing.assert_allclose(trace(unsmoothed, "anger")["y"], frames["anger"], atol=1e-4)
    assert trace(unsmoothed, "anger")["y"] != trace(again, "anger")["y"]
    # The saved per-frame scores and tables are not touched.
    for name in ("frames.csv", "scenes.csv"):
        assert (out / name).read_bytes() == saved[name], name
    assert json.loads((out / "tags.json").read_bytes()) == json.loads(saved["tags.json"])


# -- in a real browser ---------------------------------------------------------------------------


def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{path} is missing: run sample_videos/make_samples.py")
    return path


@pytest.fixture(scope="module")
def photos_1080p(tmp_path_factory, tiny_checkpoint) -> Path:
    """The 1080p sample analysed with the random model; the video sits beside the report."""
    out = tmp_path_factory.mktemp("photos_1080p")
    (out / "photos_1080p.mp4").symlink_to(_sample("photos_1080p.mp4"))
    _analyze(out / "photos_1080p.mp4", out, "--model", str(tiny_checkpoint))
    return out / "report.html"


@pytest.fixture(scope="module")
def photos_360p_no_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("photos_360p")
    return _analyze(_sample("photos_360p_short.mp4"), out, "--no-model") / "report.html"


@pytest.fixture(scope="module")
def long_synthetic(tmp_path_factory, long_report) -> Path:
    path = tmp_path_factory.mktemp("long") / "report.html"
    path.write_text(long_report, "utf-8")
    return path


CHECKS = {
    "timeline_svg": "document.querySelectorAll('#timeline-plot svg.main-svg').length",
    "distribution_svg": "document.querySelectorAll('#distribution-plot svg.main-svg').length",
    "lines": "document.querySelectorAll('#timeline-plot .scatterlayer path.js-line').length",
    "rows": "document.querySelectorAll('#scene-table tbody tr').length",
    "thumbs": "[...document.querySelectorAll('img.thumb')].filter(i => i.naturalWidth).length",
    "notice": "!!document.getElementById('no-model')",
    "player": """(async () => {
        const p = document.getElementById('player');
        if (!p) return null;
        const seeked = new Promise(r => p.addEventListener('seeked', r, {once: true}));
        p.currentTime = 1.0;  // a fixed frame, for a deterministic screenshot
        await Promise.race([seeked, new Promise(r => setTimeout(r, 5000))]);
        return {ready: p.readyState, error: p.error && p.error.code, time: p.currentTime};
    })()""",
}
ACTIONS = {  # after the screenshot: they change the page
    "hover": """(() => {
        const gd = document.getElementById('timeline-plot');
        const x = gd.data.find(t => t.name === 'hover').x;
        Plotly.Fx.hover(gd, {xval: x[Math.floor(x.length / 2)]}, 'xy');
        return document.querySelector('#timeline-plot .hoverlayer').textContent;
    })()""",
    "click": """(async () => {
        const row = document.querySelectorAll('#scene-table tbody tr')[1];
        row.click();
        await new Promise(r => setTimeout(r, 300));
        const gd = document.getElementById('timeline-plot');
        const ms = v => typeof v === 'number' ? v : Date.parse(v.replace(' ', 'T') + 'Z');
        const epoch = JSON.parse(document.getElementById('report-data').textContent).epoch_ms;
        const p = document.getElementById('player');
        return {range: gd.layout.xaxis.range.map(v => (ms(v) - epoch) / 1000),
                start: +row.dataset.start, end: +row.dataset.end,
                selected: row.classList.contains('selected'), video: p ? p.currentTime : null};
    })()""",
    "smoothing": """(async () => {
        const gd = document.getElementById('timeline-plot');
        const data = JSON.parse(document.getElementById('report-data').textContent);
        const name = data.mode === 'emotion' ? 'fear' : 'brightness';
        const select = document.getElementById('smoothing');
        const drawn = {};
        select.add(new Option('30 s', '30'));
        for (const value of ['0', '30']) {
            select.value = value;
            select.dispatchEvent(new Event('change'));
            await new Promise(r => setTimeout(r, 100));
            drawn[value] = gd.data.find(t => t.name === name).y;
        }
        const note = document.getElementById('smoothing-note').textContent;
        return {name: name, drawn: drawn, note: note};
    })()""",
}


@dataclass(frozen=True)
class BrowserCase:
    fixture: str
    emotional: bool
    player: bool


BROWSER_CASES = [
    BrowserCase("photos_1080p", emotional=True, player=True),
    BrowserCase("photos_360p_no_model", emotional=False, player=False),
    BrowserCase("long_synthetic", emotional=True, player=False),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", BROWSER_CASES, ids=[c.fixture for c in BROWSER_CASES])
def test_report_in_chromium(chromium, request, case):
    page = request.getfixturevalue(case.fixture)
    scenes = len(report_data(page.read_text("utf-8"))["scenes"]["start"])
    shot = ARTIFACTS / f"report-{case.fixture}.png"
    seen = inspect_report(chromium, page, CHECKS, screenshot=shot, actions=ACTIONS)
    values = seen.values
    print(f"{case.fixture}: {seen.seconds:.1f} s in Chromium, screenshot {shot}")
    assert seen.console_errors == [] and seen.dialogs == []
    assert values["ready"] and values["timeline_svg"] >= 1 and values["lines"] >= 2
    assert (values["distribution_svg"] >= 1) == case.emotional
    assert values["notice"] != case.emotional
    assert values["rows"] == values["thumbs"] == scenes
    assert shot.stat().st_size > 10_000
    assert re.search(r"scene \d+", values["hover"])
    if case.emotional:
        assert re.search(r"[a-z]+ \d+%", values["hover"])
    click = values["click"]
    assert (
        click["selected"]
        and click["range"][0] <= click["start"] < click["end"] <= click["range"][1]
    )
    assert click["range"][1] - click["range"][0] < 2 * (click["end"] - click["start"]) + 2.5
    _assert_page_smooths_like_python(page, values["smoothing"])
    if case.player:
        assert values["player"]["error"] is None and values["player"]["ready"] >= 2
        assert click["video"] == pytest.approx(click["start"], abs=0.05)
    else:
        assert values["player"] is None


def _assert_page_smooths_like_python(page: Path, seen: dict) -> None:
    """The page's own re-smoothing (select 0 s, then 30 s) matches :func:`smooth_binned`."""
    data = report_data(page.read_text("utf-8"))["tracks"]
    values = np.array(data["values"][seen["name"]])
    tracks = figures.Tracks(np.array(data["t"]), np.array(data["n"], float), {})
    np.testing.assert_allclose(seen["drawn"]["0"], values, atol=1e-12)
    expected = figures.smooth_binned(tracks, values, 30.0)
    np.testing.assert_allclose(seen["drawn"]["30"], expected, atol=1e-9)
    assert "over 30 s" in seen["note"]


@pytest.mark.browser
def test_script_in_the_file_name_and_title_does_not_run(chromium, tmp_path):
    video = make_video(tmp_path / INJECTION_NAME, seconds=3.0, title=INJECTION_TITLE)
    _analyze(video, tmp_path, "--no-model")  # report beside the video: the player is there too
    checks = {
        "title": "document.getElementById('film-title').textContent",
        "tab": "document.title",
        "meta": "document.querySelector('#film .meta').textContent",
        "scripts": "document.scripts.length",
        "injected": "document.querySelectorAll('img[src=\"x\"], img[onerror]').length",
        "source": "decodeURIComponent(document.querySelector('#player source').src)",
    }
    seen = inspect_report(chromium, tmp_path / "report.html", checks)
    assert seen.dialogs == [] and seen.console_errors == []
    assert seen.values["title"] == INJECTION_TITLE
    assert seen.values["tab"].startswith(INJECTION_TITLE)
    assert INJECTION_NAME in seen.values["meta"]
    assert seen.values["scripts"] == 3 and seen.values["injected"] == 0
    assert seen.values["source"].endswith("/" + INJECTION_NAME)
