"""Start-up and memory of the paths that run no model, against scenedetect's own CLI.

Each measure runs in a fresh interpreter: best of ``--repeat`` wall times, and the largest peak
RSS (sampled every 20 ms with psutil, so a short spike may be missed by a few MiB):

- ``import trajectory.pipeline``
- ``trajectory report OUTDIR`` (re-aggregate and re-render, no decoding)
- ``trajectory analyze VIDEO --no-model`` on the 1080p sample
- ``scenedetect -i VIDEO detect-adaptive`` on the same file (shot detection only)

Usage: ``python benchmarks/startup.py [--video sample_videos/photos_1080p.mp4] [--repeat 3]``.
Prints a Markdown table; whether torch was imported is checked in the same runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
NO_TORCH = "import sys, runpy; sys.argv = {argv!r}; {body}; assert 'torch' not in sys.modules"


def measure(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Runs ``command``; returns (wall s, CPU s, peak RSS MiB of the process tree).

    CPU seconds (user + system, from the kernel's accounting of waited-for children) do not
    grow when other jobs share the machine; wall seconds do.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{proc.stderr.read().decode()}")
    return wall, cpu, peak / 2**20


def best_of(command: list[str], cwd: Path, repeat: int) -> tuple[float, float, float]:
    runs = [measure(command, cwd) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def _python_without_torch(argv: list[str], body: str) -> list[str]:
    return [sys.executable, "-c", NO_TORCH.format(argv=argv, body=body)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT / "sample_videos/photos_1080p.mp4")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    video = args.video.resolve()
    work = Path(tempfile.mkdtemp(prefix="trajectory-startup-"))
    out = work / "out"
    cli = "from trajectory.cli import run; run()"
    rows = []
    try:
        analyze = ["trajectory", "analyze", str(video), "--no-model", "-q", "--out", str(out)]
        commands = {
            "import trajectory.pipeline": _python_without_torch([], "import trajectory.pipeline"),
            "analyze --no-model": _python_without_torch(analyze, cli),
            "report": _python_without_torch(["trajectory", "report", str(out)], cli),
        }
        scenedetect = shutil.which("scenedetect") or str(
            Path(sys.executable).with_name("scenedetect")
        )
        commands["scenedetect detect-adaptive"] = [
            scenedetect, "-q", "-i", str(video), "-o", str(work), "detect-adaptive",
        ]  # fmt: skip
        for name, command in commands.items():
            rows.append((name, *best_of(command, ROOT, args.repeat)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{video.name}: best of {args.repeat} (wall, CPU), largest peak RSS; {os.cpu_count()} CPUs"
    )
    print("| measure | wall (s) | CPU (s) | peak RSS (MiB) | target |")
    print("|---|---|---|---|---|")
    for name, wall, cpu, rss in rows:
        target = {"report": "< 1.5 s", "analyze --no-model": "< 350 MiB"}.get(name, "")
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {target} |")
    by_name = {name: values for name, *values in rows}
    ours, base = by_name["analyze --no-model"], by_name["scenedetect detect-adaptive"]
    print(
        f"analyze --no-model / scenedetect: wall {ours[0] / base[0]:.2f}x, CPU "
        f"{ours[1] / base[1]:.2f}x, peak RSS {ours[2] / base[2]:.2f}x "
        "(torch was not imported in any of our runs)"
    )


if __name__ == "__main__":
    main()
