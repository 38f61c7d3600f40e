"""Exports for players and editors: WebVTT read back by webvtt-py and by Chromium as a <track>,
OTIO round trips, EDL timecodes to the frame at 29.97, 23.976 and 25, and the command line."""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pandas as pd
import pytest
import webvtt
from click.testing import CliRunner
from export_media import film_analysis, one_hot_mix
from report_helpers import Chromium, make_video
from test_cli import run_cli

from trajectory.cli import main
from trajectory.export import write_outputs
from trajectory.exports import WRITERS, parse_formats
from trajectory.exports.base import film_rate
from trajectory.exports.otio import MARKER_COLORS, film_timeline

NTSC = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)
# Long shots (frame counts) so scene starts pass the minute marks where drop-frame skips numbers.
LONG_SHOTS = [1799, 1, 2000, 1203, 3597, 777, 1500]
LONG_SCENES = [0, 1, 1, 2, 3, 3, 4]
SCENE_MOOD = {0: ("fear", 0.62), 1: ("awe", 0.5), 2: ("sadness", 0.71), 3: ("fear", 0.3)}
SCENE_MOOD[4] = ("amusement", 0.44)


def parse_timecode(text: str) -> float:
    """WebVTT ``HH:MM:SS.mmm`` -> seconds (webvtt-py's own conversion drops the milliseconds)."""
    hours, minutes, seconds = text.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _mood(scene_of_shot, index: int, shot: int) -> np.ndarray:
    return one_hot_mix(*SCENE_MOOD[scene_of_shot[shot]])


def _outputs(folder: Path, rate: Fraction, emotional: bool = True) -> Path:
    """A long analysis (no film written: exports never decode) saved to ``folder``."""
    mood = functools.partial(_mood, LONG_SCENES)
    analysis = film_analysis(
        folder / "long.mp4", rate, LONG_SHOTS, LONG_SCENES, mood, 150, emotional
    )
    return write_outputs(analysis, folder / "out")


@pytest.fixture(scope="module")
def ntsc_out(tmp_path_factory) -> Path:
    return _outputs(tmp_path_factory.mktemp("ntsc"), NTSC)


def _export(out: Path, formats: str) -> None:
    result = CliRunner().invoke(main, ["export", str(out), "--format", formats])
    assert result.exit_code == 0, result.output


def _scenes(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "scenes.csv")


def test_format_names():
    assert parse_formats("vtt, OTIO,vtt") == ["vtt", "otio"]
    assert parse_formats("all") == list(WRITERS)
    with pytest.raises(ValueError, match="unknown export format srt"):
        parse_formats("vtt,srt")


@pytest.mark.parametrize(
    ("fps", "rate"),
    [(29.97, NTSC), (23.976, FILM), (59.94, Fraction(60000, 1001)), (25.0, Fraction(25))],
)
def test_rounded_rates_map_back_to_exact_ones(fps, rate):
    assert film_rate(fps) == rate


def test_chapters_parse_back_one_cue_per_scene(ntsc_out):
    _export(ntsc_out, "vtt")
    scenes = _scenes(ntsc_out)
    cues = webvtt.read(str(ntsc_out / "chapters.vtt")).captions
    assert len(cues) == len(scenes) == 5
    for cue, scene in zip(cues, scenes.itertuples()):  # (start_in_seconds drops the ms)
        assert parse_timecode(cue.start) == pytest.approx(scene.start_s, abs=0.0011)
        assert parse_timecode(cue.end) == pytest.approx(scene.end_s, abs=0.0011)
        emotion, share = SCENE_MOOD[scene.scene]
        whole = int(scene.start_s)
        clock = f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        assert cue.text == f"Scene {scene.scene} · {emotion} {share:.0%} · {clock}"


