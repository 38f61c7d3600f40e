"""Catalogue benchmark: a shell loop of ``trajectory analyze`` against ``trajectory catalog``.

Run from the repository root::

    python benchmarks/catalog.py          # 12 films of 20-60 s at 640x360: ~15 min on 2 cores
    python benchmarks/catalog.py --workers 1,2 --films 12 --device cpu
    python benchmarks/catalog.py --skip loop --device cuda --workers 4,8   # on a GPU machine

The films are made like the throughput benchmark's (benchmarks/film.py: pans and zooms over
photos, hard cuts, film grain; H.264) at 640x360 and cached in ``benchmarks/out/``. The model
is a random-init EmotionNet at 224 px (weights do not change speed), at ``--fps`` 1.

Each contender runs in fresh processes on the same films into a fresh output folder: films per
hour, CPU utilisation (CPU seconds of all its processes over wall time x cores) and the peak RSS
(VmHWM) of each kind of process, sampled from /proc every 0.2 s. Also measured: the size of an
index.html of 500 films and the time headless Chromium takes to make it interactive. Results:
a Markdown table on stdout and ``benchmarks/out/catalog-*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_common import tree_env  # noqa: E402
from film import FilmSpec, make_film  # noqa: E402

OUT = HERE / "out"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, default=12)
    parser.add_argument("--min-seconds", type=float, default=20.0)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=float, default=1.0, help="frames scored per film second")
    parser.add_argument("--workers", default="1,2", help="catalogue --workers values to run")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip", default="", help="comma list of: loop, page")
    return parser


def make_films(args) -> list[Path]:
    lengths = [
        round(args.min_seconds + (args.max_seconds - args.min_seconds) * i / max(1, args.films - 1))
        for i in range(args.films)
    ]
    films = []
    for i, seconds in enumerate(lengths):
        spec = FilmSpec(seconds=seconds, width=args.width, height=args.height, seed=100 + i)
        films.append(make_film(spec, OUT / "catalog-films", log=_log)[0])
    return films


def make_checkpoint(path: Path) -> Path:
    """A random-init EmotionNet at the real 224 px input (made in a subprocess: no torch here)."""
    if not path.exists():
        code = (
            "import sys, torch; from trajectory.model import EmotionNet, save_checkpoint;"
            "torch.manual_seed(0); save_checkpoint(sys.argv[1], EmotionNet(),"
            " training={'note': 'random init, for benchmarks'})"
        )
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=tree_env(ROOT))
    return path


def _role(cmdline: list[str]) -> str:
    text = " ".join(cmdline)
    if "multiprocessing.spawn" in text:
        return "decode worker"
    if "resource_tracker" in text or "forkserver" in text:
        return "mp helper"
    if " analyze " in f" {text} ":
        return "analyze"
    if " catalog " in f" {text} ":
        return "catalog driver"
    return "shell"


class PeakMemory:
    """Polls the process tree under ``pid``: the last VmHWM of each process, by role."""

    def __init__(self, pid: int):
        self.pid, self.peaks, self.roles = pid, {}, {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for process in tree:
                try:
                    cmdline = process.cmdline()  # empty once the process has exited
                    if cmdline:
                        self.roles[process.pid] = _role(cmdline)  # read again: after exec
                    with open(f"/proc/{process.pid}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                self.peaks[process.pid] = int(line.split()[1]) / 1024
                except (OSError, psutil.Error):
                    continue
            time.sleep(0.2)

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        by_role: dict[str, float] = {}
        for pid, peak in self.peaks.items():
            role = self.roles.get(pid, "?")
            by_role[role] = max(by_role.get(role, 0.0), round(peak))
        return by_role


def timed(command: list[str]) -> dict:
    """Runs ``command``; wall time, CPU time of all its (waited) processes, peak RSS by role."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=tree_env(ROOT), stderr=subprocess.PIPE, text=True
    )
    memory = PeakMemory(process.pid)
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    peaks = memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {process.returncode}: {stderr[-2000:]}")
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peaks}


