"""The Ray engine on a local Ray instance: same catalogue as the local engine, faults, resume.

One Ray instance (2 CPUs) serves the whole module. Films are tiny and the model is the 32 px
random checkpoint, so each catalogue run costs a few seconds, most of it the scoring actor's
torch import.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

# `make test` installs the ray extra, so a missing Ray fails here instead of skipping quietly;
# only `make test-floors` (no extra) leaves this module out.
import ray
from catalog_helpers import (
    assert_same_outputs,
    catalog_command,
    kill_after_first_film,
    write_undecodable,
)
from media import Shot, moving_pattern, write_video

from trajectory.catalog.engine import LocalEngine
from trajectory.catalog.ray_stages import ScoringActor, plan_resources
from trajectory.catalog.run import EXIT_SOME_FAILED, run_catalog
from trajectory.catalog.stages import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

ROOT = Path(__file__).resolve().parents[1]
KILL_MARKER_ENV = "TRAJECTORY_TEST_KILL_MARKER"  # where KillOnceActor notes that it struck
FILMS = 4


def _env() -> dict:
    """Workers and CLI runs import this worktree's trajectory (and this module, for its actor)."""
    paths = [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory):
    """One local Ray instance with 2 CPUs for the module; its workers see ``_env()``."""
    if ray.is_initialized():
        ray.shutdown()
    saved = dict(os.environ)
    os.environ.update(_env())
    os.environ[KILL_MARKER_ENV] = str(tmp_path_factory.mktemp("kill") / "struck")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """FILMS good films of 2-6 s with two or three shots each, and one undecodable film."""
    folder = tmp_path_factory.mktemp("library")
    for i in range(FILMS):
        shots = [Shot(25 + 10 * j + 5 * i, moving_pattern(10 * i + j)) for j in range(2 + i % 2)]
        write_video(folder / f"film{i}.mp4", shots)
    write_undecodable(folder / "broken.mkv")
    return folder


def _settings(checkpoint: Path) -> Settings:
    """The settings the catalog command builds for this checkpoint on a CPU."""
    from trajectory.model import load_checkpoint

    model = load_checkpoint(checkpoint)
    return Settings(
        fps=4.0,
        checkpoint=str(checkpoint),
        model=model.describe(),
        input_size=model.preprocessing.input_size,
        batch_size=8,
        device="cpu",
    )


@pytest.fixture(scope="module")
def local_catalog(tmp_path_factory, library, tiny_checkpoint) -> Path:
    """The same library catalogued by the local engine: what the Ray engine must reproduce."""
    catalog = tmp_path_factory.mktemp("local") / "catalog"
    settings = _settings(tiny_checkpoint)
    summary = run_catalog([library], catalog, settings, LocalEngine(1), progress=False)
    assert len(summary.done) == FILMS and len(summary.failed) == 1
    return catalog


def _films(catalog: Path) -> dict[str, dict]:
    """films rows by path, without the time of analysis; JSON columns parsed."""
    db = sqlite3.connect(catalog / "catalog.db")
    db.row_factory = sqlite3.Row
    try:
        rows = {Path(r["path"]).name: dict(r) for r in db.execute("SELECT * FROM films")}
        for row in rows.values():
            del row["analysed_at"]
            row["scene_rows"] = [
                dict(s)
                for s in db.execute(
                    "SELECT * FROM scenes WHERE film_id = ? ORDER BY scene", (row["id"],)
                )
            ]
        return rows
    finally:
        db.close()