def test_metadata_track_carries_each_scenes_json(ntsc_out):
    _export(ntsc_out, "vtt-meta")
    tags = json.loads((ntsc_out / "tags.json").read_text())
    cues = webvtt.read(str(ntsc_out / "scenes.vtt")).captions
    assert len(cues) == len(tags["scenes"])
    for cue, scene in zip(cues, tags["scenes"]):
        data = json.loads(cue.text)
        for key in ("index", "start_s", "end_s", "shots", "dominant", "distribution"):
            assert data[key] == scene[key]
        assert data["first_frame"] == round(scene["start_s"] * NTSC)


def test_chapters_without_a_model_name_scene_and_time(tmp_path):
    out = _outputs(tmp_path, NTSC, emotional=False)
    _export(out, "vtt")
    texts = [c.text for c in webvtt.read(str(out / "chapters.vtt")).captions]
    # Scenes start at frames 0, 1799 and 3800: 0 s, 60.027 s and 126.79 s at 29.97.
    assert texts[:3] == ["Scene 0 · 00:00:00", "Scene 1 · 00:01:00", "Scene 2 · 00:02:06"]


def test_otio_round_trips_with_a_coloured_marker_per_scene(ntsc_out):
    _export(ntsc_out, "otio")
    timeline = otio.adapters.read_from_file(str(ntsc_out / "timeline.otio"))
    from trajectory.export import read_outputs

    assert timeline.is_equivalent_to(film_timeline(read_outputs(ntsc_out)))
    (clip,) = timeline.tracks[0]  # the film as one clip
    assert clip.source_range.duration.to_frames() == sum(LONG_SHOTS)
    scenes = _scenes(ntsc_out)
    assert len(clip.markers) == len(scenes)
    for marker, scene in zip(clip.markers, scenes.itertuples()):
        emotion, share = SCENE_MOOD[scene.scene]
        assert marker.marked_range.start_time.to_frames() == round(scene.start_s * NTSC)
        assert marker.marked_range.end_time_exclusive().to_frames() == round(scene.end_s * NTSC)
        assert marker.color == MARKER_COLORS[emotion]
        assert marker.name.startswith(f"Scene {scene.scene} · {emotion} {share:.0%} · ")
        assert marker.metadata["trajectory"]["distribution"][emotion] == pytest.approx(share)


@pytest.mark.parametrize("rate", [NTSC, FILM, Fraction(25)], ids=["29.97", "23.976", "25"])
def test_edl_timecodes_match_the_scene_table_to_the_frame(tmp_path, rate):
    out = _outputs(tmp_path, rate)
    _export(out, "edl")
    text = (out / "scenes.edl").read_text("ascii")
    drop = rate == NTSC
    assert ("FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME") in text
    assert (";" in text) == drop  # drop-frame timecodes use ';' before the frames
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(rate))
    events = list(timeline.tracks[0])
    scenes = _scenes(out)
    assert len(events) == len(scenes)
    for event, scene in zip(events, scenes.itertuples()):
        first, last = round(scene.start_s * rate), round(scene.end_s * rate)
        assert event.source_range.start_time.to_frames() == first
        assert event.source_range.end_time_exclusive().to_frames() == last
        assert event.range_in_parent().start_time.to_frames() == first  # record side
    # The adapter reads back only ':' locators, so they are checked from the text at every rate.
    locators = re.findall(r"^\* LOC: (\S+) (\w+) +(.*)$", text, flags=re.M)
    assert len(locators) == len(scenes)
    for (timecode, color, name), scene in zip(locators, scenes.itertuples()):
        frame = otio.opentime.from_timecode(timecode, float(rate)).to_frames()
        assert frame == round(scene.start_s * rate)
        emotion, share = SCENE_MOOD[scene.scene]
        assert name.startswith(f"SCENE {scene.scene} {emotion.upper()} {share:.0%}")
        assert color == MARKER_COLORS[emotion]


