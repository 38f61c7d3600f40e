"""The benchmark's test film: H.264 1080p with real hard cuts, generated once and cached.

Shots are slow camera moves (pan + zoom) over CC0 photos shipped with scikit-image
(``skimage.data``) or over synthetic colour gradients, with a moving disc and a little film
grain so that every frame differs, as in a real film. Consecutive shots always change source
image, so every cut is a clean hard cut. The true cut frames are written next to the video as
``<stem>.truth.json``. A longer copy for the memory check is made by remuxing the same packets
end to end (no re-encoding), so its cuts repeat with the film.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "retina",
    "hubble_deep_field",
    "immunohistochemistry",
    "colorwheel",
)
GRADIENTS = 4  # synthetic sources added to the photos
GRAIN_FRAMES = 7  # precomputed grain patterns, cycled
MEAN_SHOT_S = 4.0  # typical of feature films (Cutting et al.: ~4-5 s)


@dataclass(frozen=True)
class FilmSpec:
    """What the film looks like and how it is encoded; the cache key is derived from it."""

    seconds: float = 120.0
    fps: int = 24
    width: int = 1920
    height: int = 1080
    crf: int = 21
    preset: str = "veryfast"  # CABAC, B-frames, deblocking: decodes like a real encode
    seed: int = 0

    @property
    def stem(self) -> str:
        return (
            f"film-{self.seconds:g}s-{self.width}x{self.height}-{self.fps}fps"
            f"-crf{self.crf}-{self.preset}-seed{self.seed}"
        )


def _sources(width: int, height: int, rng: np.random.Generator) -> list[np.ndarray]:
    """RGB canvases 1.4x the frame size to pan and zoom over."""
    from skimage import data as skdata

    size = (int(width * 1.4), int(height * 1.4))
    canvases = []
    for name in PHOTOS:
        image = getattr(skdata, name)()[..., :3]
        canvases.append(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    for _ in range(GRADIENTS):
        a, b = rng.uniform(0, 2 * np.pi, 2)
        channels = [
            127 + 120 * np.sin(xx / rng.uniform(150, 600) + yy / rng.uniform(150, 600) + p)
            for p in (a, b, a + b)
        ]
        canvases.append(np.clip(np.dstack(channels), 0, 255).astype(np.uint8))
    return canvases


def _shot_plan(spec: FilmSpec, count: int, rng: np.random.Generator) -> list[dict]:
    """Shot lengths (frames) and camera moves; consecutive shots use different sources."""
    total = round(spec.seconds * spec.fps)
    shots, start, source = [], 0, -1
    while start < total:
        length = int(np.clip(rng.lognormal(np.log(MEAN_SHOT_S), 0.6), 1.0, 12.0) * spec.fps)
        length = min(length, total - start)
        if total - start - length < spec.fps:  # no sliver of a shot at the end
            length = total - start
        source = (source + int(rng.integers(1, count))) % count
        shots.append(
            {
                "start": start,
                "length": length,
                "source": source,
                "centre": rng.uniform(0.3, 0.7, 2),
                "pan": rng.uniform(-0.004, 0.004, 2),
                "zoom": rng.uniform(0.75, 0.95),
                "zoom_rate": rng.uniform(-0.002, 0.002),
                "disc": rng.uniform(0, 1, 2),
                "disc_v": rng.uniform(-0.01, 0.01, 2),
                "disc_colour": tuple(int(c) for c in rng.integers(0, 256, 3)),
            }
        )
        start += length
    return shots


def _render(canvas: np.ndarray, shot: dict, k: int, spec: FilmSpec) -> np.ndarray:
    """Frame ``k`` of a shot: an affine crop of the canvas plus the moving disc."""
    ch, cw = canvas.shape[:2]
    zoom = shot["zoom"] * (1 + shot["zoom_rate"]) ** k  # fraction of the canvas shown
    scale = spec.width / (cw * zoom)
    cx, cy = np.clip(shot["centre"] + shot["pan"] * k, 0.35, 0.65) * (cw, ch)
    matrix = np.float32(
        [[scale, 0, spec.width / 2 - scale * cx], [0, scale, spec.height / 2 - scale * cy]]
    )
    frame = cv2.warpAffine(
        canvas,
        matrix,
        (spec.width, spec.height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    pos = (shot["disc"] + shot["disc_v"] * k) % 1.0
    centre = (int(pos[0] * spec.width), int(pos[1] * spec.height))
    cv2.circle(frame, centre, spec.height // 12, shot["disc_colour"], -1, cv2.LINE_AA)
    return frame


def make_film(spec: FilmSpec, out_dir: Path, log=print) -> tuple[Path, Path]:
    """Encodes the film unless it is cached; returns (video path, truth json path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video, truth = out_dir / f"{spec.stem}.mp4", out_dir / f"{spec.stem}.truth.json"
    if video.exists() and truth.exists():
        return video, truth
    rng = np.random.default_rng(spec.seed)
    canvases = _sources(spec.width, spec.height, rng)
    shots = _shot_plan(spec, len(canvases), rng)
    grain = [
        rng.integers(0, 9, (spec.height, spec.width, 1), dtype=np.uint8).repeat(3, axis=2)
        for _ in range(GRAIN_FRAMES)
    ]
    log(f"encoding {video.name}: {len(shots)} shots (cached for later runs) ...")
    tmp = video.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"crf": str(spec.crf), "preset": spec.preset}
        n = 0
        for shot in shots:
            for k in range(shot["length"]):
                rgb = _render(canvases[shot["source"]], shot, k, spec)
                rgb = cv2.subtract(cv2.add(rgb, grain[n % GRAIN_FRAMES]), 4)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = n, Fraction(1, spec.fps)
                container.mux(stream.encode(frame))
                n += 1
        container.mux(stream.encode())
    tmp.replace(video)
    cuts = [s["start"] for s in shots[1:]]
    truth.write_text(
        json.dumps(
            {
                "spec": asdict(spec),
                "frames": n,
                "fps": spec.fps,
                "cut_frames": cuts,
                "cut_times_s": [c / spec.fps for c in cuts],
            },
            indent=1,
        )
    )
    return video, truth


def repeat_film(video: Path, times: int, out_dir: Path) -> Path:
    """The same film ``times`` times end to end, by remuxing packets with shifted timestamps."""
    target = out_dir / f"{video.stem}-x{times}.mp4"
    if target.exists():
        return target
    with av.open(str(video)) as source:
        packets = [p for p in source.demux(source.streams.video[0]) if p.dts is not None]
        span = max(p.pts + (p.duration or 0) for p in packets) - min(p.pts for p in packets)
    tmp = target.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as sink:
        for i in range(times):  # muxing consumes packets: demux afresh for each copy
            with av.open(str(video)) as source:
                in_stream = source.streams.video[0]
                if i == 0:
                    out_stream = sink.add_stream_from_template(in_stream)
                for p in source.demux(in_stream):
                    if p.dts is None:
                        continue
                    p.pts, p.dts, p.stream = p.pts + i * span, p.dts + i * span, out_stream
                    sink.mux(p)
    tmp.replace(target)
    return target
