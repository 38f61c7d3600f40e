"""Helpers for the catalogue tests: a small library of films, running the CLI, comparing outputs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
from report_helpers import make_video

ROOT = Path(__file__).resolve().parents[1]


def write_undecodable(path: Path, seconds: float = 4.0, fps: int = 12) -> Path:
    """An MKV whose H.264 stream is declared properly but whose packets are noise."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        for i in range(round(seconds * fps)):
            packet = av.Packet(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
            packet.stream, packet.pts, packet.dts = stream, i, i
            packet.time_base = Fraction(1, fps)
            container.mux(packet)
    return path


def make_library(folder: Path, films: int = 5) -> dict[str, Path]:
    """Good films of 3-5 s (two in a subfolder, one titled), an undecodable one, non-films."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sub").mkdir(exist_ok=True)
    good = {}
    for i in range(films):
        place = folder / "sub" if i % 2 else folder
        suffix = ".mkv" if i == 3 else ".mp4"
        title = "A <b>title</b> & more" if i == 0 else None
        path = make_video(place / f"film{i}{suffix}", seconds=3 + i % 3, fps=12 + i, title=title)
        good[path.name] = path
    write_undecodable(folder / "broken.mkv")
    (folder / "notes.txt.bak").write_text("not a video\n")
    _write_wav(folder / "sound.wav")
    return good


def _write_wav(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 8000), np.int16), format="s16", layout="mono"
        )
        frame.rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())


def catalog_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "trajectory", "catalog", *args]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_catalog(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        catalog_command(*args), cwd=ROOT, env=env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def film_folders(catalog: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted((catalog / "films").iterdir())}


def assert_same_outputs(a: Path, b: Path) -> None:
    """Two film folders hold the same analysis (scores compared with a margin)."""
    assert sorted(p.relative_to(a) for p in a.rglob("*")) == sorted(
        p.relative_to(b) for p in b.rglob("*")
    )
    tags_a, tags_b = (json.loads((d / "tags.json").read_text()) for d in (a, b))
    assert _without_numbers(tags_a) == _without_numbers(tags_b)
    for name in ("frames.csv", "scenes.csv"):
        frame_a, frame_b = pd.read_csv(a / name), pd.read_csv(b / name)
        pd.testing.assert_frame_equal(frame_a, frame_b, check_exact=False, atol=1e-4)
    for jpeg in (a / "keyframes").iterdir():
        assert jpeg.read_bytes() == (b / "keyframes" / jpeg.name).read_bytes()
    # What scenes were grouped on: the same visual cues and (with a model) pooled features.
    with np.load(a / "shots.npz") as npz_a, np.load(b / "shots.npz") as npz_b:
        assert sorted(npz_a.files) == sorted(npz_b.files)
        for name in npz_a.files:
            np.testing.assert_allclose(npz_a[name], npz_b[name], rtol=1e-3, atol=1e-4)


def _without_numbers(value):
    """tags.json with scores rounded to 3 decimals (model kernels may differ in the 7th)."""
    if isinstance(value, dict):
        return {k: _without_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_numbers(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def done_count(catalog: Path) -> int:
    """Films marked done in CATALOG/catalog.db, read-only (0 while the file is not there yet)."""
    try:
        db = sqlite3.connect(f"{(catalog / 'catalog.db').as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM films WHERE status = 'done'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def kill_after_first_film(
    args: list[str], catalog: Path, run_env: dict | None = None, timeout: float = 240
) -> tuple[int, list]:
    """Starts ``trajectory catalog ARGS``, SIGKILLs the driver as soon as one film is done.

    Returns the films done by then and the driver's child processes at the kill (the decoders).
    """
    import psutil

    process = subprocess.Popen(catalog_command(*args), cwd=ROOT, env=run_env or env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while done_count(catalog) == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the catalogue run made no progress"
            time.sleep(0.02)
        children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    return done_count(catalog), children