def _close(value):
    """Numbers rounded to 3 decimals: model kernels may differ in the 7th across batchings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return _close(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _close(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_close(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def _assert_same_catalogue(ray_catalog: Path, local_catalog: Path) -> None:
    """Same films and scenes rows; per film, the same files, tags.json, CSVs and keyframes."""
    ours, theirs = _films(ray_catalog), _films(local_catalog)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert _close(ours[name]) == _close(theirs[name]), name
        if theirs[name]["status"] != "done":
            continue
        assert_same_outputs(
            ray_catalog / "films" / ours[name]["id"], local_catalog / "films" / theirs[name]["id"]
        )


def test_ray_engine_gives_the_local_engines_catalogue(
    ray_instance, library, local_catalog, tiny_checkpoint, tmp_path
):
    from trajectory.catalog.ray_engine import RayEngine

    catalog = tmp_path / "catalog"
    summary = run_catalog(
        [library], catalog, _settings(tiny_checkpoint), RayEngine(), progress=False
    )
    assert summary.exit_code == EXIT_SOME_FAILED
    assert len(summary.done) == FILMS and len(summary.failed) == 1
    broken = _films(catalog)["broken.mkv"]
    assert broken["status"] == "failed" and broken["error"]
    assert "\n" not in broken["error"] and "Traceback" not in broken["error"]
    _assert_same_catalogue(catalog, local_catalog)


def test_without_a_model_the_ray_engine_finds_the_same_shots_and_scenes(
    ray_instance, library, local_catalog, tmp_path
):
    from trajectory.catalog.ray_engine import RayEngine

    catalog = tmp_path / "catalog"
    summary = run_catalog([library], catalog, Settings(fps=4.0), RayEngine(), progress=False)
    assert len(summary.done) == FILMS and len(summary.failed) == 1
    ours, theirs = _films(catalog), _films(local_catalog)
    for name, row in theirs.items():
        assert (ours[name]["status"], ours[name]["shots"]) == (row["status"], row["shots"])
        bounds = [(s["start_s"], s["end_s"]) for s in ours[name]["scene_rows"]]
        assert bounds == [(s["start_s"], s["end_s"]) for s in row["scene_rows"]], name
        assert ours[name]["dominant"] is None and ours[name]["model_sha256"] is None


class KillOnceActor(ScoringActor):
    """A scoring actor that has itself killed by ``ray.kill`` at its first batch, once a run.

    Each start appends its process id to ``<marker>.starts``, so a test can see the restart.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(f"{os.environ[KILL_MARKER_ENV]}.starts", "a") as starts:
            starts.write(f"{os.getpid()}\n")

    def __call__(self, batch):
        marker = Path(os.environ[KILL_MARKER_ENV])
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            ray.kill(ray.get_runtime_context().current_actor, no_restart=False)
            time.sleep(10)  # the kill lands while this batch is in flight
        return super().__call__(batch)


def test_a_killed_scoring_actor_is_restarted_and_its_batches_retried(
    ray_instance, library, local_catalog, tiny_checkpoint, tmp_path
):
    from trajectory.catalog.ray_engine import RayEngine

    marker = Path(os.environ[KILL_MARKER_ENV])
    starts = Path(f"{marker}.starts")
    marker.unlink(missing_ok=True)
    starts.unlink(missing_ok=True)
    catalog = tmp_path / "catalog"
    engine = RayEngine(scoring_actor=KillOnceActor)
    summary = run_catalog([library], catalog, _settings(tiny_checkpoint), engine, progress=False)
    assert marker.exists(), "the scoring actor was never killed"
    pids = starts.read_text().split()
    assert len(pids) == 2 and marker.read_text() == pids[0], "no restart after the kill"
    assert len(summary.done) == FILMS and len(summary.failed) == 1
    _assert_same_catalogue(catalog, local_catalog)


def test_a_rerun_after_the_driver_is_killed_resumes(
    ray_instance, library, local_catalog, tiny_checkpoint, tmp_path
):
    catalog = tmp_path / "catalog"
    args = [str(library), "--out", str(catalog), "--model", str(tiny_checkpoint), "--fps", "4"]
    args += ["--device", "cpu", "--engine", "ray", "--address", ray_instance]
    done_at_kill, _ = kill_after_first_film(args, catalog, _env(), timeout=120)
    assert 1 <= done_at_kill < FILMS, "the kill did not land mid-way"

    rerun = subprocess.run(catalog_command(*args), cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=180)  # fmt: skip
    assert rerun.returncode == EXIT_SOME_FAILED, rerun.stderr
    assert f"{done_at_kill} already done" in rerun.stderr
    assert rerun.stderr.count("trajectory: done ") == FILMS - done_at_kill
    _assert_same_catalogue(catalog, local_catalog)
    assert not list((catalog / ".work").glob("*")), "score logs of finished films were left"


