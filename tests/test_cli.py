"""End to end through the command line: outputs, their consistency, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SHORT_SAMPLE, ZOO, CodeRunningPayload

from trajectory import __version__
from trajectory.cli import main
from trajectory.emotions import EMOTIONS
from trajectory.export import tags_schema


def run_cli(*args, env=None):
    """The real console entry point in a subprocess: exit codes and stderr as a user sees them."""
    return subprocess.run(
        [sys.executable, "-m", "trajectory", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory, tiny_checkpoint):
    out = tmp_path_factory.mktemp("cli") / "short"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            str(SHORT_SAMPLE),
            "--model",
            str(tiny_checkpoint),
            "--out",
            str(out),
            "--batch-size",
            "4",
            "--no-report",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_tags_json_is_valid_and_tiles_the_video(analyzed):
    tags = json.loads((analyzed / "tags.json").read_text())
    jsonschema.validate(tags, tags_schema())
    assert tags["video"]["file"] == SHORT_SAMPLE.name
    assert tags["model"]["arch"] == "vgg19" and len(tags["model"]["sha256"]) == 64
    for key in ("shots", "scenes"):
        items = tags[key]
        assert items[0]["start_s"] == tags["video"]["start_s"]
        assert all(a["end_s"] == b["start_s"] for a, b in zip(items, items[1:]))
        assert items[-1]["end_s"] == pytest.approx(tags["video"]["end_s"], abs=1e-6)
    for block in [tags["film"]] + tags["scenes"]:
        assert sum(block["distribution"].values()) == pytest.approx(1.0, abs=1e-3)
        assert block["dominant"] == max(block["distribution"], key=block["distribution"].get)
    assert tags["film"]["tags"][0] == tags["film"]["dominant"]


def test_frames_csv_matches_tags_json(analyzed):
    tags = json.loads((analyzed / "tags.json").read_text())
    frames = pd.read_csv(analyzed / "frames.csv")
    assert list(frames.columns[:11]) == ["time_s", "shot", "scene", *EMOTIONS]
    assert {"brightness", "colourfulness", "valence"} <= set(frames.columns)
    assert len(frames) == tags["sampling"]["frames_scored"]
    times = frames["time_s"].to_numpy()
    assert np.all(np.diff(times) > 0)
    # Uniform 1 fps grid on a 25 fps clock: every whole second has its frame, exactly.
    assert set(np.arange(0, 12).astype(float)) <= set(np.round(times, 6))
    assert np.allclose(frames[list(EMOTIONS)].sum(axis=1), 1.0, atol=1e-5)
    for shot in tags["shots"]:
        inside = frames[frames["shot"] == shot["index"]]
        assert len(inside) >= 1, "every shot has a scored frame"
        assert inside["time_s"].between(shot["start_s"], shot["end_s"], inclusive="left").all()
        assert (inside["scene"] == shot["scene"]).all()


def test_scenes_csv_matches_tags_json(analyzed):
    tags = json.loads((analyzed / "tags.json").read_text())
    scenes = pd.read_csv(analyzed / "scenes.csv")
    assert len(scenes) == len(tags["scenes"])
    for row, scene in zip(scenes.itertuples(), tags["scenes"]):
        assert row.start_s == pytest.approx(scene["start_s"]) and row.end_s == pytest.approx(
            scene["end_s"]
        )
        assert row.dominant == scene["dominant"]
        assert [row.first_shot, row.last_shot] == [scene["shots"][0], scene["shots"][-1]]
        assert row.start_tc.count(":") == 2 and "." in row.start_tc
        for name in EMOTIONS:
            assert getattr(row, name) == pytest.approx(scene["distribution"][name], abs=1e-4)


def test_no_model_mode_writes_everything_but_emotions(tmp_path):
    out = tmp_path / "nomodel"
    proc = run_cli("analyze", SHORT_SAMPLE, "--no-model", "--no-report", "--quiet", "--out", out)
    assert proc.returncode == 0, proc.stderr
    tags = json.loads((out / "tags.json").read_text())
    jsonschema.validate(tags, tags_schema())
    assert tags["model"] is None and tags["film"]["distribution"] is None
    assert tags["sampling"]["frames_scored"] == 0
    frames = pd.read_csv(out / "frames.csv")
    assert frames[list(EMOTIONS)].isna().all().all()
    assert frames["brightness"].between(0, 1).all()


def test_model_from_environment_variable(tmp_path, tiny_checkpoint):
    out = tmp_path / "env"
    env = {**__import__("os").environ, "TRAJECTORY_MODEL": str(tiny_checkpoint)}
    proc = run_cli(
        "analyze", SHORT_SAMPLE, "--no-report", "--quiet", "--fps", "0.5", "--out", out, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "tags.json").read_text())["model"] is not None


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout


def _bad_inputs(tmp_path, tiny_checkpoint):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    import torch

    payload = torch.load(tiny_checkpoint, weights_only=True)
    payload["classes"] = payload["classes"][:7]
    wrong = tmp_path / "seven-classes.pt"
    torch.save(payload, wrong)
    evil = tmp_path / "evil.pt"
    torch.save({"x": CodeRunningPayload(tmp_path / "pwned")}, evil)
    cases = {
        "missing": ([tmp_path / "nope.mp4", "--no-model"], "no such file"),
        "directory": ([folder, "--no-model"], "is a directory"),
        "text-as-mp4": ([text, "--no-model"], "not a readable video"),
        "empty": ([empty, "--no-model"], "empty file"),
        "no-model-given": ([SHORT_SAMPLE], "no emotion model given"),
        "wrong-class-count": ([SHORT_SAMPLE, "--model", wrong], "class list"),
        "pickle-with-code": ([SHORT_SAMPLE, "--model", evil], "refused"),
        "bad-fps": ([SHORT_SAMPLE, "--no-model", "--fps", "0"], "fps"),
    }
    cases["out-is-a-file"] = ([SHORT_SAMPLE, "--no-model", "--out", text], "is not a folder")
    if ZOO.is_dir():
        cases["audio-only"] = ([ZOO / "moviepy/crunching.mp3", "--no-model"], "audio only")
        cases["cover-art"] = ([ZOO / "moviepy/with-attached-pic.mp3", "--no-model"], "cover art")
    return cases


def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, tiny_checkpoint):
    env = {**__import__("os").environ}
    env.pop("TRAJECTORY_MODEL", None)
    for name, (args, problem) in _bad_inputs(tmp_path, tiny_checkpoint).items():
        out = tmp_path / f"out-{name}"
        if "--out" not in args:
            args = [*args, "--out", out]
        proc = run_cli("analyze", *args, env=env)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (name, proc.stderr)
        assert len(lines) == 1 and problem in lines[0], (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert not out.exists(), name
        assert not list(tmp_path.glob(f".out-{name}.partial-*")), name
    assert not (tmp_path / "pwned").exists()