def shell_loop(films: list[Path], checkpoint: Path, out: Path, args) -> dict:
    lines = [
        f'"{sys.executable}" -m trajectory analyze "{film}" --model "{checkpoint}" --fps {args.fps}'
        f' --device {args.device} --out "{out / film.stem}" --quiet'
        for film in films
    ]
    return timed(["bash", "-ec", "\n".join(lines)])


def catalog_run(films: list[Path], checkpoint: Path, out: Path, workers: int, args) -> dict:
    listing = out.parent / f"{out.name}.txt"
    listing.write_text("".join(f"{film}\n" for film in films))
    return timed(
        [sys.executable, "-m", "trajectory", "catalog", str(listing), "--out", str(out),
         "--model", str(checkpoint), "--fps", str(args.fps), "--device", args.device,
         "--workers", str(workers), "--quiet"]
    )  # fmt: skip


def page_check() -> dict:
    """index.html of 500 films: bytes, and Chromium's time to interactive (script done)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from report_helpers import find_chromium, inspect_report
    from test_catalog_index import _analyses, _catalog

    folder = Path(tempfile.mkdtemp(prefix="catalog-page-"))
    try:
        page = _catalog(folder, _analyses(20), copies=25) / "index.html"
        result = {"films": 500, "bytes": page.stat().st_size}
        binary = find_chromium()
        if binary:
            timing = "JSON.stringify(performance.getEntriesByType('navigation')[0].toJSON())"
            seen = inspect_report(binary, page, {"nav": timing})
            nav = json.loads(seen.values["nav"])
            result["dom_interactive_ms"] = round(nav["domInteractive"])
            result["load_event_ms"] = round(nav["loadEventEnd"])
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _log(message: str) -> None:
    print(f"[catalog-bench] {message}", file=sys.stderr, flush=True)


def table(results: dict, films: int, cores: int) -> str:
    rows = ["| contender | wall | films/hour | vs loop | CPU use | peak RSS (MiB) by process |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    loop = results["runs"].get("shell loop")
    for name, r in results["runs"].items():
        per_hour = films / r["wall_s"] * 3600
        ratio = f"{loop['wall_s'] / r['wall_s']:.2f}x" if loop else "-"
        use = r["cpu_s"] / (r["wall_s"] * cores)
        rss = ", ".join(f"{role} {mib:.0f}" for role, mib in sorted(r["peak_rss_mib"].items()))
        rows.append(
            f"| {name} | {r['wall_s']:.1f} s | {per_hour:.0f} | {ratio} | {use:.0%} | {rss} |"
        )
    page = results.get("page")
    if page:
        rows.append(
            f"\nindex.html of {page['films']} films: {page['bytes'] / 1e3:.0f} kB; interactive"
            f" (DOM) after {page.get('dom_interactive_ms', '?')} ms, load event after"
            f" {page.get('load_event_ms', '?')} ms in headless Chromium"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    films = make_films(args)
    checkpoint = make_checkpoint(OUT / "emotionnet-random-224.pt")
    seconds = sum(float(json.loads(f.with_suffix(".truth.json").read_text())["frames"])
                  / FilmSpec().fps for f in films)  # fmt: skip
    _log(f"{len(films)} films, {seconds:.0f} s of film in all, {args.width}x{args.height}")
    results = {"films": len(films), "film_seconds": seconds, "args": vars(args), "runs": {}}
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-", dir=OUT))
    try:
        if "loop" not in skip:
            _log("shell loop of trajectory analyze ...")
            results["runs"]["shell loop"] = shell_loop(films, checkpoint, work / "loop", args)
        for workers in [int(w) for w in args.workers.split(",") if w]:
            _log(f"trajectory catalog --workers {workers} ...")
            out = work / f"catalog-w{workers}"
            results["runs"][f"catalog --workers {workers}"] = catalog_run(
                films, checkpoint, out, workers, args
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "page" not in skip:
        results["page"] = page_check()
    cores = os.cpu_count() or 1
    results["cores"] = cores
    print(table(results, len(films), cores))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"catalog-{stamp}.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
