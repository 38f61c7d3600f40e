"""Harsh distractor clips for the fast shot detectors: false cuts, and hard cuts kept.

Each clip is 4 s at 24 fps of one place (a photo or texture from ``structure_films``, or a smooth
low-contrast gradient), filmed with a slow camera move, optional handheld shake and per-pixel
colour grain, rendered at 512x288 and shrunk to the detection size (256x144) by area averaging,
as the decoder does. Frames go straight into :class:`trajectory.shots.ShotDetector` (fast mode),
without encoding. The event sits at frame 40; profiles are harsher than the films' defaults:

- ``flash``: 1-3 frames, up to full white, constant or decaying;
- ``lamp_on`` / ``lamp_off``: instant or rising over 1-5 frames, over the whole picture or
  lighting one part of it (a soft disc) more than the rest;
- ``whip``: a swing of 0.15-0.5 s, horizontal, vertical or diagonal, of 0.2-0.5 of the place,
  motion-blurred by up to 1.5x the step, possibly zooming to another framing;
- ``cut``: the control: a hard cut to another framing of the same place (greyscale half of the
  time), which must be found within +-1 frame.

    python benchmarks/distractors.py --seeds 1-12          # table of false cuts and cut recall
    python benchmarks/distractors.py --seeds 1-12 --verbose  # every clip with a wrong answer
    python benchmarks/distractors.py --seeds 1-12 --place smooth --instant  # the hardest lamps
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import structure_films  # noqa: E402
from bench_common import seed_list  # noqa: E402

from trajectory.shots import ShotDetector  # noqa: E402

FPS = 24
PICTURE = (512, 288)
DETECTION = (256, 144)
FRAMES = 96
EVENT_AT = 40
KINDS = ("flash", "lamp_on", "lamp_off", "whip", "cut")
PLACES = (*structure_films.COLOUR_PHOTOS, *structure_films.GREY_PHOTOS, "texture", "smooth")


def smooth_place(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A low-contrast place: a gentle gradient with faint, very blurred blotches (RGB uint8)."""
    noise = cv2.resize(
        rng.normal(0, 1, (4, 4, 3)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC
    )
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(50, 200, 3).astype(np.float32)
    tilt = rng.uniform(-25, 25, 3).astype(np.float32)
    image = base + tilt * (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))[..., None] + 8 * noise
    return np.clip(image, 0, 255).astype(np.uint8)


def make_canvas(rng: np.random.Generator, greyscale: bool, place: str | None = None) -> np.ndarray:
    """A place twice the picture size, RGB uint8: ``place`` (of ``PLACES``), or one at random."""
    drawn = PLACES[int(rng.integers(len(PLACES)))]  # drawn either way: the clip's noise stays
    source = place or drawn
    if source == "smooth":
        image = smooth_place(rng)
    else:
        image = structure_films._place_image("texture0" if source == "texture" else source, rng)
    image = structure_films._fit(image, 2 * PICTURE[0], 2 * PICTURE[1])
    if greyscale:
        image = np.dstack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)] * 3)
    return image


def view(canvas: np.ndarray, centre: np.ndarray, zoom: float) -> np.ndarray:
    """The picture seen with the camera at ``centre`` (canvas fractions), ``zoom`` of the width."""
    zoom = float(np.clip(zoom, 0.25, 0.95))
    centre = np.clip(centre, zoom / 2, 1 - zoom / 2)
    ch, cw = canvas.shape[:2]
    scale = PICTURE[0] / (cw * zoom)
    matrix = np.float32(
        [
            [scale, 0, PICTURE[0] / 2 - scale * centre[0] * cw],
            [0, scale, PICTURE[1] / 2 - scale * centre[1] * ch],
        ]
    )
    return cv2.warpAffine(canvas, matrix, PICTURE, borderMode=cv2.BORDER_REFLECT)


