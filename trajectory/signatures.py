"""Shot signatures: what a shot looks like, as cues that hold in colour and in greyscale.

Each sampled frame's small copy (~256 px wide, black bars already cropped) gives one vector of
named blocks; a shot's signature is the mean over its sampled frames. The blocks:

- ``lightness``: 16-bin histogram of CIELAB L (exposure and contrast of the place).
- ``chroma``: 8x8-bin histogram of CIELAB a/b over the central range (the place's palette).
- ``colour``: the share of pixels with visible chroma; it decides how much ``chroma`` counts,
  so greyscale footage is compared on the other cues instead of on an empty palette.
- ``orientation``: 8-bin histogram of gradient orientation weighted by magnitude (the place's
  lines: verticals of a street, horizon, texture direction).
- ``texture``: 8-bin histogram of log gradient magnitude (smooth sky against brick or grass).
- ``layout``: 4x4 grid of mean lightness minus its mean (where light and dark sit).
- ``pattern``: histograms of rotation-invariant uniform local binary patterns of the lightness
  (Ojala et al. 2002), 8 neighbours at radius 1 and at radius 2: the texture's micro-structure
  (grass blades against gravel, print against fabric), which the gradient histograms, blind to
  how gradients are arranged, miss. A neighbour counts as brighter only above
  ``PATTERN_TOLERANCE`` levels, so film grain on a flat place does not read as texture.
- ``deep`` (optional): the emotion model's global-average-pooled last convolutional features,
  when a model is loaded (it runs on the sampled frames anyway).

:func:`shot_distances` compares shots block by block with distances in [0, 1] (Hellinger for
histograms, a clipped RMS for the layout) and averages them with fixed weights; the chroma
weight is scaled by the colour present in the two shots.

Deep features join that mean with their own weight (:data:`DEEP_WEIGHT`, a scene parameter). A
model's feature scale says nothing about scenes (a cosine distance of 0.1 may be large for one
network and small for another), so the deep cosine distances are rescaled by the film's own
spread: divided by their median over the film's shot pairs and multiplied by the median of the
visual distance, then clipped to [0, 1]. The median pair of a film is on the same footing for
both cues, and the deep block only reorders pairs, never shifts the scale the scene threshold
was chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LIGHTNESS_BINS = 16
CHROMA_BINS = 8
CHROMA_RANGE = (64, 192)  # OpenCV's 8-bit a/b: 128 is neutral; natural colours rarely leave this
CHROMA_VISIBLE = 6.0  # a/b distance from neutral (8-bit units) below which a pixel reads as grey
ORIENTATION_BINS = 8
TEXTURE_BINS = 8
TEXTURE_RANGE = (0.0, np.log1p(1024.0))  # log(1 + Sobel magnitude) of 8-bit images
LAYOUT_GRID = 4
LAYOUT_SCALE = 0.25  # RMS lightness difference (0-1 units) that counts as entirely different
BLACK_SHARE = 0.8  # a frame with this share of pixels in the darkest lightness bin shows no place
PATTERN_RADII = (1, 2)  # rings of 8 neighbours, rounded to the pixel grid
PATTERN_BINS = 10  # 0-8 brighter neighbours in one arc (uniform patterns), 9: any other pattern
PATTERN_TOLERANCE = 2.0  # lightness levels above the centre that make a neighbour brighter

BLOCKS = {  # name -> length, in the order they sit in a frame signature
    "lightness": LIGHTNESS_BINS,
    "chroma": CHROMA_BINS * CHROMA_BINS,
    "colour": 1,
    "orientation": ORIENTATION_BINS,
    "texture": TEXTURE_BINS,
    "layout": LAYOUT_GRID * LAYOUT_GRID,
    "pattern": PATTERN_BINS * len(PATTERN_RADII),
}
SIGNATURE_LENGTH = sum(BLOCKS.values())
# Weights of the block distances in the shot distance. ``colour`` only scales ``chroma``.
WEIGHTS = {
    "lightness": 1.0,
    "chroma": 1.0,
    "orientation": 1.0,
    "texture": 1.0,
    "layout": 0.5,
    "pattern": 1.0,
}
# Weight of the model's pooled features against the visual blocks above (which sum to 5.5; 4.5
# before ``pattern`` joined them, when this weight was measured).
# Measured with a trained ImageNet CNN standing in for the emotion model (README, "Scenes"): on
# the development films every weight from 0.25 to 3 widened the range of thresholds at which
# all films group at F1 1.0 (0.22-0.24 without; 0.18-0.26 at 0.5-1.5); MEASURED_DEEP_WEIGHT is
# the one to use, short of the larger weights that did slightly better, since an emotion model
# may separate places less well. It is the default: `analyze` and `catalog` (both engines) carry
# the pooled features into assembly, so they group alike; --scene-deep-weight 0 turns it off.
MEASURED_DEEP_WEIGHT = 1.5
DEEP_WEIGHT = MEASURED_DEEP_WEIGHT


def _normalised(hist: np.ndarray) -> np.ndarray:
    hist = hist.ravel().astype(np.float32)
    return hist / max(float(hist.sum()), 1e-9)


def _pattern_histogram(grey: np.ndarray, radius: int) -> np.ndarray:
    """Counts of rotation-invariant uniform local binary patterns at ``radius``, (PATTERN_BINS,).

    Written out rather than taken from scikit-image (``local_binary_pattern``, not otherwise a
    dependency), which has no noise tolerance: grain flips a flat place's patterns at random.
    """
    height, width = grey.shape
    centre = grey[radius : height - radius, radius : width - radius]
    brighter = []
    for k in range(8):
        angle = 2 * np.pi * k / 8
        dy, dx = int(round(-radius * np.sin(angle))), int(round(radius * np.cos(angle)))
        neighbour = grey[radius + dy : height - radius + dy, radius + dx : width - radius + dx]
        brighter.append(neighbour >= centre + PATTERN_TOLERANCE)
    changes = sum((brighter[k] != brighter[(k + 1) % 8]).astype(np.uint8) for k in range(8))
    count = sum(b.astype(np.uint8) for b in brighter)
    label = np.where(changes <= 2, count, PATTERN_BINS - 1)  # uniform: one arc of brighter ones
    return np.bincount(label.ravel(), minlength=PATTERN_BINS).astype(np.float32)


def frame_signature(bgr: np.ndarray) -> np.ndarray:
    """The signature of one small BGR uint8 frame, shape (SIGNATURE_LENGTH,) float32."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
    lightness = cv2.calcHist([lab], [0], None, [LIGHTNESS_BINS], [0, 256])
    chroma = cv2.calcHist([lab], [1, 2], None, [CHROMA_BINS] * 2, [*CHROMA_RANGE, *CHROMA_RANGE])
    ab = lab[..., 1:].astype(np.float32) - 128.0
    colour = np.array([(np.hypot(ab[..., 0], ab[..., 1]) > CHROMA_VISIBLE).mean()])
    grey = lab[..., 0].astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude, angle = cv2.cartToPolar(gx, gy)
    orientation = np.histogram(
        np.mod(angle, np.pi), bins=ORIENTATION_BINS, range=(0, np.pi), weights=magnitude
    )[0]
    texture = np.histogram(np.log1p(magnitude), bins=TEXTURE_BINS, range=TEXTURE_RANGE)[0]
    layout = cv2.resize(grey, (LAYOUT_GRID, LAYOUT_GRID), interpolation=cv2.INTER_AREA) / 255.0
    parts = [
        _normalised(lightness),
        _normalised(chroma),
        colour.astype(np.float32),
        _normalised(orientation),
        _normalised(texture),
        (layout - layout.mean()).ravel().astype(np.float32),
        *(_normalised(_pattern_histogram(grey, radius)) for radius in PATTERN_RADII),
    ]
    return np.concatenate(parts)


