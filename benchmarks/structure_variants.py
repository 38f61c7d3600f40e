"""Second-style structure films: the same kinds of events as ``structure_films``, drawn otherwise.

The detectors' thresholds were chosen on ``structure_films``' films. A held-out film from another
generator differs in how each event is drawn, not in its kind, so these films keep the kinds and
the truth conventions and change the drawing:

- dissolves of any length from 8 to 48 frames, with a smoothstep (ease-in-out) mix, not linear;
- camera moves up to three times faster, with handheld shake (a sum of slow sinusoids);
- whip pans in any direction (horizontal, vertical, diagonal), 0.15-0.5 s, at constant speed
  with a short ease and a heavier directional motion blur, swinging 0.15-0.45 of the place;
- a lamp switched on over 0-6 frames, lighting one part of the picture more than the rest
  (a spot of light on a dimmer room), not a uniform gain;
- flashes of 1-3 frames up to full white, decaying after their first frame, sometimes warm;
- fresh colour grain on every frame (independent per channel), not a few luminance patterns;
- places include low-contrast band-limited textures of equal mean level, in grey and in colour;
- letterbox 2.39:1 or pillarbox 4:3 bars.

They are for validation only: nothing in ``trajectory`` was tuned on them. Truth is written as
``structure_films`` writes it. ``variant_spec(seed)`` is a 640x360 film;

    python benchmarks/structure.py --methods fast --no-timing --variant-seeds 5000-5019
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import structure_films as base

OUT_DIR = base.OUT_DIR
VARIANT_VERSION = 1  # part of every cache key: bump when the films change
PILLARBOX_ASPECT = 4 / 3
FLAT_TEXTURES = 3  # equal-mean low-contrast textures per film


def variant_spec(seed: int, seconds: float = 32.0) -> base.StructureSpec:
    """A 640x360 second-style film; even seeds letterboxed, seeds = 1 mod 4 pillarboxed."""
    rng = np.random.default_rng([seed, 1])
    fps = str(rng.choice(["24", "25", "30000/1001"]))
    return base.StructureSpec(
        f"variant{VARIANT_VERSION}-{seed}{base.length_suffix(seconds, 32.0)}",
        seed=seed,
        seconds=seconds,
        width=640,
        height=360,
        fps=fps,
        letterbox=seed % 2 == 0,
        grain=float(rng.uniform(2.0, 6.0)),
        greyscale_share=0.4,
        preset="ultrafast",
    )


def picture(spec: base.StructureSpec) -> tuple[int, int, int, int]:
    """(width, height, left, top) of the active picture: letterbox, pillarbox or full frame."""
    if spec.letterbox:
        width, height, top = spec.picture()
        return width, height, 0, top
    if spec.seed % 4 == 1:
        width = int(round(spec.height * PILLARBOX_ASPECT / 2)) * 2
        return width, spec.height, (spec.width - width) // 2, 0
    return spec.width, spec.height, 0, 0


# --- places -----------------------------------------------------------------------------------


def _flat_texture(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """Band-limited noise of random grain size and direction, mean level 128, low contrast."""
    cells = int(rng.choice([4, 8, 16, 32]))
    noise = rng.normal(0, 1, (cells, cells, 3)).astype(np.float32)
    noise = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    stretch = int(rng.integers(1, 12))  # streaks along a random direction
    kernel = np.zeros((2 * stretch + 1, 2 * stretch + 1), np.float32)
    angle = rng.uniform(0, np.pi)
    for r in np.linspace(-stretch, stretch, 4 * stretch + 1):
        kernel[int(round(stretch + r * np.sin(angle))), int(round(stretch + r * np.cos(angle)))] = 1
    noise = cv2.filter2D(noise, -1, kernel / kernel.sum())
    noise = (noise - noise.mean()) / max(float(noise.std()), 1e-6)
    if rng.random() < 0.5:  # grey
        noise[..., 1] = noise[..., 2] = noise[..., 0]
    image = 128 + float(rng.uniform(12, 35)) * noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _canvas(place: dict, spec: base.StructureSpec, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng([spec.seed, place["index"], 3])
    if place["source"].startswith("flat"):
        image = _flat_texture(rng)
    else:
        image = base._place_image(place["source"], rng)
    width, height = size
    image = base._fit(image, int(width * base.CANVAS_SCALE), int(height * base.CANVAS_SCALE))
    if place["greyscale"]:
        image = np.dstack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)] * 3)
    return image


# --- the plan ---------------------------------------------------------------------------------


def plan_variant(spec: base.StructureSpec) -> dict:
    """The base plan with redrawn places, dissolve lengths, camera moves and events."""
    rng = np.random.default_rng([spec.seed, 2])
    fps = float(spec.rate)
    pool = [*base.COLOUR_PHOTOS, *base.GREY_PHOTOS, *(f"flat{i}" for i in range(FLAT_TEXTURES))]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    scenes, total = [], 0.0
    while total < spec.seconds - 4.0 and len(scenes) < len(pool):
        scene = base._scene_plan(rng, len(scenes), pool[len(scenes)], spec, fps)
        for shot in scene["shots"]:
            shot["pan"] = shot["pan"] * rng.uniform(1.0, 3.0)
            shot["shake"] = _shake(rng, fps)
        scenes.append(scene)
        total += sum(s["frames"] for s in scene["shots"]) / fps
    deck = base._transition_deck(rng, len(scenes) - 1)
    for entry in deck:
        if entry["kind"] == "dissolve":
            entry["frames"] = int(rng.integers(8, 49))
    shots = base.join_scenes(scenes, deck, rng, fps)
    base._place_events(shots, scenes, rng, fps)
    for shot in shots:
        for event in shot["events"]:
            _redraw_event(event, rng, fps)
    return {"scenes": scenes, "shots": shots, "frames": shots[-1]["end"]}


def _shake(rng: np.random.Generator, fps: float) -> list[list[float]]:
    """Handheld shake: three sinusoids per axis as [amplitude, frequency per frame, phase]."""
    amplitude = float(rng.uniform(0.0, 0.004))
    return [
        [amplitude / (i + 1), float(rng.uniform(0.5, 3.0) / fps), float(rng.uniform(0, 2 * np.pi))]
        for i in range(6)
    ]


def _redraw_event(event: dict, rng: np.random.Generator, fps: float) -> None:
    """Other profiles for the base plan's events (the frame where each starts is kept)."""
    if event["kind"] == "whip_pan":
        event["length"] = int(round(rng.uniform(0.15, 0.5) * fps))
        angle = float(rng.choice([0.0, 0.5, 0.25, 0.75]) * np.pi + rng.uniform(-0.2, 0.2))
        event["direction"] = [float(np.cos(angle)), float(np.sin(angle))]
        event["swing"] = float(rng.choice([-1, 1]) * rng.uniform(0.15, 0.45))
    elif event["kind"] == "lamp":
        event["length"] = int(rng.integers(1, 8))  # frames of rise (1 = instant)
        event["spot"] = [float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8))]
        event["spot_size"] = float(rng.uniform(0.3, 0.7))
        event["dim"] = float(rng.uniform(0.35, 0.65))
    elif event["kind"] == "flash":
        event["white"] = float(rng.uniform(0.7, 1.0))
        event["decay"] = float(rng.uniform(0.3, 0.8))
        event["warm"] = bool(rng.random() < 0.4)


