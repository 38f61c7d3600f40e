"""Shot and scene structure benchmark on generated films (``structure_films.py``).

For each film in ``structure_films.SPECS`` and each method it scores:

- per transition kind (hard, dissolve, fade): recall, and precision/F1 counting every false cut
  against that kind (a true hard cut matches a cut within +-1 frame; a dissolve or fade one
  anywhere inside its span, +-1 frame);
- false cuts at distractors (flash, lamp, whip pan: a cut from 2 frames before to 12 after);
- scene boundary F1 (same matching) and scene purity (the share of each found scene's time that
  lies in its main true scene; the bar is >= 90% for every scene);
- wall time.

Methods: ``trajectory.analyze(..., shots=M)`` without a model for M in fast / classic / learned
(classic: the detector set before dissolves were detected), and PySceneDetect's own
``detect-adaptive`` and ``detect-content`` (its API, its own decoding, default settings).
The 1080p film is also timed as ``trajectory analyze --no-model`` here (fast, and with
``--shots classic``) and in the main worktree, alternating, best of ``--repeat``. Then the zoo's
``goldeneye-vfr-drop3.mp4`` (upstream cuts at 3.754 s and 8.759 s) and ``testvideo.mp4``.

    python benchmarks/structure.py            # everything; JSON -> benchmarks/out/structure.json
    python benchmarks/structure.py --methods fast,classic --no-timing
    python benchmarks/structure.py --methods fast --no-timing --seeds 2000-2009  # small films
    python benchmarks/structure.py --methods fast --no-timing --variant-seeds 5000-5019
    python benchmarks/structure.py --methods fast --no-timing --variant-seeds 9000-9009 --fps 50
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import structure_films  # noqa: E402
import structure_variants  # noqa: E402
from bench_common import seed_list, tree_env  # noqa: E402

import trajectory  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "structure.json"
ZOO = ROOT.parent / "shared" / "video-zoo" / "pyscenedetect"
MAIN = Path("/work/main")
EVENT_REACH = (2, 12)  # frames before / after a distractor where a cut counts against it


def match(found: list[int], transitions: list[dict]) -> tuple[dict[int, int], list[int]]:
    """Matches found cut frames to true transitions, each at most once, nearest first.

    Returns (transition index -> found index, unmatched found indices).
    """
    pairs = []
    for t, tr in enumerate(transitions):
        lo, hi = tr["span_frames"] if tr["kind"] != "hard" else (tr["frame"], tr["frame"])
        for f, frame in enumerate(found):
            if lo - 1 <= frame <= hi + 1:
                pairs.append((abs(frame - tr["frame"]), t, f))
    matched, used = {}, set()
    for _, t, f in sorted(pairs):
        if t not in matched and f not in used:
            matched[t], _ = f, used.add(f)
    return matched, [f for f in range(len(found)) if f not in used]


def prf(tp: int, true: int, false: int) -> dict:
    precision = tp / (tp + false) if tp + false else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "true": true, "precision": precision, "recall": recall, "f1": f1}


def score_cuts(found: list[int], truth: dict) -> dict:
    """Per-kind scores, false cuts and where they fell."""
    transitions = truth["transitions"]
    matched, unmatched = match(found, transitions)
    scores = {}
    for kind in ("hard", "dissolve", "fade"):
        of_kind = [t for t, tr in enumerate(transitions) if tr["kind"] == kind]
        tp = sum(1 for t in of_kind if t in matched)
        scores[kind] = prf(tp, len(of_kind), len(unmatched))
    gradual = [t for t, tr in enumerate(transitions) if tr["kind"] != "hard"]
    scores["gradual"] = prf(sum(t in matched for t in gradual), len(gradual), len(unmatched))
    scores["all"] = prf(len(matched), len(transitions), len(unmatched))
    at_events = {"flash": 0, "lamp": 0, "whip_pan": 0}
    for f in unmatched:
        for event in truth["events"]:
            lo, hi = event["frames"]
            if lo - EVENT_REACH[0] <= found[f] <= hi + EVENT_REACH[1]:
                at_events[event["kind"]] += 1
    scores["false_cuts"] = len(unmatched)
    scores["false_at_events"] = at_events
    scores["false_frames"] = [found[f] for f in unmatched]
    return scores


def score_scenes(shot_starts: list[int], shot_scene: list[int], truth: dict) -> dict:
    """Scene boundary F1 and purity from found shots (start frames) and their scene numbers."""
    starts = np.array(shot_starts)
    boundaries = [int(s) for s, a, b in zip(starts[1:], shot_scene, shot_scene[1:]) if a != b]
    scene_transitions = [tr for tr in truth["transitions"] if tr["between_scenes"]]
    matched, unmatched = match(boundaries, scene_transitions)
    f1 = prf(len(matched), len(scene_transitions), len(unmatched))
    true_scene = np.zeros(truth["frame_count"], dtype=int)
    for shot in truth["shots"]:
        true_scene[shot["start_frame"] : shot["end_frame"]] = shot["scene"]
    found_scene = np.zeros(truth["frame_count"], dtype=int)
    for start, scene in zip(starts, shot_scene):
        found_scene[start:] = scene
    purities = []
    for scene in np.unique(found_scene):
        labels = true_scene[found_scene == scene]
        purities.append(np.bincount(labels).max() / len(labels))
    return {
        "boundary": f1,
        "found_scenes": len(purities),
        "true_scenes": len(truth["scenes"]),
        "min_purity": float(min(purities)),
        "pure_scenes": int(sum(p >= 0.9 for p in purities)),
    }


def frame_of(times: np.ndarray, rate: Fraction) -> list[int]:
    return [int(round(t * rate)) for t in times]


def run_ours(path: Path, truth: dict, shots: str) -> dict:
    start = time.perf_counter()
    result = trajectory.analyze(path, shots=shots)
    wall = time.perf_counter() - start
    rate = Fraction(truth["fps"])
    table = result.shots
    starts = frame_of(table["start_s"].to_numpy(), rate)
    scores = score_cuts(starts[1:], truth)
    scores["scenes"] = score_scenes(starts, table["scene"].to_list(), truth)
    kinds = dict(zip(starts[1:], table["transition"].to_list()[1:]))
    matched, _ = match(starts[1:], truth["transitions"])
    labelled = [kinds[starts[1:][f]] == truth["transitions"][t]["kind"] for t, f in matched.items()]
    scores["kind_correct"] = float(np.mean(labelled)) if labelled else 1.0
    scores["wall_s"] = wall
    return scores


def run_scenedetect(path: Path, truth: dict, name: str) -> dict:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    detector = AdaptiveDetector() if name == "detect-adaptive" else ContentDetector()
    start = time.perf_counter()
    scenes = detect(str(path), detector)
    wall = time.perf_counter() - start
    starts = [0] + [s[0].frame_num for s in scenes[1:]]
    scores = score_cuts(starts[1:], truth)
    scores["wall_s"] = wall
    return scores


def time_cli(cwd: Path, film: Path, extra: list[str]) -> dict:
    """Wall and CPU (user + system) seconds of one ``trajectory analyze --no-model`` run."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "trajectory", "analyze", str(film), "--no-model", "--quiet",
             "--no-report", "--out", str(Path(tmp) / "out"), *extra],
            cwd=cwd, check=True, env=tree_env(cwd),
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"wall_s": wall, "cpu_s": cpu}