def plan_clip(kind: str, seed: int) -> dict:
    """Random parameters of one clip (camera, grain, and the event's profile)."""
    rng = np.random.default_rng([seed, KINDS.index(kind), 7])
    clip = {
        "kind": kind,
        "seed": seed,
        "greyscale": bool(rng.random() < 0.5),
        "zoom": float(rng.uniform(0.4, 0.6)),
        "centre": rng.uniform(0.35, 0.65, 2),
        "pan": rng.uniform(-0.003, 0.003, 2),
        "shake": float(rng.choice([0.0, 0.0015])),  # handheld: ~0.3% of the width
        "grain": float(rng.uniform(2, 7)),
        "colour_grain": bool(rng.random() < 0.5),
    }
    if kind == "flash":
        length = int(rng.integers(1, 4))
        peak = float(rng.uniform(0.85, 1.0))
        decay = bool(rng.random() < 0.5)
        clip["whites"] = [peak * (0.5**k if decay else 1.0) for k in range(length)]
    elif kind in ("lamp_on", "lamp_off"):
        clip["dim"] = float(rng.uniform(0.3, 0.6))
        clip["rise"] = int(rng.integers(0, 6))  # 0: instant
        clip["local"] = bool(rng.random() < 0.5)
        clip["spot"] = rng.uniform(0.2, 0.8, 2)
    elif kind == "whip":
        clip["length"] = int(round(rng.uniform(0.15, 0.5) * FPS))
        angle = float(rng.choice([0, 90, 45, 135, 180, 270]) + rng.uniform(-10, 10))
        size = float(rng.uniform(0.2, 0.5))
        clip["swing"] = size * np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
        clip["blur"] = float(rng.uniform(0.8, 1.5))
        clip["zoom_to"] = float(clip["zoom"] * rng.choice([1.0, rng.uniform(0.75, 1.3)]))
    else:
        offset = rng.uniform(0.15, 0.3, 2) * rng.choice([-1, 1], 2)
        clip["cut_centre"] = np.clip(clip["centre"] + offset, 0.3, 0.7)
        clip["cut_zoom"] = float(clip["zoom"] * rng.uniform(0.7, 1.3))
    clip["canvas_seed"] = seed * 31 + KINDS.index(kind)
    return clip


def swing_share(clip: dict, k: int) -> float:
    """How far (0-1) the whip pan has swung at frame k: a smooth cosine ramp."""
    t = np.clip((k - EVENT_AT + 1) / (clip["length"] + 1), 0.0, 1.0)
    return float((1 - np.cos(np.pi * t)) / 2)


