"""The throughput benchmark's arithmetic: cut matching and the overlap bounds it reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from phases import f1  # noqa: E402
from throughput import _fps_list, best_of, summarize  # noqa: E402


def test_f1_matches_each_true_cut_once_within_one_frame():
    fps = 24.0
    true = [24, 48, 96]
    # 25 matches 24 (one frame late); 47 and 49 both sit next to 48, only one may count;
    # 200 is a false cut; 96 is never found.
    found = [25 / fps, 47 / fps, 49 / fps, 200 / fps]
    score = f1(found, true, fps)
    assert (score["found"], score["true"]) == (4, 3)
    assert score["precision"] == pytest.approx(2 / 4)
    assert score["recall"] == pytest.approx(2 / 3)
    assert score["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert f1([], [], fps)["f1"] == 1.0


def test_shared_cpu_bound_and_overlap_ratios(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    results = {
        "inference": {"by_batch": {"8": {"images_per_s": 8.0, "cpu_s_per_image": 0.25}}},
        "by_fps": {
            "1": {
                "decode": {"wall_s": 10.0, "cpu_s": 16.0},
                "analyze": {"wall_s": 22.0, "cpu_s": 42.0, "images_scored": 120},
            }
        },
        "naive": {"wall_s": 33.0},
    }
    args = argparse.Namespace(batch_size=8, fps=[1.0])
    s = summarize(results, {}, args)["by_fps"]["1"]
    # Floors: decode 10 s, inference 120 / 8 = 15 s; CPU work 16 + 120 * 0.25 = 46 s on 2 cores.
    assert s["inference_floor_s"] == pytest.approx(15.0)
    assert s["overlap_ratio"] == pytest.approx(22.0 / 15.0)
    assert s["serial_ratio"] == pytest.approx(22.0 / 25.0)
    assert s["shared_cpu_bound_s"] == pytest.approx(23.0)
    assert s["bound_ratio"] == pytest.approx(22.0 / 23.0)
    assert s["cpu_busy"] == pytest.approx(42.0 / 44.0)


def test_best_of_keeps_the_fastest_run_and_all_times():
    best = best_of([{"wall_s": 3.0, "n": 1}, {"wall_s": 2.0, "n": 2}, {"wall_s": 2.5, "n": 3}])
    assert best["n"] == 2 and best["wall_s_runs"] == [3.0, 2.0, 2.5]


def test_fps_list_parses_and_refuses_nonsense():
    assert _fps_list("1,4") == [1.0, 4.0]
    for bad in ("", "0", "1,-2"):
        with pytest.raises(argparse.ArgumentTypeError):
            _fps_list(bad)