def timing(film: Path, repeat: int) -> dict:
    """Best-of wall and CPU time of analyze --no-model, alternating: this branch's default
    (fast), this branch with --shots classic (the detectors before), and the main worktree."""
    variants = {"fast": (ROOT, []), "classic": (ROOT, ["--shots", "classic"])}
    if (MAIN / "trajectory").is_dir():
        variants["main"] = (MAIN, [])
    runs = {name: [] for name in variants}
    for _ in range(repeat):
        for name, (cwd, extra) in variants.items():
            runs[name].append(time_cli(cwd, film, extra))
    best = {
        name: {key: min(r[key] for r in rs) for key in ("wall_s", "cpu_s")}
        for name, rs in runs.items()
    }
    ratios = {
        f"fast/{base}_{key}": best["fast"][key] / best[base][key]
        for base in best
        if base != "fast"
        for key in ("wall_s", "cpu_s")
    }
    return {"film": film.name, "runs": runs, "best": best, "ratios": ratios}


def zoo(methods: list[str]) -> dict:
    out = {}
    for name, expected in (("goldeneye-vfr-drop3.mp4", [3.754, 8.759]), ("testvideo.mp4", None)):
        path = ZOO / name
        if not path.exists():
            continue
        out[name] = {"expected_cuts_s": expected}
        for method in [m for m in methods if m in ("fast", "classic", "learned")]:
            result = trajectory.analyze(path, shots=method)
            cuts = [round(t, 3) for t in result.shots["start_s"].to_list()[1:]]
            out[name][method] = {"cuts_s": cuts, "kinds": result.shots["transition"].to_list()[1:]}
    return out


