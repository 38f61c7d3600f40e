"""Frames lost without a decode error are warned about and recorded in tags.json."""

from __future__ import annotations

import json

import av
import jsonschema
import pytest
from click.testing import CliRunner
from media import Shot, moving_pattern, solid, write_video

from trajectory.cli import main
from trajectory.export import tags_schema
from trajectory.scan import FilmScan
from trajectory.video import probe_video


def _encode(path, frames: int, seed: int, container_format=None, options=None) -> None:
    with av.open(str(path), "w", format=container_format, options=options or {}) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "18", "g": "12"}
        draw = moving_pattern(seed)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(i, 160, 96), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _tags(video, out):
    args = ["analyze", str(video), "--no-model", "--no-report", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    tags = json.loads((out / "tags.json").read_text())
    jsonschema.validate(tags, tags_schema())
    return tags["video"], result.output  # stderr: warnings and summary


def test_mp4_cut_in_half_is_reported_truncated(tmp_path):
    whole = tmp_path / "whole.mp4"
    _encode(whole, 144, seed=1, options={"movflags": "faststart"})  # moov at the front
    half = tmp_path / "half.mp4"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    video, warnings = _tags(half, tmp_path / "out")
    # With codec threading, recent PyAV loses the decode error (decode_errors 0; PyAV 17.0
    # still counts 1): truncation must be reported either way.
    assert video["truncated"] is True
    assert video["declared_duration_s"] == pytest.approx(6.0) and video["declared_frames"] == 144
    assert video["frames_decoded"] < 100 and video["end_s"] < 4.5
    assert "truncated" in warnings and "144 frames" in warnings
    whole_video, _ = _tags(whole, tmp_path / "out-whole")
    assert whole_video["truncated"] is False and whole_video["frames_decoded"] == 144


def test_timestamps_going_back_are_counted_and_reported(tmp_path):
    first, second = tmp_path / "a.ts", tmp_path / "b.ts"
    _encode(first, 72, seed=1, container_format="mpegts")
    _encode(second, 24, seed=2, container_format="mpegts")  # its clock restarts at the start
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    video, warnings = _tags(joined, tmp_path / "out")
    assert video["skipped_out_of_order"] == 24 and video["frames_decoded"] == 72
    assert "24 frame(s) skipped" in warnings


def test_a_cut_reported_after_its_shot_settled_still_gets_a_sample_and_keyframe(tmp_path):
    """Cuts at 2 s and 4 s; the detector reports the one at 2 s only after 4 s was settled."""
    video = tmp_path / "late.mp4"
    colours = [(200, 60, 40), (40, 60, 200), (60, 200, 40)]
    # The last shot outlasts the scan's settling delay (late_cut_s, several seconds with the
    # dissolve detector's look-ahead), so the held cut is revealed before the film ends.
    write_video(video, [Shot(n, solid(c)) for n, c in zip((50, 50, 325), colours)])
    scan = FilmScan(probe_video(video), fps=0.2, input_size=None, batch_size=1)  # grid 0, 5 s
    detector, held = scan.detector, []
    real_process, real_cuts_after = detector.process, detector.cuts_after
    reveal_at = 4.0 + scan.late_cut_s + 0.5  # after the shot ending at 4 s was settled

    def late_process(time_s, bgr):
        found = real_process(time_s, bgr)
        held.extend(c for c in found if c.time_s < 3.0)
        if held and time_s >= reveal_at:
            found, held[:] = found + held, []
        return [c for c in found if c not in held]

    detector.process = late_process
    detector.cuts_after = lambda t: [c for c in real_cuts_after(t) if c not in held]
    scan.run()
    outcome = scan.outcome()
    assert [round(c.time_s, 2) for c in outcome.cuts] == [2.0, 4.0]
    assert outcome.late_cuts == 1
    assert set(outcome.shot_keyframes) == {0.0, 2.0, 4.0}, "every shot has its keyframe"
    sampled = sorted(round(s.time_s, 2) for s in outcome.samples)
    assert any(2.0 <= t < 4.0 for t in sampled), sampled
