"""`trajectory analyze --no-model` of this checkout against an earlier commit, on the same film.

The two versions run alternately (best of ``--repeat``), each in a fresh interpreter from its
own source tree, with the same virtual environment, so the ratio compares code, not machines::

    .venv/bin/python benchmarks/structure.py --only-timing       # makes the 1080p test film
    .venv/bin/python benchmarks/against_commit.py a7b9597 \
        benchmarks/out/structure/photo-1080p24-v1-seed11.mp4

The earlier commit is checked out with ``git worktree`` into a temporary folder and removed after.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(tree: Path, film: Path, out: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS MiB) of one analyze --no-model run from source tree ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "trajectory", "analyze", str(film), "--no-model"]
    command += ["--no-report", "-q", "--out", str(out)]
    subprocess.run(command, cwd=tree, check=True)  # cwd first on sys.path: that tree's code
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier version, e.g. a7b9597")
    parser.add_argument("film", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach",
                        str(earlier), args.commit], check=True)  # fmt: skip
        try:
            best = {"earlier": [], "now": []}
            for _ in range(args.repeat):
                for name, tree in (("earlier", earlier), ("now", ROOT)):
                    best[name].append(run_once(tree, args.film.resolve(), Path(tmp) / "out" / name))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(earlier)], check=False)  # fmt: skip
    rows = {name: (min(r[0] for r in runs), min(r[1] for r in runs)) for name, runs in best.items()}
    print(f"{args.film.name}: analyze --no-model, best of {args.repeat}, alternating")
    print("| version | wall (s) | CPU (s) |\n|---|---|---|")
    for name, (wall, cpu) in rows.items():
        label = args.commit if name == "earlier" else "this checkout"
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    (w0, c0), (w1, c1) = rows["earlier"], rows["now"]
    print(f"this checkout / {args.commit}: wall {w1 / w0:.2f}x, CPU {c1 / c0:.2f}x")
    print("(peak RSS: RUSAGE_CHILDREN keeps the largest child, so it is not split per version;")
    print(" benchmarks/startup.py measures it per run)")


if __name__ == "__main__":
    main()
