"""Exit codes that tell the truth: the user's fault is 2 with one line; a broken model, a bug 1."""

from __future__ import annotations

import json
import os
import pickle

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from conftest import SHORT_SAMPLE, CodeRunningPayload
from test_cli import run_cli

from trajectory.cli import main
from trajectory.emotions import EMOTIONS
from trajectory.model import EmotionNet, Preprocessing, save_checkpoint


def _one_line(proc, code: int, words: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, proc.stderr
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def _invoke(*args) -> tuple[int, list[str]]:
    """The CLI in this process (torch is already loaded): exit code and output lines."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output.strip().splitlines()


def test_text_file_as_model_is_bad_input(tmp_path):
    model = tmp_path / "notes.pt"
    model.write_text("hello, this is not a checkpoint\n")
    code, lines = _invoke("analyze", SHORT_SAMPLE, "--model", model, "--out", tmp_path / "o")
    assert code == 2 and len(lines) == 1, lines
    assert f"{model}: not a readable PyTorch checkpoint" in lines[0]


def test_raw_code_running_pickle_prints_only_the_refusal(tmp_path):
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"x": CodeRunningPayload(tmp_path / "pwned")}, f, protocol=4)
    proc = run_cli("analyze", SHORT_SAMPLE, "--model", evil, "--out", tmp_path / "o")
    _one_line(proc, 2, "refused")  # as a user sees it: no torch UserWarning lines before it
    assert "UserWarning" not in proc.stderr and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("suffix,codec", [(".png", "png"), (".jpg", "mjpeg")])
def test_still_image_renamed_mp4_is_not_a_film(tmp_path, suffix, codec):
    picture = tmp_path / f"picture{suffix}"
    cv2.imwrite(str(picture), np.full((90, 160, 3), 128, np.uint8))
    video = picture.rename(tmp_path / "picture.mp4")
    proc = run_cli("analyze", video, "--no-model", "--out", tmp_path / "o")
    _one_line(proc, 2, f"a still image ({codec}), not a film")


def test_cuda_device_with_no_model_runs_without_a_gpu(tmp_path):
    out = tmp_path / "o"
    proc = run_cli("analyze", SHORT_SAMPLE, "--no-model", "--device", "cuda", "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert (out / "tags.json").is_file()


@pytest.fixture(scope="module")
def no_model_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    args = ["analyze", str(SHORT_SAMPLE), "--no-model", "--no-report", "-q", "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    return out


@pytest.mark.parametrize("damage", ["missing-column", "not-a-number"])
def test_report_on_a_damaged_frames_csv_names_the_file(tmp_path, no_model_out, damage):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(no_model_out, out)
    frames = pd.read_csv(out / "frames.csv")
    if damage == "missing-column":
        frames = frames.drop(columns=["shot"])
        words = "missing column(s) shot"
    else:
        frames["time_s"] = frames["time_s"].astype(object)
        frames.loc[1, "time_s"] = "soon"
        words = "column time_s: 'soon' (line 3) is not a number"
    frames.to_csv(out / "frames.csv", index=False)
    proc = run_cli("report", out)
    _one_line(proc, 2, f"{out / 'frames.csv'}: {words}")


def test_a_bug_inside_numpy_is_exit_1_not_the_users_fault(monkeypatch, no_model_out):
    """A ValueError that is not a UsageError is a bug: exit 1."""
    import trajectory.aggregate

    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(trajectory.aggregate, "summarize_film", broken)
    result = CliRunner().invoke(main, ["report", str(no_model_out)])
    assert result.exit_code == 1 and "ValueError: operands" in result.output


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken")
    torch.manual_seed(0)
    nan_net = EmotionNet()
    with torch.no_grad():
        nan_net.classifier[1].weight.fill_(float("nan"))
    save_checkpoint(folder / "nan.pt", nan_net, Preprocessing(input_size=32))
    zero_std = Preprocessing(input_size=32, std=(0.0, 0.0, 0.0))
    save_checkpoint(folder / "std0.pt", EmotionNet(), zero_std)
    return {"nan-weights": folder / "nan.pt", "std-0": folder / "std0.pt"}


@pytest.mark.parametrize("case", ["nan-weights", "std-0"])
def test_broken_model_is_an_error_not_no_model(tmp_path, broken_models, case):
    out = tmp_path / "o"
    model = broken_models[case]
    code, lines = _invoke("analyze", SHORT_SAMPLE, "--model", model, "--out", out, "-q")
    assert code == 1 and len(lines) == 1, lines
    assert f"{model}: the emotion model gave non-finite scores" in lines[0]
    assert not out.exists()
    assert not (tmp_path / ".o.scores-partial").exists() or (
        (tmp_path / ".o.scores-partial").stat().st_size < 1000
    ), "no NaN scores logged for reuse"


def test_report_of_a_model_run_never_says_no_model(tmp_path, tiny_checkpoint):
    out = tmp_path / "o"
    code, lines = _invoke("analyze", SHORT_SAMPLE, "--model", tiny_checkpoint, "--out", out)
    assert code == 0, lines
    assert "no emotion model" not in lines[-1].lower() and "%" in lines[-1], lines
    page = (out / "report.html").read_text("utf-8")
    assert "No emotion model was used" not in page
    tags = json.loads((out / "tags.json").read_text())
    assert tags["model"]["sha256"] and tags["sampling"]["frames_scored"] > 0
    frames = pd.read_csv(out / "frames.csv")
    assert np.isfinite(frames[list(EMOTIONS)].to_numpy()).all()


def test_no_model_analyze_and_report_never_import_torch(tmp_path):
    """In a fresh interpreter: the paths that run no model stay off torch (and report off PyAV)."""
    code = (
        "import sys\n"
        "from trajectory.cli import main\n"
        "try:\n"
        "    main.main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = sorted(m for m in ('torch', 'torchvision', 'av') if m in sys.modules)\n"
        "    print('imported:', ','.join(heavy), file=sys.stderr)\n"
    )
    import subprocess
    import sys

    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for args, expected in (
        (["analyze", str(SHORT_SAMPLE), "--no-model", "-q", "--out", str(out)], "av"),
        (["report", str(out)], ""),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr
        assert f"imported: {expected}\n" in proc.stderr, proc.stderr
