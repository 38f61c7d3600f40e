"""Decoding: exact presentation times, display orientation, bad files, the video zoo."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from media import Shot, moving_pattern, write_video

from trajectory.errors import InputError
from trajectory.video import FrameReader, probe_video


def test_constant_rate_times_are_pts_times(tmp_path):
    path = tmp_path / "cfr.mp4"
    write_video(path, [Shot(30, moving_pattern(1))], fps=25)
    info = probe_video(path)
    reader = FrameReader(info)
    times = [f.time_s for f in reader]
    assert times == pytest.approx([i / 25 for i in range(30)], abs=1e-9)
    assert reader.end_s == pytest.approx(30 / 25)
    assert (info.width, info.height, info.rotation) == (160, 96, 0)


def test_variable_frame_rate_times_come_from_the_stream(tmp_path):
    # Frames 0..9 every 40 ms, then 10..19 every 120 ms: index/fps would be wrong by 0.8 s.
    def pts_of(i: int) -> int:
        return i * 40 if i < 10 else 400 + (i - 10) * 120

    path = tmp_path / "vfr.mkv"
    write_video(
        path, [Shot(20, moving_pattern(2))], fps=25, pts_of=pts_of, time_base=Fraction(1, 1000)
    )
    times = [f.time_s for f in FrameReader(probe_video(path))]
    assert times == pytest.approx([pts_of(i) / 1000 for i in range(20)], abs=1e-6)


def test_frames_are_converted_at_the_requested_display_size(tmp_path):
    path = tmp_path / "size.mp4"
    write_video(path, [Shot(3, moving_pattern(3))], size=(160, 96))
    frame = next(iter(FrameReader(probe_video(path))))
    assert frame.to_array(80, 48).shape == (48, 80, 3)
    assert frame.to_array(32, 32, fmt="bgr24").dtype == np.uint8


def test_reused_scalers_match_a_fresh_conversion_for_every_size(tmp_path):
    # The reader keeps one swscale context per target; interleaving sizes and formats the way
    # the pipeline does (detection copy every frame, model input on sampled ones) must give
    # exactly what a fresh per-frame conversion gives.
    path = tmp_path / "scalers.mp4"
    write_video(path, [Shot(12, moving_pattern(4))], size=(320, 192))
    targets = [(128, 72, "bgr24"), (32, 32, "rgb24"), (64, 40, "rgb24")]
    for i, frame in enumerate(FrameReader(probe_video(path))):
        for width, height, fmt in targets[: 1 + i % 3]:
            fresh = frame.frame.to_ndarray(
                width=width, height=height, format=fmt, interpolation="AREA"
            )
            assert np.array_equal(frame.to_array(width, height, fmt=fmt), fresh)


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty file"),
        (lambda p: (p.write_text("this is not a video\n" * 50), p)[1], "not a readable video"),
    ],
    ids=["missing", "directory", "empty", "text-renamed-mp4"],
)
def test_bad_files_raise_one_line_input_errors(tmp_path, make, problem):
    path = make(tmp_path / "movie.mp4")
    with pytest.raises(InputError) as raised:
        probe_video(path)
    assert problem in str(raised.value)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


@dataclass(frozen=True)
class ZooCase:
    file: str
    size: tuple[int, int]  # display width, height
    start_s: float
    end_s: float
    frames: int
    decode_errors: int = 0


ZOO_CASES = [
    ZooCase("pyscenedetect/counter.mp4", (1920, 1080), 0.0, 3.0, 30),
    ZooCase("pyscenedetect/delayed_start.mp4", (480, 320), 1.075, 2.035, 24),
    ZooCase("pyscenedetect/goldeneye-vfr-drop3.mp4", (1280, 544), 0.0, 10.01, 160),
    ZooCase("pyscenedetect/issue-134-rotate.mp4", (544, 1280), 0.0, 10.01, 240),
    ZooCase("pyscenedetect/issue-195-aspect-ratio.mp4", (1024, 576), 0.0, 25.12, 628),
    ZooCase("decord/video_90.mov", (320, 568), 0.0, 0.1, 3),
    ZooCase("decord/video_180.mov", (568, 320), 0.0, 0.1, 3),
    ZooCase("decord/unordered.mov", (50, 50), 0.0, 0.125, 4),
    ZooCase("decord/corrupted.mp4", (1280, 720), 0.0, 5.0, 49, decode_errors=1),
    ZooCase("moviepy/no_duration.webm", (1280, 720), 0.0, 4.938, 74),
    ZooCase("moviepy/fire2.mp4", (1280, 720), 0.0, 2.3798, 25),
    ZooCase("dvr-scan/traffic_camera_vfr.mp4", (1280, 720), 0.0, 34.56, 576),
]


@pytest.mark.parametrize("case", ZOO_CASES, ids=[c.file for c in ZOO_CASES])
def test_zoo_files_decode_with_true_times(zoo, case):
    info = probe_video(zoo / case.file)
    reader = FrameReader(info)
    times = np.array([f.time_s for f in reader])
    assert (info.width, info.height) == case.size
    assert len(times) == case.frames
    assert np.all(np.diff(times) > 0)
    assert times[0] == pytest.approx(case.start_s, abs=1e-3)
    assert reader.end_s == pytest.approx(case.end_s, abs=2e-3)
    assert reader.decode_errors == case.decode_errors


def test_counter_frames_carry_their_own_presentation_times(zoo):
    # counter.mp4: frame N (from 1) is burned in with PTS (N - 1) * 0.1 s.
    times = [f.time_s for f in FrameReader(probe_video(zoo / "pyscenedetect/counter.mp4"))]
    assert times == pytest.approx([i * 0.1 for i in range(30)], abs=1e-9)


@pytest.mark.parametrize(
    "file, problem",
    [
        ("moviepy/crunching.mp3", "no video stream (audio only)"),
        ("moviepy/with-attached-pic.mp3", "cover art"),
    ],
)
def test_zoo_audio_files_are_rejected(zoo, file, problem):
    with pytest.raises(InputError) as raised:
        probe_video(zoo / file)
    assert problem in str(raised.value)


def test_a_title_that_is_not_utf8_is_read_without_its_bad_bytes(tmp_path):
    """Old muxers write Latin-1 titles. The film must analyse, and its title must be the same on
    every PyAV version: PyAV 19 keeps the bad bytes as lone surrogates, which no UTF-8 file
    (tags.json, the report) can hold, while earlier versions drop them."""
    from report_helpers import make_video

    from trajectory.catalog.sources import inspect_container

    path = make_video(tmp_path / "latin1.mp4", seconds=2.0, title="Caf\u00e9 Noir")
    data = path.read_bytes()
    assert data.count("Caf\u00e9".encode()) == 1
    path.write_bytes(data.replace("Caf\u00e9".encode(), b"Caf\xe9\xe9"))  # same length

    assert probe_video(path).title == "Caf Noir"
    assert inspect_container(str(path))[1] == "Caf Noir"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "trajectory", "analyze", str(path), "--no-model", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "tags.json").read_text("utf-8"))["video"]["title"] == "Caf Noir"
    assert "Caf Noir" in (out / "report.html").read_text("utf-8")