def table(results: dict) -> str:
    head = (
        "| film | method | hard F1 | dissolve R | fade R | gradual R | false cuts "
        "(flash/lamp/whip) | scene F1 | scenes pure >= 90% | wall s |"
    )
    lines = [head, "|" + "---|" * 10]
    for film, by_method in results.items():
        for method, s in by_method.items():
            events = s["false_at_events"]
            scenes = s.get("scenes")
            scene_f1 = f"{scenes['boundary']['f1']:.2f}" if scenes else "-"
            pure = f"{scenes['pure_scenes']}/{scenes['found_scenes']}" if scenes else "-"
            lines.append(
                f"| {film} | {method} | {s['hard']['f1']:.3f} | "
                f"{s['dissolve']['tp']}/{s['dissolve']['true']} | "
                f"{s['fade']['tp']}/{s['fade']['true']} | {s['gradual']['recall']:.2f} | "
                f"{s['false_cuts']} ({events['flash']}/{events['lamp']}/{events['whip_pan']}) | "
                f"{scene_f1} | {pure} | {s['wall_s']:.1f} |"
            )
    return "\n".join(lines)


def totals(results: dict) -> str:
    """One line per method: hard cuts, false cuts, hard-cut F1, gradual recall over all films."""
    lines = []
    for method in next(iter(results.values()), {}):
        scores = [by_method[method] for by_method in results.values()]
        hard = sum(s["hard"]["tp"] for s in scores)
        true_hard = sum(s["hard"]["true"] for s in scores)
        false = sum(s["false_cuts"] for s in scores)
        gradual = sum(s["gradual"]["tp"] for s in scores)
        true_gradual = sum(s["gradual"]["true"] for s in scores)
        events = [
            sum(s["false_at_events"][k] for s in scores) for k in ("flash", "lamp", "whip_pan")
        ]
        f1 = prf(hard, true_hard, false)["f1"]
        lines.append(
            f"{method} over {len(scores)} films: hard cuts {hard}/{true_hard}, false cuts {false} "
            f"(flash/lamp/whip {'/'.join(map(str, events))}), hard-cut F1 {f1:.3f}, "
            f"gradual {gradual}/{true_gradual} = {gradual / max(true_gradual, 1):.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="fast,classic,learned,detect-adaptive,detect-content")
    parser.add_argument("--films", default="", help="comma-separated spec names (default all)")
    parser.add_argument("--repeat", type=int, default=2, help="timing runs of each CLI")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--only-timing", action="store_true", help="skip the detection scores")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seeds", help="small films (small_spec) of these seeds, 1-8 or 3,5,9")
    parser.add_argument(
        "--variant-seeds", help="second-style films (structure_variants.py) of these seeds"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help="length of the --seeds / --variant-seeds films (default 30 / 32 s); films of 60 s "
        "or more also change scene at hard cuts",
    )
    parser.add_argument(
        "--fps",
        help="frame rate of the --seeds / --variant-seeds films instead of their own (24 for "
        "small films, 24, 25 or 29.97 drawn per second-style film), e.g. 50 or 60000/1001",
    )
    args = parser.parse_args()
    lengths = {} if args.seconds is None else {"seconds": args.seconds}
    methods = [] if args.only_timing else args.methods.split(",")
    wanted = set(filter(None, args.films.split(",")))
    results, films = {}, {}
    films_of = []  # (spec, the function that makes and caches its film)
    if args.seeds:
        films_of += [
            (structure_films.small_spec(s, **lengths), structure_films.film)
            for s in seed_list(args.seeds)
        ]
    if args.variant_seeds:
        films_of += [
            (structure_variants.variant_spec(s, **lengths), structure_variants.film)
            for s in seed_list(args.variant_seeds)
        ]
    if args.fps:
        films_of = [(structure_films.at_rate(spec, args.fps), make) for spec, make in films_of]
    if not films_of:
        films_of = [(spec, structure_films.film) for spec in structure_films.SPECS]
    for spec, make in films_of:
        if wanted and spec.name not in wanted:
            continue
        path, truth = make(spec)
        films[spec.name] = path
        results[spec.name] = {}
        for method in methods:
            if method.startswith("detect-"):
                results[spec.name][method] = run_scenedetect(path, truth, method)
            else:
                results[spec.name][method] = run_ours(path, truth, method)
            print(f"{spec.name} {method}: done", file=sys.stderr)
    report = {"films": results, "zoo": zoo(methods)}
    if not args.no_timing and "photo-1080p24" in films:
        report["timing_1080p"] = timing(films["photo-1080p24"], args.repeat)
    if args.only_timing:
        args.out = args.out.with_name("structure-timing.json")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=float))
    print(table(results))
    print(totals(results))
    print(json.dumps({"zoo": report["zoo"], "timing_1080p": report.get("timing_1080p")}, indent=1))


if __name__ == "__main__":
    main()
