"""Shot boundaries against known cuts, and scene grouping against the samples' sidecars.

Grouping on synthetic signatures and on generated films: tests/test_scenes.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLES, truth_of
from media import Shot, moving_pattern, solid, write_video

import trajectory

SAMPLE_VIDEOS = sorted(SAMPLES.glob("*.mp4"))


@pytest.fixture(scope="module", params=SAMPLE_VIDEOS, ids=[p.name for p in SAMPLE_VIDEOS])
def sample_result(request):
    return request.param, trajectory.analyze(request.param)


def test_every_true_cut_is_found_within_one_frame_and_no_false_cuts(sample_result):
    video, result = sample_result
    truth = truth_of(video)
    frame_s = 1 / float(eval(truth["fps"]))  # "24/1", "30000/1001"
    found = result.shots["start_s"].to_numpy()[1:]
    true = np.array([c["time_s"] for c in truth["cuts"]])
    assert len(found) == len(true), f"found {found}, true {true}"
    assert np.abs(found - true).max() <= frame_s + 1e-6
    kinds = result.shots["transition"].to_list()[1:]
    assert kinds == [c["kind"] for c in truth["cuts"]]


def test_scene_grouping_matches_the_sidecar(sample_result):
    video, result = sample_result
    found = result.shots.groupby("scene")["index"].apply(list).to_list()
    assert found == [scene["shots"] for scene in truth_of(video)["scenes"]]


def test_shots_and_scenes_tile_the_video(sample_result):
    _, result = sample_result
    for table in (result.shots, result.scenes):
        starts, ends = table["start_s"].to_numpy(), table["end_s"].to_numpy()
        assert starts[0] == result.start_s
        assert np.allclose(starts[1:], ends[:-1])
        assert ends[-1] == pytest.approx(result.end_s)
        assert np.all(ends > starts)


def test_hard_cut_in_a_synthetic_clip_is_at_its_frame(tmp_path):
    path = tmp_path / "cut.mp4"
    starts = write_video(path, [Shot(40, moving_pattern(10)), Shot(35, moving_pattern(11))], fps=25)
    result = trajectory.analyze(path)
    assert result.shots["start_s"].to_list() == pytest.approx([0.0, starts[1] / 25])


def test_fade_through_black_is_one_fade_cut(tmp_path):
    def fading(rgb, out: bool):
        def draw(i, w, h):
            gain = (1 - i / 12) if out else (i + 1) / 12
            return np.full((h, w, 3), np.array(rgb) * max(gain, 0), dtype=np.uint8)

        return draw

    shots = [
        Shot(30, solid((200, 120, 40))),
        Shot(12, fading((200, 120, 40), out=True)),
        Shot(6, solid((0, 0, 0))),
        Shot(12, fading((40, 90, 220), out=False)),
        Shot(30, solid((40, 90, 220))),
    ]
    path = tmp_path / "fade.mp4"
    starts = write_video(path, shots, fps=25)
    result = trajectory.analyze(path)
    assert result.shots["transition"].to_list() == ["start", "fade"]
    # Cut at the fade's darkest: the middle of its black frames (the fade-out's last frame,
    # gain 0, and the 6 held), each side keeping its own dimmed frames.
    black = (starts[2] - 1, starts[3] - 1)
    assert abs(result.shots["start_s"].iloc[1] - sum(black) / 2 / 25) <= 0.5 / 25 + 1e-9
