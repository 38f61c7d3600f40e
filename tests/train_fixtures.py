"""Generated data with known answers for the training tests (imported by tests/test_train_*.py).

Each of the 8 classes is a distinct visual pattern: its own colour from trajectory.emotions.COLORS
and its own texture (horizontal, vertical or diagonal stripes, checks, rings, dots, a gradient,
plain), so no two classes share a cue. Textures are drawn in coordinates relative to the image, so
the same class looks alike at 48x48 and at 320x240 once squashed to the network's input. Every
image varies the texture's frequency and phase, its brightness, and adds pixel noise; the pattern
survives a horizontal flip and a small rotation, the augmentations of the recipe.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from trajectory.emotions import COLORS, EMOTIONS

TEXTURES = {
    "amusement": "hstripes",
    "anger": "checks",
    "awe": "vstripes",
    "contentment": "rings",
    "disgust": "dots",
    "excitement": "gradient",
    "fear": "plain",
    "sadness": "diagonals",
}


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) / 255


def _texture(kind: str, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mask in [0, 1] over relative coordinates u (across) and v (down), both (H, W)."""
    freq = 4.0 * rng.uniform(0.85, 1.15)
    pu, pv = rng.uniform(0, 1, size=2)
    if kind == "hstripes":
        return np.floor(v * freq + pv) % 2
    if kind == "vstripes":
        return np.floor(u * freq + pu) % 2
    if kind == "checks":
        return (np.floor(u * freq + pu) + np.floor(v * freq + pv)) % 2
    if kind == "rings":
        return np.floor(np.hypot(u - 0.5, v - 0.5) * 2 * freq + pu) % 2
    if kind == "diagonals":
        return np.floor((u + v) * freq / 1.4 + pu) % 2
    if kind == "plain":
        return np.full_like(u, 0.5)
    if kind == "dots":
        du, dv = (u * freq + pu) % 1 - 0.5, (v * freq + pv) % 1 - 0.5
        return (du**2 + dv**2 < 0.09).astype(np.float64)
    return v  # gradient


def pattern_image(label: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """One image of class ``label``: uint8 (height, width, 3)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = (u + 0.5) / width, (v + 0.5) / height
    mask = _texture(TEXTURES[label], u, v, rng)
    shade = (0.5 + 0.5 * mask) * rng.uniform(0.85, 1.15)
    image = _rgb(COLORS[label]) * shade[..., None] + rng.normal(0, 0.03, (height, width, 3))
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def write_class_folders(root: Path, per_class: int, size: int = 48, seed: int = 0) -> Path:
    """FI-style ``root/<class>/<class>_NNNN.jpg`` folders of generated patterns."""
    rng = np.random.default_rng(seed)
    for label in EMOTIONS:
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.fromarray(pattern_image(label, size, size, rng))
            image.save(folder / f"{label}_{i:04d}.jpg", quality=92)
    return root


def write_scene_video(
    path: Path,
    labels: list[str],
    seconds: float = 5.0,
    fps: int = 24,
    size: tuple[int, int] = (320, 240),
    seed: int = 1,
) -> list[tuple[float, float]]:
    """An H.264 video with one still pattern scene per label, joined by hard cuts.

    Returns:
        (start_s, end_s) of each scene.
    """
    import av  # only the end-to-end test needs PyAV

    rng = np.random.default_rng(seed)
    width, height = size
    frames_per_scene = round(seconds * fps)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "20", "threads": "1"}
        for scene, label in enumerate(labels):
            pixels = pattern_image(label, width, height, rng)
            for i in range(frames_per_scene):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = scene * frames_per_scene + i
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return [(i * seconds, (i + 1) * seconds) for i in range(len(labels))]