def test_analyze_writes_exports_with_its_outputs(tmp_path):
    video = make_video(tmp_path / "cuts.mp4", seconds=4.0)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["analyze", str(video), "--no-model", "--out", str(out), "--quiet", "--export", "vtt,edl"],
    )
    assert result.exit_code == 0, result.output
    scenes = _scenes(out)
    assert len(webvtt.read(str(out / "chapters.vtt")).captions) == len(scenes)
    assert not (out / "timeline.otio").exists()
    # 12 fps has no SMPTE timecode: the EDL counts at 24, two timecode frames per film frame.
    edl = otio.adapters.read_from_file(str(out / "scenes.edl"), rate=24)
    starts = [event.source_range.start_time.to_frames() for event in edl.tracks[0]]
    assert starts == [round(s * 24) for s in scenes["start_s"]]
    tags = json.loads((out / "tags.json").read_text())
    assert tags["video"]["path"] == str(video.resolve())


def test_export_errors_are_one_line_exit_2(tmp_path, ntsc_out):
    bad_format = run_cli("export", ntsc_out, "--format", "srt")
    assert bad_format.returncode == 2 and "unknown export format srt" in bad_format.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    tags = json.loads((ntsc_out / "tags.json").read_text())
    tags["scenes"], tags["shots"] = [], []
    (empty / "tags.json").write_text(json.dumps(tags))
    (empty / "frames.csv").write_text((ntsc_out / "frames.csv").read_text())
    result = run_cli("export", empty, "--format", "vtt")
    assert result.returncode == 2, result.stderr
    assert "scene table is empty" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (empty / "chapters.vtt").exists()


# -- in a real browser ---------------------------------------------------------------------------

TRACK_PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<video id="v" muted>
<track id="chapters" kind="chapters" srclang="en" src="chapters.vtt">
<track id="meta" kind="metadata" src="scenes.vtt"></video>
<script>
for (const t of document.querySelectorAll('track')) {
  t.track.mode = 'hidden';
  t.addEventListener('load', () => { t.dataset.loaded = 'yes'; });
  t.addEventListener('error', () => { t.dataset.loaded = 'error'; });
}
</script>"""
CUES_JS = """JSON.stringify(Array.from(document.getElementById('%s').track.cues,
  c => [c.startTime, c.endTime, c.text]))"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.mark.browser
def test_chromium_loads_chapters_and_metadata_tracks(ntsc_out, chromium):
    """Browsers refuse <track> files from file:// pages, so the folder is served on localhost."""
    _export(ntsc_out, "vtt,vtt-meta")
    (ntsc_out / "tracks.html").write_text(TRACK_PAGE, "utf-8")
    handler = functools.partial(_QuietHandler, directory=str(ntsc_out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with Chromium(chromium) as browser:
            session = browser.open_page(f"http://127.0.0.1:{server.server_port}/tracks.html")
            loaded = "[...document.querySelectorAll('track')].every(t => t.dataset.loaded)"
            assert browser.wait_for(session, loaded, timeout=30)
            states = browser.evaluate(
                session,
                "[...document.querySelectorAll('track')].map(t => t.dataset.loaded + t.readyState)",
            )
            chapters = json.loads(browser.evaluate(session, CUES_JS % "chapters"))
            meta = json.loads(browser.evaluate(session, CUES_JS % "meta"))
            errors, _ = browser.problems(session)
    finally:
        server.shutdown()
        server.server_close()
    assert states == ["yes2", "yes2"]  # HTMLTrackElement.LOADED
    scenes = _scenes(ntsc_out)
    assert len(chapters) == len(meta) == len(scenes)
    for (start, end, text), (_, _, payload), scene in zip(chapters, meta, scenes.itertuples()):
        assert start == pytest.approx(scene.start_s, abs=0.0011)
        assert end == pytest.approx(scene.end_s, abs=0.0011)
        assert re.fullmatch(rf"Scene {scene.scene} · \w+ \d+% · \d\d:\d\d:\d\d", text)
        assert json.loads(payload)["index"] == scene.scene
    assert errors == []


def test_exports_never_import_torch(ntsc_out):
    code = (
        "import sys\n"
        "from trajectory.cli import main\n"
        f"main.main(['export', {str(ntsc_out)!r}, '--format', 'all'], standalone_mode=False)\n"
        "import trajectory.exports.render\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in ntsc_out.iterdir()} >= {f.filename for f in WRITERS.values()}
