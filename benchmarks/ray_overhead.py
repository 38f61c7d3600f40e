"""The Ray engine's overhead: `trajectory catalog --engine ray` against `--engine local`.

Both commands run the same generated films with the same 224 px random-weight EmotionNet at
--fps 1, each into a fresh catalogue, as separate processes, so each pays its own start-up
(the local engine: torch in the driver; the Ray engine: a local Ray instance, a checkpoint
check task, the scoring actor's torch import). Rounds alternate the order of the engines; the
figures are the best wall time of each engine and the ratio of the two, the ratio within each
round (the machine is shared, so only ratios of nearby runs mean much), and the CPU seconds of
each run's whole process tree (driver, decoders, Ray's own processes and workers), which the
machine's other work disturbs less than wall time.

    python benchmarks/ray_overhead.py --films 6 --rounds 2

Needs the ray extra (pip install 'trajectory[ray]').
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
POLL_S = 0.25  # CPU-time sampling period; a process younger than this may be missed

from bench_common import tree_env  # noqa: E402
from film import FilmSpec, make_film  # noqa: E402


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=6, help="generated films")
    parser.add_argument("--min-seconds", type=float, default=20.0, help="shortest film")
    parser.add_argument("--max-seconds", type=float, default=40.0, help="longest film")
    parser.add_argument("--size", default="640x360", help="film frame size WxH")
    parser.add_argument("--fps", type=float, default=1.0, help="frames scored per second")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each engine")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "out" / "ray", help="cache"
    )
    return parser


def make_films(args) -> Path:
    """The films, spread evenly between the shortest and the longest, cached under --out."""
    width, height = (int(v) for v in args.size.split("x"))
    library = args.out / "library"
    library.mkdir(parents=True, exist_ok=True)
    step = (args.max_seconds - args.min_seconds) / max(1, args.films - 1)
    for i in range(args.films):
        spec = FilmSpec(args.min_seconds + i * step, 24, width, height, seed=i)
        video, _ = make_film(spec, args.out / "films", log=_log)
        link = library / video.name
        if not link.is_symlink():
            link.symlink_to(video.resolve())
    return library


def run_engine(engine: str, library: Path, checkpoint: Path, fps: float) -> dict:
    """One catalogue run in a fresh folder: wall seconds, CPU seconds of its process tree, films."""
    with tempfile.TemporaryDirectory(prefix=f"catalog-{engine}-") as folder:
        command = [sys.executable, "-m", "trajectory", "catalog", str(library)]
        command += ["--out", folder, "--model", str(checkpoint), "--fps", str(fps)]
        command += ["--engine", engine, "--quiet"]
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=tree_env(ROOT), stderr=subprocess.PIPE, text=True
        )
        cpu = TreeCpu(process.pid)
        cpu.start()
        _, stderr = process.communicate()
        wall = time.perf_counter() - start
        cpu.stop_and_join()
        if process.returncode != 0:
            raise SystemExit(f"{engine} run failed ({process.returncode}): {stderr}")
        films = len(list((Path(folder) / "films").iterdir()))
    return {
        "engine": engine,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu.total(), 1),
        "films": films,
    }


class TreeCpu(threading.Thread):
    """Samples the CPU seconds of a process and all its descendants (Ray's workers included:
    a local Ray instance is started by the driver) every POLL_S; keeps each process's last."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.seen: dict[tuple[int, float], float] = {}  # (pid, start time) -> CPU seconds
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        self.seen[(process.pid, process.create_time())] = times.user + times.system
                except psutil.Error:
                    continue
            self.done.wait(POLL_S)

    def stop_and_join(self) -> None:
        self.done.set()
        self.join()

    def total(self) -> float:
        return sum(self.seen.values())


def measure(args, library: Path, checkpoint: Path) -> list[dict]:
    runs = []
    for round_index in range(args.rounds):
        order = ("local", "ray") if round_index % 2 == 0 else ("ray", "local")
        for engine in order:
            run = run_engine(engine, library, checkpoint, args.fps)
            run["round"] = round_index
            _log(
                f"round {round_index} {engine}: {run['wall_s']:.1f} s wall, "
                f"{run['cpu_s']:.0f} CPU s, {run['films']} films, load {os.getloadavg()[0]:.1f}"
            )
            run["load_1min"] = round(os.getloadavg()[0], 1)
            runs.append(run)
    return runs


def summarize(runs: list[dict], args) -> dict:
    best = {e: min(r["wall_s"] for r in runs if r["engine"] == e) for e in ("local", "ray")}
    cpu = {e: min(r["cpu_s"] for r in runs if r["engine"] == e) for e in ("local", "ray")}
    per_round = []
    for round_index in range(args.rounds):
        walls = {r["engine"]: r["wall_s"] for r in runs if r["round"] == round_index}
        per_round.append(round(walls["ray"] / walls["local"], 3))
    return {
        "films": args.films,
        "film_seconds": [args.min_seconds, args.max_seconds],
        "size": args.size,
        "fps": args.fps,
        "best_wall_s": best,
        "ray_over_local": round(best["ray"] / best["local"], 3),
        "ray_over_local_per_round": per_round,
        "best_cpu_s": cpu,
        "ray_over_local_cpu": round(cpu["ray"] / cpu["local"], 3),
        "films_per_hour": {e: round(args.films * 3600 / w, 1) for e, w in best.items()},
        "cpus": os.cpu_count(),
        "runs": runs,
    }


def _log(message: str) -> None:
    print(f"[ray_overhead] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    from phases import make_checkpoint

    library = make_films(args)
    checkpoint = make_checkpoint(args.out / "random-emotionnet.pt")
    summary = summarize(measure(args, library, checkpoint), args)
    (args.out / "ray_overhead.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
