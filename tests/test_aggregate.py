"""Aggregation: time weights, distributions, tags, smoothing and arc shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trajectory import aggregate
from trajectory.emotions import EMOTIONS


def test_weights_run_to_the_next_sample_but_not_past_the_shot():
    times = np.array([0.0, 1.0, 2.0, 2.4, 3.4])
    shot_of = np.array([0, 0, 0, 1, 1])
    starts, ends = np.array([0.0, 2.2]), np.array([2.2, 4.0])
    weights = aggregate.frame_weights(times, shot_of, starts, ends)
    # The second shot's first frame (2.4 s) also stands for 2.2-2.4 s, from its shot's start.
    assert weights == pytest.approx([1.0, 1.0, 0.2, 1.2, 0.6])
    assert weights.sum() == pytest.approx(4.0)


def test_weights_cover_the_film_with_shots_shorter_than_the_sampling_interval():
    # 1 fps grid from 0.5 s, a film starting at 0.5 s; shots of 0.03 s (under one frame at
    # 25 fps), 0.3 s and 0.9 s, each sampled once at its middle; one 0.02 s shot got no frame.
    starts = np.array([0.5, 1.7, 1.73, 2.03, 2.05, 2.95])
    ends = np.append(starts[1:], 6.5)
    times = np.array([0.5, 1.5, 1.715, 1.88, 2.5, 3.5, 4.5, 5.5])
    shot_of = np.searchsorted(starts, times, side="right") - 1
    weights = aggregate.frame_weights(times, shot_of, starts, ends)
    assert weights.sum() == pytest.approx(6.0)  # the film's duration, 6.5 - 0.5
    assert (weights > 0).all()
    assert weights[2] == pytest.approx(0.03)  # the 0.03 s shot: its whole span, no more
    assert weights[3] == pytest.approx(0.3 + 0.02)  # 0.3 s shot + the unsampled 0.02 s one
    assert weights[4] == pytest.approx(0.9)  # from its shot's start (2.05), not from 2.5


def test_distribution_is_time_weighted():
    probs = np.zeros((2, 8))
    probs[0, EMOTIONS.index("sadness")] = 1
    probs[1, EMOTIONS.index("awe")] = 1
    dist = aggregate.weighted_distribution(probs, np.array([3.0, 1.0]))
    assert dist[EMOTIONS.index("sadness")] == pytest.approx(0.75)
    assert dist.sum() == pytest.approx(1.0)


def test_tags_are_classes_above_the_minimum_share_largest_first():
    dist = np.array([0.2, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.7])
    assert aggregate.film_tags(dist) == ["sadness", "amusement"]


def test_scene_table_and_film_summary():
    frames = pd.DataFrame(
        {"time_s": [0.0, 1.0, 2.0, 3.0], "scene": [0, 0, 1, 1], "shot": [0, 0, 1, 1]}
    )
    probs = np.full((4, 8), 0.0)
    probs[:2, EMOTIONS.index("fear")] = 1
    probs[2:, EMOTIONS.index("contentment")] = 1
    for i, name in enumerate(EMOTIONS):
        frames[name] = probs[:, i]
    frames["weight_s"] = 1.0
    shots = pd.DataFrame(
        {"index": [0, 1], "start_s": [0.0, 2.0], "end_s": [2.0, 4.0], "scene": [0, 1]}
    )
    scenes = aggregate.scene_table(frames, shots)
    assert scenes["dominant"].to_list() == ["fear", "contentment"]
    assert scenes["confidence"].to_list() == [1.0, 1.0]
    film = aggregate.summarize_film(frames)
    assert film.distribution["fear"] == 0.5 and film.valence == 0.0


def test_smoothing_is_a_centred_moving_average_in_seconds():
    times = np.arange(10.0)
    values = np.where(times == 5, 1.0, 0.0)
    smooth = aggregate.smooth_track(times, values, window_s=2.0)
    assert smooth[4:7] == pytest.approx([1 / 3] * 3)
    assert smooth.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "shape, arc",
    [
        (lambda t: t, "rags-to-riches"),
        (lambda t: -t, "riches-to-rags"),
        (lambda t: np.cos(2 * np.pi * t), "man-in-a-hole"),
        (lambda t: -np.cos(2 * np.pi * t), "icarus"),
        (lambda t: 0.001 * t, "flat"),
    ],
)
def test_arc_shape(shape, arc):
    times = np.linspace(0, 600, 601)
    assert aggregate.arc_shape(times, 0.5 * shape(times / 600)) == arc