def test_without_ray_the_engine_exits_2_naming_the_extra(tmp_path, library):
    blocker = tmp_path / "no-ray" / "ray"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('ray is not installed')\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(blocker.parent), env["PYTHONPATH"]])
    args = [str(library), "--out", str(tmp_path / "catalog"), "--no-model", "--engine", "ray"]
    result = subprocess.run(catalog_command(*args), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "trajectory: error: --engine ray needs Ray: pip install 'trajectory[ray]'"
    )


def test_a_ray_client_address_is_refused_in_one_line(tmp_path, library):
    args = [str(library), "--out", str(tmp_path / "catalog"), "--no-model", "--engine", "ray"]
    args += ["--address", "ray://head:10001"]
    result = subprocess.run(catalog_command(*args), cwd=ROOT, env=_env(),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("trajectory: error: --address ray://head:10001: Ray Data")
    assert len(result.stderr.strip().splitlines()) == 1


def _rows(film_id: str, samples: list[int], end: bytes | None = None) -> dict:
    """A result batch as the scoring stage hands it to the driver: frame rows, an end row."""
    kinds = ["frame"] * len(samples) + (["scanned"] if end is not None else [])
    count = len(kinds)
    return {
        "film_id": np.array([film_id] * count, dtype=object),
        "kind": np.array(kinds, dtype=object),
        "sample": np.array(samples + [-1] * (count - len(samples)), dtype=np.int64),
        "time_s": np.arange(count, dtype=np.float64),
        "payload": np.array([b""] * len(samples) + [end] * (count - len(samples)), dtype=object),
        "probs": np.full((count, 8), 0.125, dtype=np.float32),
        "features": np.ones((count, 4), dtype=np.float32),
    }


def test_a_retried_scan_ends_its_film_only_once_every_missing_score_is_in():
    """A scan retried after its worker died ships only the frames its score log lacks: the
    film must wait for those by id, although it already holds as many scores from attempt 1."""
    from trajectory.catalog.ray_rows import FilmInFlight, take_rows
    from trajectory.catalog.stages import FilmJob, ScannedFilm

    outcome = SimpleNamespace(samples=[SimpleNamespace(id=i) for i in range(4)])
    logged = {0: np.full(8, 0.125, np.float32), 1: np.full(8, 0.125, np.float32)}
    end = pickle.dumps(ScannedFilm("f", outcome, logged))
    films = {"f": FilmInFlight(FilmJob("f", "f.mp4"))}
    settings = _cpu_settings(input_size=32)
    assert take_rows(_rows("f", [0, 1]), films, settings, lambda *_: None) == []  # attempt 1
    assert take_rows(_rows("f", [], end=end), films, settings, lambda *_: None) == []  # retry
    assert take_rows(_rows("f", [2]), films, settings, lambda *_: None) == []
    ended = take_rows(_rows("f", [3]), films, settings, lambda *_: None)
    assert [film.job.film_id for film in ended] == ["f"] and not films
    assert sorted(ended[0].probabilities) == [0, 1, 2, 3]


def _cpu_settings(**changes) -> Settings:
    base = Settings(fps=1.0, checkpoint="m.pt", model={}, input_size=224, batch_size=8)
    return Settings(**{**base.__dict__, **changes})


def test_resources_split_between_decoding_and_scoring():
    gpu = plan_resources({"CPU": 32.0, "GPU": 2.0}, _cpu_settings())
    assert (gpu.actors, gpu.gpus_per_actor, gpu.decoders) == (2, 1, 30)
    assert gpu.settings.device == "cuda" and gpu.settings.batch_size == 64
    cpu = plan_resources({"CPU": 2.0}, _cpu_settings())
    assert (cpu.decoders, cpu.actors, cpu.cpus_per_actor, cpu.gpus_per_actor) == (1, 1, 1, 0)
    wide = plan_resources({"CPU": 48.0}, _cpu_settings())
    assert wide.decoders == 16 and wide.actors * wide.cpus_per_actor <= 32
    bare = plan_resources({"CPU": 8.0, "GPU": 1.0}, _cpu_settings(input_size=None))
    assert (bare.decoders, bare.actors) == (8, 0)
    with pytest.raises(ValueError, match="no GPU"):
        plan_resources({"CPU": 8.0}, _cpu_settings(device="cuda"))
