"""Scene clips and highlight reels, probed with PyAV: frames counted and identified by the
barcode each source frame carries, sound present and in sync, errors as one line with exit 2."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from export_media import SAMPLE_RATE, film_analysis, frame_number, write_film

from trajectory.cli import main
from trajectory.emotions import EMOTIONS
from trajectory.export import write_outputs
from trajectory.exports.plan import ReelOptions, pick_windows
from trajectory.outdir import MANIFEST

NTSC = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)
SHOTS = [50, 40, 70, 45, 60, 55, 40, 64]  # frames; 424 in all, about 14 s
SCENES = [0, 0, 1, 2, 2, 3, 4, 4]
SHOT_STARTS = np.concatenate([[0], np.cumsum(SHOTS)[:-1]])
FEAR = {0: 0.2, 1: 0.6, 2: 0.3, 3: 0.7, 4: 0.45}  # clips: scenes 3, 1, 4 in that order
AWE_PEAK = (210, 300)  # awe peaks from inside shot 4 into shot 5: windows, not whole scenes
AWE_SECOND = (360, 400)


def _probs(index: int, shot: int) -> np.ndarray:
    """Fear as the scene's; awe 0.25 on the peak, 0.2 on the second one, 0.02 elsewhere."""
    fear = FEAR[SCENES[shot]]
    awe = 0.25 if AWE_PEAK[0] <= index < AWE_PEAK[1] else 0.02
    awe = 0.2 if AWE_SECOND[0] <= index < AWE_SECOND[1] else awe
    probs = np.full(8, (1 - fear - awe) / 6)
    probs[EMOTIONS.index("fear")], probs[EMOTIONS.index("awe")] = fear, awe
    return probs


def _film(folder: Path, rate: Fraction) -> Path:
    film = write_film(folder / "film.mp4", rate, SHOTS)
    analysis = film_analysis(film, rate, SHOTS, SCENES, _probs, sample_every=5)
    return write_outputs(analysis, folder / "out")


@pytest.fixture(scope="module", params=[NTSC, FILM], ids=["29.97", "23.976"])
def film_out(request, tmp_path_factory) -> tuple[Path, Fraction]:
    return _film(tmp_path_factory.mktemp("film"), request.param), request.param


@pytest.fixture(scope="module")
def ntsc_out(tmp_path_factory) -> Path:
    return _film(tmp_path_factory.mktemp("ntsc"), NTSC)