def _layout_events(plan: dict, fps: float) -> None:
    """Keeps every redrawn event inside its shot's window, >= 1 s from any transition."""
    for shot in plan["shots"]:
        lo, hi = base._event_window(shot, plan["shots"], fps)
        for event in shot["events"]:
            event["length"] = max(1, min(event["length"], hi - lo - 2))
            event["at"] = int(max(lo, min(event["at"], hi - event["length"])))


# --- rendering --------------------------------------------------------------------------------


def _whip_offset(event: dict, k: int) -> np.ndarray:
    """Camera offset (canvas fractions) k frames into the shot: constant speed, 1-frame ease."""
    t = (k - event["at"] + 0.5) / event["length"]
    t = float(np.clip(t, 0.0, 1.0))
    eased = t * t * 2 if t < 0.1 else (1 - (1 - t) ** 2 * 2 if t > 0.9 else t)
    return event["swing"] * eased * np.array(event["direction"])


def _shake_offset(shot: dict, k: int) -> np.ndarray:
    x = sum(a * np.sin(2 * np.pi * f * k + p) for a, f, p in shot["shake"][:3])
    y = sum(a * np.sin(2 * np.pi * f * k + p) for a, f, p in shot["shake"][3:])
    return np.array([x, y])


def _render_shot(canvas, scene: dict, shot: dict, k: int, size) -> np.ndarray:
    position = scene["positions"][shot["position"]]
    zoom = float(np.clip(position["zoom"] * (1 + shot["zoom_rate"]) ** k, 0.25, 0.9))
    centre = position["centre"] + shot["pan"] * k + _shake_offset(shot, k)
    whips = [e for e in shot["events"] if e["kind"] == "whip_pan"]
    for event in whips:
        centre = centre + _whip_offset(event, k)
    centre = np.clip(centre, zoom / 2, 1 - zoom / 2)
    frame, scale = base.camera_view(canvas, centre, zoom, size)
    ch, cw = canvas.shape[:2]
    for event in whips:
        step = (_whip_offset(event, k + 1) - _whip_offset(event, k)) * np.array([cw, ch]) * scale
        frame = base.motion_blur(frame, step)
    return _light(frame, shot, k)


