"""Scene grouping on the structure test films: boundary F1 and purity per film.

Scene grouping is judged *given correct shots*: each film is decoded once, frames are sampled as
``analyze`` samples them (1 per second, plus the middle of any shot that got none), cropped and
signed the same way, and assigned to the true shots; :func:`trajectory.scenes.group_scenes`
then groups the true shots. ``--detected`` instead runs ``trajectory.analyze`` end to end, so
shot detection errors count too.

    python benchmarks/scenes_eval.py                      # the benchmark's films (SPECS)
    python benchmarks/scenes_eval.py --seeds 1-8          # small films of these seeds
    python benchmarks/scenes_eval.py --seeds 600-607 --seconds 70
    python benchmarks/scenes_eval.py --threshold 0.3 --penalty 0.35 --min-scene 2

Metrics (time-based, so they also apply to detected shots): a found scene boundary is right when
it lies within ``TOLERANCE_S`` of a true one (one match each); purity of a found scene is the
largest share of its time that belongs to one true scene. Bars from issue 10: F1 >= 0.9 and
every scene >= 90% pure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# This checkout's benchmarks and trajectory package, not an installed copy of another checkout.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
import structure_films  # noqa: E402

from trajectory.crop import cropped_array, detect_crop  # noqa: E402
from trajectory.scenes import SceneParams, group_scenes  # noqa: E402
from trajectory.shots import detection_size  # noqa: E402
from trajectory.signatures import ShotSignatures, frame_signature, shot_signatures  # noqa: E402
from trajectory.video import FrameReader, probe_video  # noqa: E402

TOLERANCE_S = 0.5  # a found boundary this close to a true one is right (the cut of a dissolve)
CACHE = Path(__file__).resolve().parent / "out" / "scenes"


def sample_times(starts: np.ndarray, ends: np.ndarray, fps: float = 1.0) -> np.ndarray:
    """Grid points start + k/fps, plus the middle of every shot no grid point falls in."""
    grid = np.arange(starts[0], ends[-1], 1.0 / fps)
    lonely = [(s + e) / 2 for s, e in zip(starts, ends) if not ((grid >= s) & (grid < e)).any()]
    return np.sort(np.concatenate([grid, lonely]))


def true_shot_signatures(video: Path, truth: dict) -> ShotSignatures:
    """Signatures of the truth's shots, from frames sampled and cropped as ``analyze`` does."""
    cache = CACHE / f"{video.stem}.npz"
    starts = np.array([s["start_s"] for s in truth["shots"]])
    ends = np.array([s["end_s"] for s in truth["shots"]])
    if cache.exists():
        with np.load(cache) as saved:
            frame_visual, shot_of = saved["visual"], saved["shot_of"]
    else:
        info = probe_video(video)
        crop = detect_crop(info)
        size = detection_size(*((crop.width, crop.height) if crop else (info.width, info.height)))
        wanted, rows, times = list(sample_times(starts, ends)), [], []
        for frame in FrameReader(info):
            if not wanted:
                break
            if frame.time_s + 1e-6 >= wanted[0]:
                while wanted and frame.time_s + 1e-6 >= wanted[0]:
                    wanted.pop(0)
                small = cropped_array(frame, crop, info, *size, fmt="bgr24")
                rows.append(frame_signature(small))
                times.append(frame.time_s)
        frame_visual = np.stack(rows)
        shot_of = np.searchsorted(starts, np.array(times) + 1e-6, side="right") - 1
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, visual=frame_visual, shot_of=shot_of)
    return shot_signatures(frame_visual, None, shot_of, len(starts))


def scene_scores(
    found_starts: np.ndarray, found_ends: np.ndarray, truth: dict
) -> tuple[float, float, float, float]:
    """(precision, recall, F1, lowest purity) of found scenes against the truth's scenes."""
    true_starts = np.array([s["start_s"] for s in truth["scenes"]])
    true_ends = np.array([s["end_s"] for s in truth["scenes"]])
    found_b, true_b = list(found_starts[1:]), list(true_starts[1:])
    hits = 0
    for b in found_b:
        near = [t for t in true_b if abs(t - b) <= TOLERANCE_S]
        if near:
            true_b.remove(min(near, key=lambda t: abs(t - b)))
            hits += 1
    precision = hits / len(found_b) if found_b else 1.0
    recall = hits / (len(truth["scenes"]) - 1) if len(truth["scenes"]) > 1 else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    purities = []
    for s, e in zip(found_starts, found_ends):
        overlap = np.clip(np.minimum(e, true_ends) - np.maximum(s, true_starts), 0, None)
        purities.append(overlap.max() / (e - s))
    return precision, recall, f1, float(min(purities))


def evaluate_true_shots(video: Path, truth: dict, params: SceneParams) -> tuple:
    shots = truth["shots"]
    starts = np.array([s["start_s"] for s in shots])
    ends = np.array([s["end_s"] for s in shots])
    kinds = ["start"] + [t["kind"] for t in truth["transitions"]]
    scene = group_scenes(starts, ends, true_shot_signatures(video, truth), kinds, params)
    first = np.flatnonzero(np.diff(scene, prepend=-1))
    last = np.append(first[1:] - 1, len(scene) - 1)
    return scene_scores(starts[first], ends[last], truth), int(scene.max() + 1)


def evaluate_detected(video: Path, truth: dict, params: SceneParams) -> tuple:
    import trajectory

    result = trajectory.analyze(video, scene_params=params)
    scenes = result.scenes
    scores = scene_scores(scenes["start_s"].to_numpy(), scenes["end_s"].to_numpy(), truth)
    return scores, len(scenes)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", help="small films of these seeds (1-8 or 3,5,9)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the small films")
    parser.add_argument("--threshold", type=float, default=SceneParams().threshold)
    parser.add_argument("--penalty", type=float, default=SceneParams().penalty)
    parser.add_argument("--min-scene", type=float, default=SceneParams().min_scene_s)
    parser.add_argument("--detected", action="store_true", help="use detected shots")
    args = parser.parse_args(argv)
    params = SceneParams(threshold=args.threshold, min_scene_s=args.min_scene, penalty=args.penalty)
    specs = (
        [structure_films.small_spec(s, args.seconds) for s in _seeds(args.seeds)]
        if args.seeds
        else structure_films.SPECS
    )
    evaluate = evaluate_detected if args.detected else evaluate_true_shots
    print(f"{'film':34} {'scenes':>6} {'found':>5} {'P':>5} {'R':>5} {'F1':>5} {'purity':>6}")
    f1s, purities = [], []
    for spec in specs:
        video, truth = structure_films.film(spec)
        (p, r, f1, purity), found = evaluate(video, truth, params)
        f1s.append(f1)
        purities.append(purity)
        print(
            f"{video.stem:34} {len(truth['scenes']):6d} {found:5d} "
            f"{p:5.2f} {r:5.2f} {f1:5.2f} {purity:6.2f}"
        )
    print(f"{'all':34} {'':6} {'':5} {'':5} {'':5} {np.mean(f1s):5.2f} {min(purities):6.2f}")
    ok = min(f1s) >= 0.9 and min(purities) >= 0.9
    print("bars (F1 >= 0.9, every scene >= 90% pure):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
