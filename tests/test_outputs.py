"""The output folder: one run's files only, stale staging cleaned, long names, early write checks,
one run at a time, and a resume log that never mixes two models' scores."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SHORT_SAMPLE
from test_cli import run_cli

from trajectory.cli import main
from trajectory.emotions import EMOTIONS
from trajectory.outdir import MANIFEST, OutputFolder
from trajectory.resume import ScoreLog


def _names(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _analyze(*args):
    return CliRunner().invoke(main, ["analyze", *map(str, args)])


@pytest.fixture(scope="module")
def one_scene_video(tmp_path_factory):
    """A 4 s video of one colour: 1 shot, 1 scene (the short sample has 3 scenes)."""
    from media import Shot, solid, write_video

    path = tmp_path_factory.mktemp("one") / "one.mp4"
    write_video(path, [Shot(100, solid((200, 80, 40)))])
    return path


def test_second_run_replaces_the_whole_folder(tmp_path, one_scene_video):
    out = tmp_path / "out"
    assert _analyze(SHORT_SAMPLE, "--no-model", "--out", out, "-q").exit_code == 0
    assert len(list((out / "keyframes").iterdir())) == 3
    (out / "notes.txt").write_text("mine")  # a file no run wrote is kept
    result = _analyze(one_scene_video, "--no-model", "--no-report", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert _names(out) == sorted(
        [MANIFEST, "frames.csv", "keyframes", "keyframes/scene_0000.jpg", "notes.txt"]
        + ["scenes.csv", "shots.npz", "tags.json"]
    ), "no keyframes or report.html of the first film"
    assert json.loads((out / "tags.json").read_text())["video"]["file"] == "one.mp4"
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "nothing hidden left beside it"


def test_report_keeps_the_runs_other_files(tmp_path):
    out = tmp_path / "out"
    assert _analyze(SHORT_SAMPLE, "--no-model", "--no-report", "--out", out, "-q").exit_code == 0
    before = set(_names(out))
    proc = run_cli("report", out)
    assert proc.returncode == 0, proc.stderr
    assert set(_names(out)) == before | {"report.html"}


def test_stale_staging_of_a_killed_run_is_cleaned(tmp_path):
    out = tmp_path / "out"
    for name in (".out.partial-dead1", ".out.old-dead2", ".other.partial-keep"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tags.json").write_text("{}")
    assert _analyze(SHORT_SAMPLE, "--no-model", "--no-report", "--out", out, "-q").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.partial-keep", "out"]


def test_killed_between_the_two_renames_gets_the_old_outputs_back(tmp_path):
    out = tmp_path / "out"
    assert _analyze(SHORT_SAMPLE, "--no-model", "--no-report", "--out", out, "-q").exit_code == 0
    out.rename(tmp_path / ".out.old-1234abcd")  # the state after the first rename
    (tmp_path / ".out.partial-5678").mkdir()
    with OutputFolder(out).claim():
        assert (out / "tags.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_250_byte_file_name_with_the_default_out(tmp_path):
    video = tmp_path / ("é" * 60 + "x" * 126 + ".mp4")  # 250 bytes in UTF-8
    assert len(os.fsencode(video.name)) == 250
    shutil.copy(SHORT_SAMPLE, video)
    proc = subprocess.run(
        [sys.executable, "-m", "trajectory", "analyze", video.name, "--no-model", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "trajectory-out").iterdir()
    assert len(os.fsencode(folder.name)) <= 100 and folder.name.startswith("é" * 10)
    tags = json.loads((folder / "tags.json").read_text())
    assert tags["video"]["file"] == video.name


@pytest.mark.parametrize("kind", ["proc", "read-only"])
def test_unwritable_out_fails_before_decoding(tmp_path, monkeypatch, kind):
    if kind == "proc":
        out = "/proc/trajectory-test/out"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        out = folder / "out"
    import trajectory.scan

    def decoded(self):
        raise AssertionError("decoding started")

    monkeypatch.setattr(trajectory.scan.FilmScan, "run", decoded)
    result = _analyze(SHORT_SAMPLE, "--no-model", "--out", out)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "cannot" in lines[0], result.output


def test_folder_with_subfolders_and_no_output_is_refused(tmp_path):
    (tmp_path / "photos").mkdir()
    result = _analyze(SHORT_SAMPLE, "--no-model", "--out", tmp_path)
    assert result.exit_code == 2 and "no trajectory output" in result.output
    assert (tmp_path / "photos").is_dir()


HOLD_AND_SLEEP = textwrap.dedent(
    """
    import sys, time
    from trajectory.outdir import OutputFolder
    OutputFolder(sys.argv[1]).claim()
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_a_second_run_is_refused_while_one_holds_the_folder(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SLEEP, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = run_cli("analyze", SHORT_SAMPLE, "--no-model", "--out", out)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert "in use by another trajectory run" in lines[0] and str(holder.pid) in lines[0]
        assert not out.exists()
    finally:
        holder.send_signal(signal.SIGKILL)  # the kernel releases the lock
        holder.wait()
    proc = run_cli("analyze", SHORT_SAMPLE, "--no-model", "--no-report", "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from trajectory.cli import run
    from trajectory.scoring import FrameScorer
    real, calls = FrameScorer.score_with_features, []
    def score(self, images):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 after two logged batches
        return real(self, images)
    FrameScorer.score_with_features = score
    sys.argv = ["trajectory", *sys.argv[1:]]
    run()
    """
)


def _killed_run(model, out):
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, "analyze", str(SHORT_SAMPLE), "--model", str(model)]
        + ["--out", str(out), "--batch-size", "4", "--no-report", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory):
    import torch

    from trajectory.model import EmotionNet, Preprocessing, save_checkpoint

    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("model-b") / "emotionnet-b.pt"
    save_checkpoint(path, EmotionNet(), Preprocessing(input_size=32), training={"note": "b"})
    return path


@pytest.mark.slow  # three fresh interpreters that import torch: about a minute on 2 cores
def test_two_models_killed_then_one_rerun_never_mixes_scores(
    tmp_path, tiny_checkpoint, second_checkpoint
):
    """The issue's scenario: runs with models A and B into one --out, both killed, B rerun."""
    import trajectory

    reference = trajectory.analyze(SHORT_SAMPLE, second_checkpoint, batch_size=4).frames
    out = tmp_path / "out"
    _killed_run(tiny_checkpoint, out)
    _killed_run(second_checkpoint, out)
    proc = run_cli(
        "analyze", SHORT_SAMPLE, "--model", second_checkpoint, "--out", out, "--batch-size", "4"
    )
    assert proc.returncode == 0 and "resuming: 8 frames" in proc.stderr, proc.stderr
    import pandas as pd

    got = pd.read_csv(out / "frames.csv")
    assert np.allclose(got[list(EMOTIONS)], reference[list(EMOTIONS)], atol=1e-5)
    assert not (tmp_path / ".out.scores-partial").exists()


def test_log_records_must_carry_their_runs_key(tmp_path):
    """A log whose header says B but whose records were written under A is not reused."""
    path = tmp_path / "log"
    log = ScoreLog(path, {"model_sha256": "a"})
    log.append([0.0, 1.0], np.full((2, 8), 0.125, dtype=np.float32))
    log.close()
    body = path.read_bytes().split(b"\n", 1)[1]
    path.write_bytes(json.dumps({"model_sha256": "b"}).encode() + b"\n" + body)
    assert ScoreLog(path, {"model_sha256": "b"}).load() == {}
    # A zero-filled hole (a record another writer skipped over) is not a score either.
    log = ScoreLog(path, {"model_sha256": "c"})
    log.append([0.0], np.full((1, 8), 0.125, dtype=np.float32))
    log.close()
    with open(path, "ab") as f:
        f.write(bytes(48))
    assert list(ScoreLog(path, {"model_sha256": "c"}).load()) == [0]