def block(signatures: np.ndarray, name: str) -> np.ndarray:
    """The columns of block ``name`` in (N, SIGNATURE_LENGTH[+deep]) signatures."""
    start = 0
    for key, length in BLOCKS.items():
        if key == name:
            return signatures[:, start : start + length]
        start += length
    raise KeyError(name)


@dataclass
class ShotSignatures:
    """Signatures of every shot of a film, the input of scene grouping.

    Attributes:
        visual: (S, SIGNATURE_LENGTH) float32, mean of the shot's frame signatures.
        deep: (S, F) float32 pooled model features, or None without a model.
    """

    visual: np.ndarray
    deep: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.visual)


def shot_signatures(
    frame_visual: np.ndarray,
    frame_deep: np.ndarray | None,
    shot_of: np.ndarray,
    shots: int,
    in_transition: np.ndarray | None = None,
) -> ShotSignatures:
    """Averages frame signatures per shot; a shot without frames gets zeros (no evidence).

    Frames that show no single place are left out of a shot that has others: near-black frames
    (a fade's middle sampled at the end of a shot) and frames inside a dissolve, a mixture of
    the place before (often another scene) and this one. Either would set the shot apart from
    the rest of its scene: a dissolve into a greyscale scene, sampled once inside its mixture,
    gave a 3-sample shot a third of the colourful scene's chroma (second style 7380). A shot
    with nothing else keeps its mixed frames, then its black ones.

    Args:
        frame_visual: (N, SIGNATURE_LENGTH) frame signatures; frame_deep: (N, F) or None,
            NaN rows where a frame was not scored.
        shot_of: (N,) shot index of each frame.
        shots: the number of shots S.
        in_transition: (N,) whether each frame lies inside a transition's span; None: none.
    """
    visual = np.zeros((shots, frame_visual.shape[1]), np.float32)
    deep = None if frame_deep is None else np.zeros((shots, frame_deep.shape[1]), np.float32)
    black = block(frame_visual, "lightness")[:, 0] >= BLACK_SHARE
    mixed = np.zeros(len(frame_visual), bool) if in_transition is None else in_transition
    cleanest_first = (~black & ~mixed, ~black)
    for i in range(shots):
        mine = shot_of == i
        for usable in cleanest_first:
            if (mine & usable).any():
                mine &= usable
                break
        if mine.any():
            visual[i] = frame_visual[mine].mean(axis=0)
        if deep is not None:
            rows = frame_deep[mine]
            rows = rows[np.isfinite(rows).all(axis=1)]
            if len(rows):
                deep[i] = rows.mean(axis=0)
    return ShotSignatures(visual, deep)


