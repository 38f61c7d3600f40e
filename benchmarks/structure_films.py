"""Test films for shot and scene detection, with the truth written beside each.

Each film is a sequence of scenes; a scene is one *place* (a CC0 photo shipped with scikit-image,
or a synthetic texture), in colour or in greyscale, filmed from 2-3 *camera positions* (framings
of that place). A shot is a slow camera move (pan and zoom) from one position. Dialogue scenes
alternate two positions, A B A B A. Shots of a scene are joined by hard cuts; scenes by hard cuts,
dissolves of 8, 24 or 48 frames, or fades through black. Distractors that must make no cut sit
inside shots, at least a second away from any transition: flashes of 1-3 near-white frames, a
lamp switched on (a lasting brightness step), whip pans (a fast, motion-blurred swing of the
camera to another framing). Film grain throughout, optional 2.39:1 letterbox bars.

Everything follows from the spec's seed; x264 runs with a fixed thread count, so the same spec
gives the same file. ``make_film(spec, path)`` writes the video and ``<stem>.truth.json`` and
returns the truth; ``film(spec)`` caches under ``benchmarks/out/structure/``. ``SPECS`` are the
films the benchmark reports; tests use :func:`small_spec` with other seeds.

Truth conventions (frame numbers count from 0; frame n is presented at n / fps):
- a shot's ``start_frame`` is the frame a detector should name as the cut; for a gradual
  transition that is its middle frame, ``span_frames`` = [first, last] mixed frames (inclusive);
- a fade's span runs from the first dimmed frame of the outgoing shot to the last dimmed frame
  of the incoming one, black frames included.

Run ``python benchmarks/structure_films.py`` to build every film in SPECS.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

OUT_DIR = Path(__file__).resolve().parent / "out" / "structure"
GENERATOR_VERSION = 1  # part of every cache key: bump when the films change
COLOUR_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "retina",
    "hubble_deep_field",
    "immunohistochemistry",
    "colorwheel",
)
GREY_PHOTOS = ("camera", "brick", "grass", "gravel", "moon", "coins", "clock", "page")
TEXTURES = 3  # synthetic colour textures per film, from the seed
CANVAS_SCALE = 2.0  # a place is twice the picture size: room for positions and camera moves
DISSOLVE_FRAMES = (8, 24, 48)
GRAIN_PATTERNS = 8
LETTERBOX_ASPECT = 2.39
X264_THREADS = 2  # x264's output depends on its thread count: pinned for determinism


@dataclass(frozen=True)
class StructureSpec:
    """One test film. ``fps`` is a fraction string ("24", "30000/1001")."""

    name: str
    seed: int
    seconds: float = 45.0
    width: int = 1920
    height: int = 1080
    fps: str = "24"
    letterbox: bool = False  # 2.39:1 picture with black bars above and below
    grain: float = 3.0  # standard deviation of the luminance grain, in 8-bit levels
    greyscale_share: float = 0.3  # chance that a colour place is filmed in greyscale
    crf: int = 20
    preset: str = "veryfast"

    @property
    def rate(self) -> Fraction:
        return Fraction(self.fps)

    @property
    def stem(self) -> str:
        return f"{self.name}-v{GENERATOR_VERSION}-seed{self.seed}"

    def picture(self) -> tuple[int, int, int]:
        """(width, height, top) of the active picture inside the frame."""
        if not self.letterbox:
            return self.width, self.height, 0
        height = int(round(self.width / LETTERBOX_ASPECT / 2)) * 2
        return self.width, height, (self.height - height) // 2


SPECS = [
    StructureSpec("photo-1080p24", seed=11, seconds=44, greyscale_share=0.2, grain=2.0),
    StructureSpec(
        "letterbox-720p24",
        seed=22,
        seconds=52,
        width=1280,
        height=720,
        letterbox=True,
        grain=5.0,
        greyscale_share=0.45,
    ),
    StructureSpec(
        "grey-540p2997",
        seed=33,
        seconds=42,
        width=960,
        height=540,
        fps="30000/1001",
        greyscale_share=0.6,
        grain=3.0,
    ),
    StructureSpec(
        "pal-576p25",
        seed=44,
        seconds=48,
        width=1024,
        height=576,
        fps="25",
        letterbox=True,
        grain=4.0,
        greyscale_share=0.35,
    ),
]


def length_suffix(seconds: float, default: float) -> str:
    """The name's mark of a film longer or shorter than its kind's default ("" or "-60s")."""
    return "" if seconds == default else f"-{seconds:g}s"


def at_rate(spec: StructureSpec, fps: str) -> StructureSpec:
    """The same film planned at another frame rate ("50", "60000/1001"), named apart from it.

    Camera moves, whip pans and fades are timed in seconds; dissolves, flashes and a lamp's
    rise in frames, as at the spec's own rate: at 50 or 60 fps each step between frames is
    smaller and a dissolve of 8-48 frames is shorter in time.
    """
    tag = f"{float(Fraction(fps)):.3f}".rstrip("0").rstrip(".")
    return replace(spec, name=f"{spec.name}-{tag}fps", fps=fps)


def small_spec(seed: int, seconds: float = 30.0) -> StructureSpec:
    """A small, quick film (320x180, 24 fps) with every kind of event, for tests.

    Every gradual kind enters a scene once before scenes change at hard cuts too, so films
    over about 40 s also hold scenes that change at a hard cut.
    """
    return StructureSpec(
        f"small-{seed}{length_suffix(seconds, 30.0)}",
        seed=seed,
        seconds=seconds,
        width=320,
        height=180,
        grain=3.0,
        greyscale_share=0.4,
        preset="ultrafast",
    )


# --- places -----------------------------------------------------------------------------------


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crops an RGB image to the aspect width:height and resizes it to that size."""
    h, w = image.shape[:2]
    if w / h > width / height:
        crop = int(h * width / height)
        image = image[:, (w - crop) // 2 : (w - crop) // 2 + crop]
    else:
        crop = int(w * height / width)
        image = image[(h - crop) // 2 : (h - crop) // 2 + crop]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)


def _texture(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A synthetic colour place: blurred colour noise over a tinted gradient, RGB uint8."""
    noise = rng.normal(0, 1, (size // 8, size // 8, 3)).astype(np.float32)
    noise = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(40, 215, 3).astype(np.float32)
    tilt = rng.uniform(-60, 60, 3).astype(np.float32)
    image = base + tilt * (xx + yy)[..., None] / 2 + 35 * noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _place_image(source: str, rng: np.random.Generator) -> np.ndarray:
    from skimage import data as skdata

    if source.startswith("texture"):
        return _texture(rng)
    image = getattr(skdata, source)()
    if image.ndim == 2:
        image = np.dstack([image] * 3)
    return image[..., :3].astype(np.uint8)


def _canvas(place: dict, spec: StructureSpec) -> np.ndarray:
    width, height, _ = spec.picture()
    rng = np.random.default_rng([spec.seed, place["index"]])
    image = _fit(
        _place_image(place["source"], rng), int(width * CANVAS_SCALE), int(height * CANVAS_SCALE)
    )
    if place["greyscale"]:
        image = np.dstack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)] * 3)
    return image


# --- the plan ---------------------------------------------------------------------------------


def _positions(rng: np.random.Generator, count: int) -> list[dict]:
    """Camera positions of one place: distinct framings (centre, zoom as canvas fractions)."""
    positions: list[dict] = []
    while len(positions) < count:
        zoom = float(rng.uniform(0.35, 0.65))
        centre = rng.uniform(zoom / 2, 1 - zoom / 2, 2)
        if all(np.abs(centre - p["centre"]).max() > 0.2 for p in positions):
            positions.append({"centre": centre, "zoom": zoom})
    return positions


def _scene_plan(rng, index: int, source: str, spec: StructureSpec, fps: float) -> dict:
    dialogue = bool(rng.random() < 0.35)
    greyscale = source in GREY_PHOTOS or bool(rng.random() < spec.greyscale_share)
    positions = _positions(rng, 2 if dialogue else int(rng.integers(2, 4)))
    if dialogue:
        order = [0, 1, 0, 1, 0]
        lengths = rng.uniform(1.2, 2.6, len(order))
    else:
        count = int(rng.integers(2, 4))
        order = [int(i) % len(positions) for i in range(count)]
        lengths = np.clip(rng.lognormal(np.log(2.6), 0.4, count), 1.5, 6.0)
    shots = []
    for position, seconds in zip(order, lengths):
        shots.append(
            {
                "position": position,
                "frames": int(round(seconds * fps)),
                "pan": rng.uniform(-0.0015, 0.0015, 2) * 24 / fps,
                "zoom_rate": float(rng.uniform(-0.002, 0.002) * 24 / fps),
                "events": [],
            }
        )
    place = {"index": index, "source": source, "greyscale": greyscale}
    return {"place": place, "positions": positions, "shots": shots, "dialogue": dialogue}


def _transition_deck(rng: np.random.Generator, count: int) -> list[dict]:
    """Kinds of the scene-to-scene transitions: every gradual kind once, then a random mix."""
    deck = [{"kind": "dissolve", "frames": n} for n in DISSOLVE_FRAMES] + [{"kind": "fade"}]
    while len(deck) < count:
        r = rng.random()
        if r < 0.5:
            deck.append({"kind": "hard", "frames": 0})
        elif r < 0.8:
            deck.append({"kind": "dissolve", "frames": int(rng.choice(DISSOLVE_FRAMES))})
        else:
            deck.append({"kind": "fade"})
    order = rng.permutation(len(deck))
    return [deck[i] for i in order][:count]


def _fade_frames(rng: np.random.Generator, fps: float) -> dict:
    ramp = int(round(rng.uniform(0.4, 0.8) * fps))
    hold = int(rng.choice([0, round(0.25 * fps)]))
    return {"kind": "fade", "ramp": ramp, "hold": hold, "frames": 2 * ramp + hold}


def plan_film(spec: StructureSpec) -> dict:
    """The whole film as data: scenes, shots with frame ranges, transitions and events."""
    rng = np.random.default_rng(spec.seed)
    fps = float(spec.rate)
    pool = [*COLOUR_PHOTOS, *GREY_PHOTOS, *(f"texture{i}" for i in range(TEXTURES))]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    scenes, total = [], 0.0
    while total < spec.seconds - 4.0 and len(scenes) < len(pool):
        scene = _scene_plan(rng, len(scenes), pool[len(scenes)], spec, fps)
        scenes.append(scene)
        total += sum(s["frames"] for s in scene["shots"]) / fps
    deck = _transition_deck(rng, len(scenes) - 1)
    shots = join_scenes(scenes, deck, rng, fps)
    _place_events(shots, scenes, rng, fps)
    return {"scenes": scenes, "shots": shots, "frames": shots[-1]["end"]}


def join_scenes(scenes: list[dict], deck: list[dict], rng, fps: float) -> list[dict]:
    """The film's shots in order, each scene entered by the next transition of ``deck``,
    the shots inside a scene joined by hard cuts, laid out in frames (see ``_lay_out``)."""
    shots: list[dict] = []
    for k, scene in enumerate(scenes):
        for j, shot in enumerate(scene["shots"]):
            shot.update(scene=k, index=len(shots))
            if j == 0 and k > 0:
                entry = deck[k - 1]
                shot["enter"] = _fade_frames(rng, fps) if entry["kind"] == "fade" else entry
            elif shots:
                shot["enter"] = {"kind": "hard", "frames": 0}
            shots.append(shot)
    _lay_out(shots, fps)
    return shots


def _lay_out(shots: list[dict], fps: float) -> None:
    """Frame ranges [start, end): each shot keeps >= 1 s of clean frames between transitions."""
    halves = [s.get("enter", {}).get("frames", 0) for s in shots] + [0]
    start = 0
    for i, shot in enumerate(shots):
        clean = int(round(1.0 * fps)) + (halves[i] + 1) // 2 + (halves[i + 1] + 1) // 2
        shot["frames"] = max(shot["frames"], clean)
        shot["start"], shot["end"] = start, start + shot["frames"]
        start = shot["end"]


def _event_window(shot: dict, shots: list[dict], fps: float) -> tuple[int, int]:
    """Local frames where an event may start: >= 1 s from the span of any transition."""
    after = shots[shot["index"] + 1] if shot["index"] + 1 < len(shots) else None
    lead = (shot.get("enter", {}).get("frames", 0) + 1) // 2 + int(fps)
    tail = ((after["enter"]["frames"] + 1) // 2 if after else 0) + int(fps)
    return lead, shot["frames"] - tail


def _place_events(shots: list[dict], scenes: list[dict], rng, fps: float) -> None:
    """Two flashes, a lamp and one or two whip pans, in distinct shots where they fit."""
    kinds = ["flash", "lamp", "whip_pan", "flash"] + (["whip_pan"] if len(shots) > 14 else [])
    candidates = [shots[i] for i in rng.permutation(len(shots))]
    for kind in kinds:
        length = {
            "flash": int(rng.integers(1, 4)),
            "lamp": 2,
            "whip_pan": int(round(rng.uniform(0.25, 0.4) * fps)),
        }[kind]
        for shot in candidates:
            lo, hi = _event_window(shot, shots, fps)
            dialogue = scenes[shot["scene"]]["dialogue"]
            if shot["events"] or hi - lo < length + 2 or (kind == "whip_pan" and dialogue):
                continue
            at = int(rng.integers(lo, hi - length))
            event = {"kind": kind, "at": at, "length": length}
            if kind == "flash":
                event["white"] = float(rng.uniform(0.6, 0.9))
            elif kind == "lamp":
                event["dim"] = float(rng.uniform(0.45, 0.65))
            else:
                event["swing"] = float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.3))
            shot["events"].append(event)
            break


# --- rendering --------------------------------------------------------------------------------


def motion_blur(frame: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Blurs along the step (pixels, (dx, dy)) with a line kernel as long as the step."""
    length = int(np.hypot(*step))
    if length < 3:
        return frame
    kernel = np.zeros((length, length), np.float32)
    direction = step / np.hypot(*step)
    for t in np.linspace(-0.5, 0.5, 2 * length):
        x, y = (length - 1) / 2 + t * (length - 1) * direction
        kernel[int(round(y)), int(round(x))] = 1.0
    return cv2.filter2D(frame, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _whip_offset(event: dict, k: int) -> float:
    """Horizontal camera offset (canvas fraction) k frames into the shot: a smooth swing."""
    t = np.clip((k - event["at"] + 1) / (event["length"] + 1), 0.0, 1.0)
    return float(event["swing"] * (1 - np.cos(np.pi * t)) / 2)


def camera_view(canvas: np.ndarray, centre, zoom: float, size) -> tuple[np.ndarray, float]:
    """What a camera at ``centre`` (canvas fractions) sees of ``zoom`` of the canvas's width.

    Returns the (height, width, 3) picture at ``size`` = (width, height) and its scale
    (picture pixels per canvas pixel).
    """
    width, height = size
    ch, cw = canvas.shape[:2]
    scale = width / (cw * zoom)
    matrix = np.float32(
        [
            [scale, 0, width / 2 - scale * centre[0] * cw],
            [0, scale, height / 2 - scale * centre[1] * ch],
        ]
    )
    frame = cv2.warpAffine(
        canvas, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    return frame, scale


def _render_shot(canvas: np.ndarray, scene: dict, shot: dict, k: int, size) -> np.ndarray:
    """Frame k (may run past either end during a dissolve) of a shot, RGB uint8 picture."""
    position = scene["positions"][shot["position"]]
    zoom = float(np.clip(position["zoom"] * (1 + shot["zoom_rate"]) ** k, 0.25, 0.9))
    centre = position["centre"] + shot["pan"] * k
    whips = [e for e in shot["events"] if e["kind"] == "whip_pan"]
    for event in whips:
        centre = centre + (_whip_offset(event, k), 0.0)
    centre = np.clip(centre, zoom / 2, 1 - zoom / 2)
    frame, scale = camera_view(canvas, centre, zoom, size)
    cw = canvas.shape[1]
    for event in whips:  # motion blur as long as the swing's step at this frame
        step = abs(_whip_offset(event, k + 1) - _whip_offset(event, k)) * cw * scale
        if step > 2:
            frame = cv2.blur(frame, (int(step), 1))
    return _light(frame, shot, k)


def _light(frame: np.ndarray, shot: dict, k: int) -> np.ndarray:
    """Applies the shot's lamp (dim until switched on, 3-frame rise) and flashes at frame k."""
    for event in shot["events"]:
        j = k - event["at"]  # frames since the event began
        if event["kind"] == "lamp" and j < event["length"]:
            rise = max(0, j + 1) / (event["length"] + 1)
            frame = cv2.convertScaleAbs(frame, alpha=event["dim"] + (1 - event["dim"]) * rise)
        elif event["kind"] == "flash" and 0 <= j < event["length"]:
            white = event["white"]
            frame = cv2.addWeighted(frame, 1 - white, frame, 0, 255 * white)
    return frame


def linear(t: float) -> float:
    """A dissolve's mixing weight at its fraction ``t`` of the way through: a straight line."""
    return t


def _transition_frame(
    shots, scenes, canvases, n: int, size, render=None, mix_curve=linear
) -> np.ndarray | None:
    """Frame n if it lies inside a dissolve or fade, else None.

    ``render(canvas, scene, shot, k, size)`` draws frame k of a shot (default: this module's
    camera); ``mix_curve`` maps the dissolve's progress in (0, 1) to the incoming shot's weight.
    """
    render = render or _render_shot
    for i, shot in enumerate(shots[1:], start=1):
        enter = shot["enter"]
        first = shot["start"] - enter["frames"] // 2
        if not enter["frames"] or not first <= n < first + enter["frames"]:
            continue
        prev = shots[i - 1]
        out_frame = render(
            canvases[prev["scene"]], scenes[prev["scene"]], prev, n - prev["start"], size
        )
        in_frame = render(
            canvases[shot["scene"]], scenes[shot["scene"]], shot, n - shot["start"], size
        )
        j = n - first
        if enter["kind"] == "dissolve":
            alpha = mix_curve((j + 1) / (enter["frames"] + 1))
            return cv2.addWeighted(out_frame, 1 - alpha, in_frame, alpha, 0)
        ramp, hold = enter["ramp"], enter["hold"]
        if j < ramp:  # fade-out: its last frame is fully black
            return cv2.convertScaleAbs(out_frame, alpha=1 - (j + 1) / ramp)
        if j < ramp + hold:
            return np.zeros_like(out_frame)
        return cv2.convertScaleAbs(in_frame, alpha=(j - ramp - hold + 1) / (ramp + 1))
    return None


def _mix(shots, scenes, canvases, n: int, size) -> np.ndarray:
    """Frame n of the film's picture: one shot, or two mixed inside a transition."""
    mixed = _transition_frame(shots, scenes, canvases, n, size)
    if mixed is not None:
        return mixed
    for shot in shots:
        if shot["start"] <= n < shot["end"]:
            scene = scenes[shot["scene"]]
            return _render_shot(canvases[shot["scene"]], scene, shot, n - shot["start"], size)
    raise IndexError(n)


def _grain(spec: StructureSpec, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Luminance grain patterns as (add, subtract) uint8 pairs, so applying them saturates."""
    patterns = []
    for _ in range(GRAIN_PATTERNS):
        noise = rng.normal(0, spec.grain, (spec.height, spec.width, 1)).astype(np.float32)
        noise = np.repeat(noise, 3, axis=2)
        patterns.append(
            (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))
        )
    return patterns


def _frames(spec: StructureSpec, plan: dict):
    """Yields every RGB frame of the film, letterboxed and grained."""
    width, height, top = spec.picture()
    canvases = [_canvas(scene["place"], spec) for scene in plan["scenes"]]
    rng = np.random.default_rng([spec.seed, 999])
    grain = _grain(spec, rng)
    full = np.zeros((spec.height, spec.width, 3), np.uint8)
    for n in range(plan["frames"]):
        picture = _mix(plan["shots"], plan["scenes"], canvases, n, (width, height))
        full[top : top + height] = picture
        add, sub = grain[int(rng.integers(GRAIN_PATTERNS))]
        frame = cv2.subtract(cv2.add(full, add), sub)
        if top:  # the bars stay black: grain lives on the film, not in the bars
            frame[:top] = 0
            frame[top + height :] = 0
        yield frame


def encode(spec: StructureSpec, frames, path: Path) -> None:
    """Encodes RGB frames (an iterable of (H, W, 3) uint8) to an H.264 MP4, deterministically."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=spec.rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.time_base = 1 / spec.rate
        stream.options = {"crf": str(spec.crf), "preset": spec.preset, "threads": str(X264_THREADS)}
        for n, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = n, 1 / spec.rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# --- truth ------------------------------------------------------------------------------------


def _seconds(frame: int, rate: Fraction) -> float:
    return round(float(frame / rate), 6)


def truth_of(spec: StructureSpec, plan: dict) -> dict:
    """The truth JSON for a planned film (see the module docstring for the conventions)."""
    rate, shots = spec.rate, plan["shots"]
    rows, transitions, events = [], [], []
    for i, shot in enumerate(shots):
        end = shots[i + 1]["start"] if i + 1 < len(shots) else plan["frames"]
        scene = plan["scenes"][shot["scene"]]
        rows.append(
            {
                "index": i,
                "scene": shot["scene"],
                "start_frame": shot["start"],
                "end_frame": end,
                "start_s": _seconds(shot["start"], rate),
                "end_s": _seconds(end, rate),
                "position": shot["position"],
                "source": scene["place"]["source"],
                "greyscale": scene["place"]["greyscale"],
            }
        )
        if i > 0:
            enter = shot["enter"]
            first = shot["start"] - enter["frames"] // 2
            last = max(first + enter["frames"] - 1, shot["start"])
            transitions.append(
                {
                    "kind": enter["kind"],
                    "frame": shot["start"],
                    "time_s": _seconds(shot["start"], rate),
                    "length_frames": enter["frames"],
                    "span_frames": [first, last],
                    "span_s": [_seconds(first, rate), _seconds(last, rate)],
                    "between_scenes": shot["scene"] != shots[i - 1]["scene"],
                }
            )
        for event in shot["events"]:
            first = shot["start"] + event["at"]
            last = first + event["length"] - 1
            events.append(
                {
                    "kind": event["kind"],
                    "shot": i,
                    "frames": [first, last],
                    "times_s": [_seconds(first, rate), _seconds(last, rate)],
                }
            )
    scenes = [
        {
            "index": k,
            "shots": [r["index"] for r in rows if r["scene"] == k],
            "source": s["place"]["source"],
            "greyscale": s["place"]["greyscale"],
            "dialogue": s["dialogue"],
        }
        for k, s in enumerate(plan["scenes"])
    ]
    for scene in scenes:
        scene["start_s"] = rows[scene["shots"][0]]["start_s"]
        scene["end_s"] = rows[scene["shots"][-1]]["end_s"]
    width, height, top = spec.picture()
    return {
        "spec": asdict(spec),
        "generator_version": GENERATOR_VERSION,
        "fps": f"{rate.numerator}/{rate.denominator}",
        "width": spec.width,
        "height": spec.height,
        "frame_count": plan["frames"],
        "duration_s": _seconds(plan["frames"], rate),
        "picture": {"x": 0, "y": top, "width": width, "height": height},
        "shots": rows,
        "transitions": transitions,
        "scenes": scenes,
        "events": events,
    }


def make_film(spec: StructureSpec, path: str | Path) -> dict:
    """Renders and encodes the film to ``path`` (MP4, H.264), writes ``<stem>.truth.json``.

    Both files are written under temporary names and renamed into place. Returns the truth.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan_film(spec)
    partial = path.with_name(f".{path.stem}.partial.mp4")
    encode(spec, _frames(spec, plan), partial)
    truth = truth_of(spec, plan)
    truth["video"] = path.name
    truth_path = path.with_suffix(".truth.json")
    partial_truth = truth_path.with_name(f".{truth_path.name}.partial")
    partial_truth.write_text(json.dumps(truth, indent=1) + "\n")
    partial.replace(path)
    partial_truth.replace(truth_path)
    return truth


def film(spec: StructureSpec, out_dir: Path = OUT_DIR) -> tuple[Path, dict]:
    """The film's (video path, truth), made once and cached in ``out_dir``."""
    path = Path(out_dir) / f"{spec.stem}.mp4"
    truth_path = path.with_suffix(".truth.json")
    if path.exists() and truth_path.exists():
        return path, json.loads(truth_path.read_text())
    return path, make_film(spec, path)


def main(argv: list[str]) -> None:
    wanted = set(argv)
    for spec in SPECS:
        if wanted and spec.name not in wanted:
            continue
        path, truth = film(spec)
        kinds = [t["kind"] for t in truth["transitions"]]
        print(
            f"{path.name}: {truth['frame_count']} frames, {len(truth['shots'])} shots, "
            f"{len(truth['scenes'])} scenes, transitions "
            f"{ {k: kinds.count(k) for k in sorted(set(kinds))} }, "
            f"events {[e['kind'] for e in truth['events']]}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
