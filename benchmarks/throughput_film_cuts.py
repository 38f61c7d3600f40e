"""Hard cuts of ``analyze --no-model`` on films of the throughput benchmark's generator.

A third style of film for the shot detectors, written before the structure benchmark and never
used to build them: pans and zooms over scikit-image's photos and over smooth colour gradients
(sines of one oblique direction, with no fine detail), a disc moving across each shot on its
own, film grain, hard cuts only (``benchmarks/film.py``). Each seed makes one 640x360 24 fps
H.264 film; with N seeds the lengths run evenly from 20 s to 60 s. Films are cached in
``benchmarks/out/throughput-films/`` with the true cut frames beside them.

Every film runs through the real command line, ``trajectory analyze FILM --no-model`` (default
``--shots auto``, i.e. ``fast``), in a fresh process. A true cut is found by a cut within +-1
frame; every other cut is false, whatever its kind. Prints each film's misses and false cuts and
the totals (precision, recall, F1)::

    python benchmarks/throughput_film_cuts.py --seeds 100-111   # development seeds
    python benchmarks/throughput_film_cuts.py --seeds 200-211   # held out
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_common import seed_list, tree_env  # noqa: E402
from film import FilmSpec, make_film  # noqa: E402

TOLERANCE = 1  # frames


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100-111", help="film seeds, A-B")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "throughput-films")
    return parser


def film_specs(film_seeds: list[int]) -> list[FilmSpec]:
    """640x360 films whose lengths run evenly from 20 s to 60 s over the seeds."""
    count = len(film_seeds)
    return [
        FilmSpec(seconds=20 + 40 * i / max(count - 1, 1), width=640, height=360, seed=seed)
        for i, seed in enumerate(film_seeds)
    ]


def detected_cuts(video: Path) -> list[tuple[float, str]]:
    """(start time, transition) of every shot after the first, from ``analyze --no-model``."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        command = [sys.executable, "-m", "trajectory", "analyze", str(video), "--no-model"]
        command += ["--out", str(out), "--quiet"]
        subprocess.run(command, check=True, cwd=ROOT, env=tree_env(ROOT))
        shots = json.loads((out / "tags.json").read_text("utf-8"))["shots"]
    return [(shot["start_s"], shot["transition"]) for shot in shots[1:]]


def score(true_frames: list[int], found: list[tuple[int, str]]) -> tuple[list, list]:
    """(true cut frames missed, found cuts that match no true cut)."""

    def near(frame: int, others) -> bool:
        return any(abs(frame - other) <= TOLERANCE for other in others)

    missed = [t for t in true_frames if not near(t, [f for f, _ in found])]
    false = [(f, kind) for f, kind in found if not near(f, true_frames)]
    return missed, false


def main() -> None:
    args = get_args_parser().parse_args()
    totals = {"true": 0, "found": 0, "false": 0}
    for spec in film_specs(seed_list(args.seeds)):
        video, truth_path = make_film(spec, args.out, log=lambda *_: None)
        truth = json.loads(truth_path.read_text())
        found = [(round(t * truth["fps"]), kind) for t, kind in detected_cuts(video)]
        missed, false = score(truth["cut_frames"], found)
        totals["true"] += len(truth["cut_frames"])
        totals["found"] += len(truth["cut_frames"]) - len(missed)
        totals["false"] += len(false)
        print(f"seed {spec.seed}: {len(truth['cut_frames'])} cuts, missed {missed}, false {false}")
    true, found, false = totals["true"], totals["found"], totals["false"]
    precision = found / max(found + false, 1)
    recall = found / max(true, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    print(
        f"{args.seeds}: hard cuts {found}/{true}, false cuts {false}, "
        f"precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}"
    )


if __name__ == "__main__":
    main()