def _hellinger(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Pairwise Hellinger distances between rows of two histogram arrays, (S, S) in [0, 1]."""
    bc = np.sqrt(np.clip(p, 0, None)) @ np.sqrt(np.clip(q, 0, None)).T
    return np.sqrt(np.clip(1.0 - bc, 0.0, 1.0))


def _cosine(x: np.ndarray) -> np.ndarray:
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    return np.clip(1.0 - unit @ unit.T, 0.0, 1.0)


def _layout(x: np.ndarray) -> np.ndarray:
    squared = (x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * x @ x.T
    rms = np.sqrt(np.clip(squared, 0, None) / x.shape[1])
    return np.clip(rms / LAYOUT_SCALE, 0.0, 1.0)


def block_distances(signatures: ShotSignatures) -> dict[str, np.ndarray]:
    """Each visual cue's pairwise shot distances, name -> (S, S) in [0, 1]."""
    visual = signatures.visual.astype(np.float64)
    distances = {
        name: _hellinger(block(visual, name), block(visual, name))
        for name in ("lightness", "chroma", "orientation", "texture")
    }
    distances["layout"] = _layout(block(visual, "layout"))
    patterns = block(visual, "pattern")
    distances["pattern"] = np.mean(
        [
            _hellinger(
                patterns[:, start : start + PATTERN_BINS], patterns[:, start : start + PATTERN_BINS]
            )
            for start in range(0, patterns.shape[1], PATTERN_BINS)
        ],
        axis=0,
    )  # one histogram per radius
    return distances


def _visual_distances(signatures: ShotSignatures) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean of the visual block distances, (S, S), and its summed weights (S, S).

    Chroma counts in proportion to the colour the two shots show (the more colourful of the
    pair), so two greyscale shots are compared on lightness, lines, texture and layout alone.
    """
    distances = block_distances(signatures)
    colour = block(signatures.visual.astype(np.float64), "colour")[:, 0]
    chroma_scale = np.clip(np.maximum(colour[:, None], colour[None, :]) / 0.3, 0.0, 1.0)
    total = np.zeros_like(distances["lightness"])
    weight = np.zeros_like(total)
    for name, d in distances.items():
        w = WEIGHTS[name] * (chroma_scale if name == "chroma" else 1.0)
        total += w * d
        weight += w
    return total / weight, weight


def scaled_deep_distances(deep: np.ndarray, visual: np.ndarray) -> np.ndarray | None:
    """Cosine distances of deep features on the visual distances' scale, (S, S) in [0, 1].

    Args:
        deep: (S, F) pooled features; all-zero rows (shots without scored frames) are ignored.
        visual: (S, S) visual distances of the same shots.

    Returns:
        cosine / median(cosine) * median(visual) over the pairs of shots that both have
        features, clipped to [0, 1], or None when fewer than two shots have features or the
        features do not vary (no scale to measure).
    """
    scored = np.linalg.norm(deep, axis=1) > 0
    if scored.sum() < 2:
        return None
    unit = deep / np.maximum(np.linalg.norm(deep, axis=1, keepdims=True), 1e-12)
    cosine = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    pairs = np.triu(np.outer(scored, scored), k=1)
    deep_median, visual_median = np.median(cosine[pairs]), np.median(visual[pairs])
    if not deep_median > 1e-9:
        return None
    return np.clip(cosine * (visual_median / deep_median), 0.0, 1.0)


def shot_distances(signatures: ShotSignatures, deep_weight: float = DEEP_WEIGHT) -> np.ndarray:
    """Pairwise shot distances, (S, S) symmetric with a zero diagonal, values in [0, 1].

    The weighted mean of the visual block distances (see :func:`_visual_distances`) and, with
    weight ``deep_weight`` where both shots have them, the rescaled deep feature distances
    (:func:`scaled_deep_distances`).
    """
    result, weight = _visual_distances(signatures)
    deep = signatures.deep
    if deep_weight > 0 and deep is not None:
        deep = deep.astype(np.float64)
        scaled = scaled_deep_distances(deep, result)
        if scaled is not None:
            scored = np.linalg.norm(deep, axis=1) > 0
            w = deep_weight * np.outer(scored, scored)
            result = (result * weight + w * scaled) / (weight + w)
    np.fill_diagonal(result, 0.0)
    return result