def camera(clip: dict, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(centre, zoom) of the camera at frame k."""
    shake = rng.normal(0, clip["shake"] + 1e-9, 2)
    centre = clip["centre"] + clip["pan"] * k + shake
    zoom = clip["zoom"]
    if clip["kind"] == "whip":
        share = swing_share(clip, k)
        centre = centre + clip["swing"] * share
        zoom = zoom + (clip["zoom_to"] - zoom) * share
    if clip["kind"] == "cut" and k >= EVENT_AT:
        centre = clip["cut_centre"] + clip["pan"] * k + shake
        zoom = clip["cut_zoom"]
    return centre, zoom


def light(clip: dict, frame: np.ndarray, k: int) -> np.ndarray:
    """The flash or lamp of the clip applied to frame k (float32 RGB)."""
    j = k - EVENT_AT
    if clip["kind"] == "flash" and 0 <= j < len(clip["whites"]):
        white = clip["whites"][j]
        return frame * (1 - white) + 255 * white
    if clip["kind"] in ("lamp_on", "lamp_off"):
        lit = float(np.clip((j + 1) / (clip["rise"] + 1), 0, 1))
        if clip["kind"] == "lamp_off":
            lit = 1 - lit
        height, width = frame.shape[:2]
        gain = clip["dim"] + (1 - clip["dim"]) * lit
        if clip["local"]:  # the lamp lights a disc fully, the rest of the picture by half
            yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
            cx, cy = clip["spot"][0] * width, clip["spot"][1] * height
            disc = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.25 * width) ** 2))
            gain = clip["dim"] + (1 - clip["dim"]) * lit * (0.5 + 0.5 * disc[..., None])
        return frame * gain
    return frame


def render(clip: dict) -> list[np.ndarray]:
    """The clip's frames at the detection size, BGR uint8."""
    rng = np.random.default_rng(clip["canvas_seed"])
    canvas = make_canvas(rng, clip["greyscale"], clip.get("place"))
    frames = []
    for k in range(FRAMES):
        centre, zoom = camera(clip, k, rng)
        frame = view(canvas, centre, zoom)
        if clip["kind"] == "whip":
            ch, cw = canvas.shape[:2]
            step = (clip["swing"] * (swing_share(clip, k + 1) - swing_share(clip, k))) * [cw, ch]
            frame = structure_films.motion_blur(
                frame, step * PICTURE[0] / (cw * zoom) * clip["blur"]
            )
        picture = light(clip, frame.astype(np.float32), k)
        channels = 3 if clip["colour_grain"] else 1
        picture = picture + rng.normal(0, clip["grain"], (*picture.shape[:2], channels))
        frames.append(detection_frame(picture))
    return frames


def detection_frame(picture: np.ndarray, size: tuple[int, int] = DETECTION) -> np.ndarray:
    """An RGB picture (any dtype, clipped to 0-255) shrunk to ``size`` by area averaging, as
    the decoder shrinks frames for detection, in the detectors' BGR uint8."""
    small = cv2.resize(
        np.clip(picture, 0, 255).astype(np.uint8), size, interpolation=cv2.INTER_AREA
    )
    return cv2.cvtColor(small, cv2.COLOR_RGB2BGR)


def detect(frames: list[np.ndarray]) -> list[tuple[int, str]]:
    """(frame, kind) of every cut the fast detector set finds."""
    detector = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        detector.process(k / FPS, frame)
    detector.finish()
    return [(round(c.time_s * FPS), c.kind) for c in detector.cuts]


def evaluate(
    seeds: list[int], kinds: list[str], verbose: bool, changes: dict | None = None
) -> dict:
    """Per kind: clips, clips with a wrong answer, false cuts by detector kind.

    ``changes`` replace some of each clip's random parameters (``place``, ``rise``).
    """
    results = {}
    for kind in kinds:
        wrong, by_detector = 0, Counter()
        for seed in seeds:
            clip = {**plan_clip(kind, seed), **(changes or {})}
            cuts = detect(render(clip))
            if kind == "cut":
                hit = [c for c in cuts if abs(c[0] - EVENT_AT) <= 1]
                false = [c for c in cuts if c not in hit[:1]]
                bad = not hit or false
            else:
                false, bad = cuts, bool(cuts)
            by_detector.update(c[1] for c in false)
            wrong += bool(bad)
            if bad and verbose:
                shown = {k: v for k, v in clip.items() if k not in ("kind",)}
                print(f"{kind} seed {seed}: cuts {cuts} {shown}", file=sys.stderr)
        results[kind] = {"clips": len(seeds), "wrong": wrong, "false_by_detector": by_detector}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-12")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--place", choices=PLACES, help="every clip over this place")
    parser.add_argument("--instant", action="store_true", help="lamps switched at once")
    args = parser.parse_args()
    changes = {"place": args.place} if args.place else {}
    if args.instant:
        changes["rise"] = 0
    results = evaluate(seed_list(args.seeds), args.kinds.split(","), args.verbose, changes)
    print("| clips | count | wrong | false cuts (hard/fade/dissolve) |")
    print("|---|---|---|---|")
    for kind, r in results.items():
        false = r["false_by_detector"]
        print(
            f"| {kind} | {r['clips']} | {r['wrong']} | "
            f"{false['hard']}/{false['fade']}/{false['dissolve']} |"
        )


if __name__ == "__main__":
    main()