def _cli(*args) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def _decoded(path: Path) -> tuple[list[tuple[float, int]], np.ndarray, float]:
    """(time, source frame number) per video frame; the mono sound; the video's duration."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert container.streams.audio, f"{path.name} has no audio"
        duration = float(video.duration * video.time_base)
        frames = [
            (f.time, frame_number(f.to_ndarray(format="rgb24"))) for f in container.decode(video)
        ]
        container.seek(0)
        sound = np.concatenate(
            [f.to_ndarray()[0] for f in container.decode(container.streams.audio[0])]
        )
    return frames, sound, duration


def _tone_hz(sound: np.ndarray, at_s: float) -> float:
    """The loudest frequency in the 4096 samples around ``at_s``."""
    centre = int(at_s * SAMPLE_RATE)
    chunk = sound[max(centre - 2048, 0) : centre + 2048]
    spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
    return float(np.fft.rfftfreq(len(chunk), 1 / SAMPLE_RATE)[np.argmax(spectrum)])


def _shot_at(frame: int) -> int:
    return int(np.searchsorted(SHOT_STARTS, frame, side="right") - 1)


def _check_span(frames, sound, reel_at: float, source_at: float, length: float, rate, skip=0.0):
    """Frames of the output from ``reel_at`` (+ ``skip``) to ``reel_at + length`` (- ``skip``)
    are the source's frames from ``source_at`` on, one for one, and the sound is the source's."""
    first = round(source_at * rate)
    inside = [
        (t, n) for t, n in frames if reel_at + skip - 1e-3 <= t < reel_at + length - skip - 1e-3
    ]
    assert inside, "no frame in the span"
    for t, number in inside:
        assert number == first + round((t - reel_at) * rate), f"frame at {t:.3f} s"
    middle = reel_at + length / 2
    source_frame = first + round((middle - reel_at) * rate)
    assert _tone_hz(sound, middle) == pytest.approx(330 + 110 * _shot_at(source_frame), abs=15)


def test_clips_are_the_strongest_scenes_cut_to_the_frame(film_out):
    out, rate = film_out
    _cli("clips", out, "--emotion", "fear", "--top", 3, "--pad", 0.3)
    manifest = json.loads((out / "clips-fear" / "clips.json").read_text())
    assert [c["scene"] for c in manifest["clips"]] == [3, 1, 4]
    assert manifest["source_rate"] == f"{rate.numerator}/{rate.denominator}"
    pad = round(0.3 * rate)
    for clip in manifest["clips"]:
        shots = [i for i, s in enumerate(SCENES) if s == clip["scene"]]
        first = max(SHOT_STARTS[shots[0]] - pad, 0)
        last = min(SHOT_STARTS[shots[-1]] + SHOTS[shots[-1]] + pad, sum(SHOTS))
        assert clip["frames"] == last - first
        frames, sound, duration = _decoded(out / "clips-fear" / clip["file"])
        assert len(frames) == clip["frames"]
        assert abs(duration - clip["duration_s"]) < 1 / rate
        assert abs(len(sound) / SAMPLE_RATE - clip["duration_s"]) < 1 / rate
        _check_span(frames, sound, 0.0, clip["source_start_s"], clip["duration_s"], rate)
        assert frames[0][1] == first


def test_clips_folder_holds_only_the_latest_run(ntsc_out):
    _cli("clips", ntsc_out, "--emotion", "fear", "--top", 3)
    _cli("clips", ntsc_out, "--emotion", "fear", "--top", 1, "--min-confidence", 0.5)
    folder = ntsc_out / "clips-fear"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [MANIFEST, "01_scene_0003.mp4", "clips.json"]
    assert not [p for p in ntsc_out.iterdir() if p.name.startswith(".clips-fear")]


def test_reel_follows_the_peaks_in_film_order_with_crossfades(ntsc_out):
    _cli("reel", ntsc_out, "--emotion", "awe", "--seconds", 4, "--segment", 2, "--crossfade", 0.5)
    manifest = json.loads((ntsc_out / "reel-awe.json").read_text())
    segments, fade = manifest["segments"], manifest["crossfade_s"]
    assert fade == pytest.approx(15 / NTSC)
    starts = [round(s["source_start_s"] * NTSC) for s in segments]
    assert starts == sorted(starts) and set(starts) <= set(SHOT_STARTS.tolist())  # on cuts
    for a, b in zip(segments, segments[1:]):
        assert a["source_end_s"] <= b["source_start_s"] + 1e-6  # no footage twice
    best = max(segments, key=lambda s: s["score"])
    assert round(best["source_start_s"] * NTSC) == SHOT_STARTS[4]  # the window on the peak
    assert manifest["duration_s"] == pytest.approx(4.0, abs=1.5 / NTSC)
    frames, sound, duration = _decoded(ntsc_out / "reel-awe.mp4")
    assert abs(duration - manifest["duration_s"]) < 1 / NTSC
    assert abs(len(frames) / NTSC - manifest["duration_s"]) < 1 / NTSC
    assert abs(len(sound) / SAMPLE_RATE - manifest["duration_s"]) < 1 / NTSC
    for segment in segments:  # outside the crossfades, each frame is its source frame
        _check_span(
            frames,
            sound,
            segment["reel_start_s"],
            segment["source_start_s"],
            segment["duration_s"],
            NTSC,
            skip=fade,
        )


def test_windows_fill_the_reel_without_overlap():
    options = ReelOptions(seconds=10.0, segment_s=4.0, crossfade_s=0.5)
    starts = np.array([0.0, 3.0, 8.0, 20.0, 30.0])
    ends = starts + 4.0
    scores = np.array([0.9, 0.8, np.nan, 0.7, 0.1])
    chosen = pick_windows(starts, ends, scores, options)
    # [0, 4) first; [3, 7) starts inside it; NaN is never scored; then [20, 24) and a filler.
    assert [c[0] for c in chosen] == [0.0, 20.0, 30.0]
    total = sum(e - s for s, e, _ in chosen) - 0.5 * (len(chosen) - 1)
    assert total == pytest.approx(10.0)


def test_a_silent_film_gives_a_silent_reel(tmp_path):
    film = write_film(tmp_path / "silent.mp4", NTSC, SHOTS, audio=False)
    analysis = film_analysis(film, NTSC, SHOTS, SCENES, _probs, sample_every=5)
    out = write_outputs(analysis, tmp_path / "out")
    _cli("reel", out, "--emotion", "awe", "--seconds", 4, "--segment", 2)
    manifest = json.loads((out / "reel-awe.json").read_text())
    assert manifest["audio"] is False and len(manifest["segments"]) > 1
    with av.open(str(out / "reel-awe.mp4")) as container:
        assert not container.streams.audio
        count = sum(1 for _ in container.decode(video=0))
    assert abs(count / NTSC - manifest["duration_s"]) < 1 / NTSC


# -- errors --------------------------------------------------------------------------------------


def _runner_with_stderr() -> CliRunner:
    """A runner that keeps stderr apart: click >= 8.2 always does, 8.1 needs mix_stderr=False."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click 8.2 dropped the argument
        return CliRunner()


def _fails(args, monkeypatch=None) -> str:
    result = _runner_with_stderr().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_emotion_and_too_many_scenes_exit_2(ntsc_out):
    assert "unknown emotion 'joy'" in _fails(["clips", ntsc_out, "--emotion", "joy"])
    assert "--top 9 but the film has only 5 scenes" in _fails(
        ["clips", ntsc_out, "--emotion", "fear", "--top", 9]
    )
    assert "longer than the film" in _fails(["reel", ntsc_out, "--emotion", "awe", "--seconds", 99])


def test_missing_ffmpeg_says_how_to_get_one(ntsc_out, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg"))  # nor imageio's
    message = _fails(["clips", ntsc_out, "--emotion", "fear", "--top", 1, "--out", tmp_path / "c"])
    assert "no ffmpeg binary found" in message and "trajectory[export]" in message
    assert not (tmp_path / "c").exists()


def test_empty_scene_table_no_model_and_wrong_film_exit_2(ntsc_out, tmp_path):
    empty = tmp_path / "empty"
    shutil.copytree(ntsc_out, empty)
    tags = json.loads((empty / "tags.json").read_text())
    tags["scenes"] = []
    (empty / "tags.json").write_text(json.dumps(tags))
    assert "scene table is empty" in _fails(["clips", empty, "--emotion", "fear"])

    film = Path(tags["video"]["path"])
    analysis = film_analysis(film, NTSC, SHOTS, SCENES, _probs, emotional=False)
    no_model = write_outputs(analysis, tmp_path / "no_model")
    assert "--no-model" in _fails(["reel", no_model, "--emotion", "awe", "--seconds", 3])

    other = write_film(tmp_path / "other.mp4", NTSC, [60])
    message = _fails(["clips", ntsc_out, "--emotion", "fear", "--top", 1, "--video", other])
    assert "not the analysed film" in message
