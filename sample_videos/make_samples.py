"""Build the bundled sample videos and their ground-truth sidecars.

Run from the repository root:

    python sample_videos/make_samples.py
    python sample_videos/make_samples.py --sidecars-only   # truth only, videos kept

Every video is a slideshow of public-domain / CC0 photos that scikit-image ships in its wheel
(``skimage.data``). One photo is one *scene*; each scene is 2-4 *shots*, and a shot is a slow,
sub-pixel-smooth "camera move" (pan or zoom) over that photo. Consecutive shots of a scene show
clearly different framings, so the change between them is a clean hard cut, while the colour
palette stays the photo's own. Scenes change photo by a hard cut or by a fade through black.

The output is deterministic: the whole plan is written out below (there is no randomness at all),
and x264 runs with a fixed thread count. After writing each file the script decodes it again with
PyAV, checks frame count, size and every shot's start time, and writes ``<stem>.truth.json`` with
the presentation times read back from the file.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data as skdata

OUT_DIR = Path(__file__).resolve().parent

# Encoder settings (H.264 High profile, 8-bit 4:2:0, BT.709 limited range).
CODEC = "libx264"
PIX_FMT = "yuv420p"
CRF = 26
PRESET = "medium"
X264_THREADS = 2  # fixed: x264 output depends on the thread count, so pin it for determinism

# Fade through black: FADE_S of fade-out ending on a fully black frame, BLACK_HOLD_S more fully
# black frames, then FADE_S of fade-in whose first frame already shows the new scene (dimly).
FADE_S = 0.5
BLACK_HOLD_S = 0.25
FADE_DEFINITION = (
    "A fade through black is a fade-out of round(0.5 s * fps) frames whose gains fall linearly "
    "to 0 (its last frame is fully black, RGB 0), then round(0.25 s * fps) more fully black "
    "frames, then a fade-in of round(0.5 s * fps) frames with gains k/n for k = 1..n (its first "
    "frame is already the new shot, dimmed; its last frame is at full brightness). The cut of a "
    "fade is its darkest moment, the middle of its fully black frames (the earlier of the two "
    "middle ones when they are even in number): the fade-out and the black frames before the "
    "cut belong to the outgoing shot, the rest of the black and the fade-in to the incoming one. "
    "fade_out_start_frame is the first dimmed frame of the outgoing shot, black_frames the "
    "[first, last] fully black frames, fade_in_end_frame the first frame back at full brightness."
)

# Origin and licence of each photo, quoted from the docstrings of the skimage.data functions
# (scikit-image 0.26; skimage/data/README.txt itself says nothing about licences).
SOURCES = {
    "astronaut": "NASA Great Images database, https://flic.kr/p/r9qvLn. "
    "'No known copyright restrictions, released into the public domain.'",
    "coffee": "Pikolo Espresso Bar. "
    "'No copyright restrictions.  CC0 by the photographer (Rachel Michetti).'",
    "chelsea": "Stefan van der Walt. "
    "'No copyright restrictions.  CC0 by the photographer (Stefan van der Walt).'",
    "rocket": "SpaceX Photos, https://www.flickr.com/photos/spacexphotos/16511594820/. "
    "'The image was captured by SpaceX and released in the public domain'",
    "retina": "Wikimedia Commons, File:Fundus_photograph_of_normal_left_eye.jpg (Mikael "
    "Haggstrom). 'This file is made available under the Creative Commons CC0 1.0 Universal "
    "Public Domain Dedication.'",
}


@dataclass(frozen=True)
class Shot:
    """A camera move over the scene's photo.

    A framing is (cx, cy, size): the window centre as a fraction of the photo's width and height,
    and its size as a fraction of the largest window of the video's aspect ratio that fits in the
    photo (1.0 = widest possible view). The centre moves linearly and the size changes
    geometrically from `start` to `end`. `gain` is a brightness factor ramped linearly over the
    shot (1.0, 1.0 = unchanged).
    """

    seconds: float
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    gain: tuple[float, float] = (1.0, 1.0)
    note: str = ""


@dataclass(frozen=True)
class Scene:
    photo: str  # name of the skimage.data function
    shots: list[Shot]
    enter: str = "hard"  # how this scene begins: "hard" cut or "fade" through black


@dataclass(frozen=True)
class Video:
    name: str
    width: int
    height: int
    fps: Fraction
    scenes: list[Scene] = field(default_factory=list)


# fmt: off
VIDEOS = [
    Video("photos_1080p", 1920, 1080, Fraction(24, 1), [
        Scene("astronaut", [
            Shot(4.0, (0.50, 0.36, 1.00), (0.46, 0.30, 0.72)),
            Shot(3.5, (0.68, 0.74, 0.50), (0.36, 0.74, 0.50)),
            Shot(4.5, (0.42, 0.27, 0.42), (0.50, 0.42, 0.85), gain=(0.55, 1.0),
                 note="brightens slowly from 55% to 100%: not a cut"),
        ]),
        Scene("rocket", [
            Shot(3.5, (0.50, 0.50, 1.00), (0.50, 0.45, 0.70)),
            Shot(4.0, (0.30, 0.80, 0.42), (0.62, 0.80, 0.42)),
            Shot(3.0, (0.50, 0.32, 0.36), (0.50, 0.40, 0.50)),
        ]),
        Scene("coffee", [
            Shot(4.0, (0.50, 0.50, 1.00), (0.52, 0.42, 0.70)),
            Shot(3.0, (0.75, 0.68, 0.45), (0.75, 0.52, 0.45)),
            Shot(4.0, (0.22, 0.25, 0.42), (0.30, 0.30, 0.60)),
        ]),
        Scene("chelsea", [
            Shot(3.5, (0.50, 0.50, 1.00), (0.50, 0.60, 0.80)),
            Shot(3.0, (0.36, 0.39, 0.22), (0.42, 0.39, 0.22)),
        ], enter="fade"),
    ]),
    Video("photos_720p", 1280, 720, Fraction(30000, 1001), [
        Scene("chelsea", [
            Shot(3.5, (0.50, 0.50, 1.00), (0.50, 0.60, 0.80)),
            Shot(3.0, (0.40, 0.39, 0.25), (0.36, 0.39, 0.25)),
            Shot(3.5, (0.62, 0.78, 0.45), (0.62, 0.70, 0.58)),
        ]),
        Scene("rocket", [
            Shot(3.5, (0.50, 0.62, 0.60), (0.50, 0.45, 0.60)),
            Shot(3.0, (0.26, 0.80, 0.45), (0.74, 0.80, 0.45),
                 note="fast pan (strong motion): not a cut"),
        ]),
        Scene("retina", [
            Shot(4.0, (0.20, 0.44, 0.35), (0.27, 0.46, 0.35)),
            Shot(3.5, (0.78, 0.80, 0.42), (0.60, 0.84, 0.42)),
        ], enter="fade"),
        Scene("astronaut", [
            Shot(3.0, (0.40, 0.28, 0.50), (0.44, 0.30, 0.40)),
            Shot(3.0, (0.72, 0.72, 0.45), (0.72, 0.60, 0.45)),
        ]),
    ]),
    Video("photos_360p_short", 640, 360, Fraction(25, 1), [
        Scene("coffee", [
            Shot(2.0, (0.50, 0.50, 1.00), (0.50, 0.46, 0.80)),
            Shot(2.0, (0.75, 0.66, 0.45), (0.70, 0.60, 0.45)),
        ]),
        Scene("rocket", [
            Shot(2.0, (0.50, 0.50, 1.00), (0.50, 0.48, 0.82)),
            Shot(2.5, (0.35, 0.80, 0.42), (0.50, 0.80, 0.42)),
        ]),
        Scene("chelsea", [
            Shot(2.0, (0.50, 0.50, 1.00), (0.50, 0.60, 0.80)),
            Shot(2.0, (0.40, 0.39, 0.25), (0.37, 0.39, 0.22)),
        ], enter="fade"),
    ]),
]
# fmt: on


def load_photo(name: str) -> np.ndarray:
    """The photo as an RGB uint8 array."""
    photo = getattr(skdata, name)()
    assert photo.ndim == 3 and photo.shape[2] == 3, name
    return photo


def make_canvas(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize the photo so that its widest window of the output's aspect is exactly width x height.

    Every window (size <= 1) is then at most output-sized on the canvas, so rendering only ever
    magnifies the canvas and bilinear interpolation stays smooth and alias-free.
    """
    ph, pw = photo.shape[:2]
    max_w = min(pw, ph * width / height)
    scale = width / max_w
    size = (round(pw * scale), round(ph * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(photo, size, interpolation=interp)


def window(canvas: np.ndarray, framing: tuple[float, float, float], width: int, height: int):
    """The window (x0, y0, w, h) in canvas pixels for a framing; asserts it lies inside."""
    ch, cw = canvas.shape[:2]
    cx, cy, size = framing
    max_w = min(cw, ch * width / height)
    w = size * max_w
    h = w * height / width
    x0, y0 = cx * cw - w / 2, cy * ch - h / 2
    eps = 1e-6
    assert 0 < size <= 1 and x0 >= -eps and y0 >= -eps, framing
    assert x0 + w <= cw + eps and y0 + h <= ch + eps, framing
    return x0, y0, w, h


def render(canvas: np.ndarray, x0: float, y0: float, w: float, width: int, height: int):
    """Sample the window at sub-pixel precision into a width x height RGB frame."""
    s = w / width  # canvas pixels per output pixel (<= 1)
    # Output pixel centre u + 0.5 maps to canvas pixel centre x0 + (u + 0.5) * s - 0.5.
    matrix = np.array([[s, 0, x0 + 0.5 * s - 0.5], [0, s, y0 + 0.5 * s - 0.5]])
    return cv2.warpAffine(
        canvas,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )


def motion_label(video: Video, shot: Shot) -> str:
    """Describe the move: zoom-in/out if the size changes > 10 %, else the pan direction.

    Pan directions name the way the camera (the window) moves over the photo.
    """
    (x1, y1, s1), (x2, y2, s2) = shot.start, shot.end
    if s2 / s1 < 0.9:
        return "zoom-in"
    if s2 / s1 > 1.1:
        return "zoom-out"
    dx, dy = (x2 - x1), (y2 - y1)
    if abs(dx) >= abs(dy):
        return "pan-right" if dx > 0 else "pan-left"
    return "pan-down" if dy > 0 else "pan-up"


def frame_count(seconds: float, fps: Fraction) -> int:
    return round(Fraction(seconds) * fps)


def shot_frames(video: Video, canvas: np.ndarray, shot: Shot, n: int):
    """Yield the n RGB frames of a shot (before any fade is applied)."""
    x1, y1, w1, _ = window(canvas, shot.start, video.width, video.height)
    x2, y2, w2, _ = window(canvas, shot.end, video.width, video.height)
    c1 = (x1 + w1 / 2, y1 + w1 * video.height / video.width / 2)
    c2 = (x2 + w2 / 2, y2 + w2 * video.height / video.width / 2)
    for i in range(n):
        t = i / (n - 1)
        w = w1 * (w2 / w1) ** t  # geometric: constant zoom speed
        cx = c1[0] + (c2[0] - c1[0]) * t
        cy = c1[1] + (c2[1] - c1[1]) * t
        h = w * video.height / video.width
        frame = render(canvas, cx - w / 2, cy - h / 2, w, video.width, video.height)
        gain = shot.gain[0] + (shot.gain[1] - shot.gain[0]) * t
        if gain != 1.0:
            frame = apply_gain(frame, gain)
        yield frame


def apply_gain(frame: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(np.rint(frame.astype(np.float32) * gain), 0, 255).astype(np.uint8)


def plan(video: Video):
    """Lay the shots out on the frame grid.

    Returns (shots, fade_n, hold_n): one dict per shot with its scene, frame count `n`,
    `start_frame`, whether it fades in or out, and, for a shot entered by a fade, the fade's frame
    numbers. A fade adds its black hold to the end of the outgoing shot (whose last frames fade
    out) and overlays its fade-in on the start of the incoming shot. `start_frame` and `n` lay
    out the rendering; `cut_frame` is where the truth puts the shot's cut (for a fade, the
    middle of its black: FADE_DEFINITION).
    """
    fade_n = frame_count(FADE_S, video.fps)
    hold_n = frame_count(BLACK_HOLD_S, video.fps)
    shots = []
    for scene_index, scene in enumerate(video.scenes):
        for k, shot in enumerate(scene.shots):
            fade_in = k == 0 and scene.enter == "fade"
            if fade_in:
                shots[-1]["fade_out"] = True
                shots[-1]["n"] += hold_n
            shots.append(
                {
                    "scene": scene_index,
                    "shot": shot,
                    "fade_in": fade_in,
                    "fade_out": False,
                    "n": frame_count(shot.seconds, video.fps),
                }
            )
    start = 0
    for s in shots:
        s["start_frame"] = s["cut_frame"] = start
        start += s["n"]
        if s["fade_in"]:
            fade_in = s["start_frame"]
            black = [fade_in - hold_n - 1, fade_in - 1]
            s["cut_frame"] = (black[0] + black[1]) // 2
            s["fade"] = {
                "fade_out_start_frame": fade_in - hold_n - fade_n,
                "black_frames": black,
                "fade_in_end_frame": fade_in + fade_n - 1,
            }
    return shots, fade_n, hold_n


def frames(video: Video, shots: list[dict], fade_n: int, hold_n: int):
    """Yield every RGB frame of the video in order."""
    canvases = {
        name: make_canvas(load_photo(name), video.width, video.height)
        for name in {scene.photo for scene in video.scenes}
    }
    for s in shots:
        canvas = canvases[video.scenes[s["scene"]].photo]
        for i, frame in enumerate(shot_frames(video, canvas, s["shot"], s["n"])):
            if s["fade_in"] and i < fade_n:
                frame = apply_gain(frame, (i + 1) / fade_n)
            if s["fade_out"]:
                first_dim = s["n"] - hold_n - fade_n
                if i >= s["n"] - hold_n:
                    frame = np.zeros_like(frame)
                elif i >= first_dim:
                    frame = apply_gain(frame, 1 - (i - first_dim + 1) / fade_n)
            yield frame


def encode(video: Video, path: Path, shots, fade_n, hold_n) -> int:
    """Encode the video to H.264 in MP4; returns the number of frames written."""
    n = 0
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(CODEC, rate=video.fps)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, PIX_FMT
        stream.codec_context.time_base = 1 / video.fps
        stream.codec_context.color_range = 1  # MPEG / limited
        stream.codec_context.colorspace = 1  # BT.709
        stream.codec_context.color_primaries = 1
        stream.codec_context.color_trc = 1
        stream.options = {"crf": str(CRF), "preset": PRESET, "threads": str(X264_THREADS)}
        for rgb in frames(video, shots, fade_n, hold_n):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame = frame.reformat(format=PIX_FMT, dst_colorspace="itu709")
            frame.pts, frame.time_base = n, 1 / video.fps
            container.mux(stream.encode(frame))
            n += 1
        container.mux(stream.encode(None))
    return n


def read_back(path: Path):
    """Decode the file; returns (width, height, [presentation time of each frame as Fraction])."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [frame.pts * frame.time_base for frame in container.decode(stream)]
        return stream.codec_context.width, stream.codec_context.height, times


def seconds(t: Fraction) -> float:
    return round(float(t), 6)


def truth(video: Video, path: Path, shots, times: list[Fraction]) -> dict:
    """The sidecar: shot start times are the presentation times read back from the file."""
    period = 1 / video.fps
    duration = times[-1] + period
    shot_rows, cut_rows = [], []
    for i, s in enumerate(shots):
        start = times[s["cut_frame"]]
        end_frame = shots[i + 1]["cut_frame"] if i + 1 < len(shots) else len(times)
        end = times[end_frame] if end_frame < len(times) else duration
        row = {
            "index": i,
            "start_frame": s["cut_frame"],
            "end_frame": end_frame,
            "start_s": seconds(start),
            "end_s": seconds(end),
            "scene": s["scene"],
            "motion": motion_label(video, s["shot"]),
        }
        if s["shot"].note:
            row["note"] = s["shot"].note
        shot_rows.append(row)
        if i > 0:
            cut = {
                "frame": s["cut_frame"],
                "time_s": seconds(start),
                "kind": "fade" if s["fade_in"] else "hard",
                "between_scenes": s["scene"] != shots[i - 1]["scene"],
            }
            if s["fade_in"]:
                cut.update(s["fade"])
            cut_rows.append(cut)
    scene_rows = []
    for k, scene in enumerate(video.scenes):
        members = [r["index"] for r in shot_rows if r["scene"] == k]
        scene_rows.append(
            {
                "index": k,
                "shots": members,
                "source": scene.photo,
                "start_s": shot_rows[members[0]]["start_s"],
                "end_s": shot_rows[members[-1]]["end_s"],
                "enter": scene.enter,
            }
        )
    fps = video.fps
    return {
        "video": path.name,
        "fps": f"{fps.numerator}/{fps.denominator}",
        "width": video.width,
        "height": video.height,
        "frame_count": len(times),
        "duration_s": seconds(duration),
        "codec": f"h264 ({CODEC}, {PIX_FMT}, crf {CRF}, preset {PRESET})",
        "shots": shot_rows,
        "cuts": cut_rows,
        "scenes": scene_rows,
        "fade_definition": FADE_DEFINITION,
        "times_note": "start_s/time_s are presentation times (pts * time_base) read back from "
        "the file with PyAV; a shot ends where the next one starts, the last at "
        "duration_s = last frame's time + 1/fps.",
        "sources": {scene.photo: SOURCES[scene.photo] for scene in video.scenes},
    }


def check(video: Video, shots, n_written: int, width: int, height: int, times: list[Fraction]):
    expected = sum(s["n"] for s in shots)
    assert n_written == expected, (n_written, expected)
    assert len(times) == expected, (len(times), expected)
    assert (width, height) == (video.width, video.height), (width, height)
    assert times == sorted(times), "presentation times are not increasing"
    half = 1 / (2 * video.fps)
    for s in shots:
        computed = s["start_frame"] / video.fps
        got = times[s["start_frame"]]
        assert abs(got - computed) <= half, (video.name, s["start_frame"], got, computed)
    for s in shots:
        assert 2 <= s["n"] / video.fps <= 6, ("shot length out of range", video.name, s)
    for scene in video.scenes:
        assert 2 <= len(scene.shots) <= 4, (video.name, scene.photo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sidecars-only",
        action="store_true",
        help="rewrite the truth sidecars from the videos already here, without encoding",
    )
    args = parser.parse_args()
    total = 0
    for video in VIDEOS:
        path = OUT_DIR / f"{video.name}.mp4"
        # Encode and check under a temporary name, then rename: a reader (a running test)
        # never sees a half-written video.
        partial = path if args.sidecars_only else path.with_name(f".{path.stem}.partial.mp4")
        shots, fade_n, hold_n = plan(video)
        n = None if args.sidecars_only else encode(video, partial, shots, fade_n, hold_n)
        width, height, times = read_back(partial)
        check(video, shots, len(times) if n is None else n, width, height, times)
        sidecar = truth(video, path, shots, times)
        sidecar_path = OUT_DIR / f"{video.name}.truth.json"
        partial_sidecar = sidecar_path.with_name(f".{sidecar_path.name}.partial")
        partial_sidecar.write_text(json.dumps(sidecar, indent=2) + "\n")
        os.replace(partial, path)
        os.replace(partial_sidecar, sidecar_path)
        size = path.stat().st_size
        total += size
        print(
            f"{path.name}: {len(times)} frames, {sidecar['duration_s']} s, {len(shots)} shots, "
            f"{len(video.scenes)} scenes, {size / 1e6:.2f} MB"
        )
    print(f"total {total / 1e6:.2f} MB")
    assert total < 8e6, "sample videos exceed the 8 MB budget"


if __name__ == "__main__":
    main()