def _spot(event: dict, shape) -> np.ndarray:
    height, width = shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = event["spot"][0] * width, event["spot"][1] * height
    radius = event["spot_size"] * width
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))[..., None]


def _light(frame: np.ndarray, shot: dict, k: int) -> np.ndarray:
    """The lamp (a spot of light rising over its frames) and decaying flashes at frame k."""
    out = frame.astype(np.float32)
    for event in shot["events"]:
        j = k - event["at"]
        if event["kind"] == "lamp" and j < event["length"]:
            # Before: the room 40% of the way to ``dim``, the lamp's spot all the way.
            rise = max(0, j + 1) / (event["length"] + 1)
            unlit = 1 - (1 - event["dim"]) * (0.4 + 0.6 * _spot(event, frame.shape))
            out = out * (unlit + (1 - unlit) * rise)
        elif event["kind"] == "flash" and 0 <= j < event["length"]:
            white = event["white"] * event["decay"] ** j
            colour = np.array([255, 230, 190] if event["warm"] else [255, 255, 255], np.float32)
            out = out * (1 - white) + colour * white
    return np.clip(out, 0, 255).astype(np.uint8)


def smoothstep(t: float) -> float:
    """An ease-in-out dissolve: slow at both ends, fastest in the middle."""
    return t * t * (3 - 2 * t)


def _frames(spec: base.StructureSpec, plan: dict):
    width, height, left, top = picture(spec)
    canvases = [_canvas(scene["place"], spec, (width, height)) for scene in plan["scenes"]]
    rng = np.random.default_rng([spec.seed, 998])
    for n in range(plan["frames"]):
        frame = base._transition_frame(
            plan["shots"], plan["scenes"], canvases, n, (width, height), _render_shot, smoothstep
        )
        if frame is None:
            shot = next(s for s in plan["shots"] if s["start"] <= n < s["end"])
            scene = plan["scenes"][shot["scene"]]
            frame = _render_shot(
                canvases[shot["scene"]], scene, shot, n - shot["start"], (width, height)
            )
        grain = rng.normal(0, spec.grain, frame.shape).astype(np.float32)
        full = np.zeros((spec.height, spec.width, 3), np.uint8)
        full[top : top + height, left : left + width] = np.clip(frame + grain, 0, 255)
        yield full


def film(spec: base.StructureSpec, out_dir: Path = OUT_DIR) -> tuple[Path, dict]:
    """The variant film's (video path, truth), made once and cached in ``out_dir``."""
    path = Path(out_dir) / f"{spec.stem}.mp4"
    truth_path = path.with_suffix(".truth.json")
    if path.exists() and truth_path.exists():
        return path, json.loads(truth_path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan_variant(spec)
    _layout_events(plan, float(spec.rate))
    partial = path.with_name(f".{path.stem}.partial.mp4")
    base.encode(spec, _frames(spec, plan), partial)
    truth = base.truth_of(spec, plan)
    width, height, left, top = picture(spec)
    truth.update(video=path.name, style="variant", variant_version=VARIANT_VERSION)
    truth["picture"] = {"x": left, "y": top, "width": width, "height": height}
    partial_truth = truth_path.with_name(f".{truth_path.name}.partial")
    partial_truth.write_text(json.dumps(truth, indent=1) + "\n")
    partial.replace(path)
    partial_truth.replace(truth_path)
    return path, truth
