"""The detector interface, the cut type, and the tiny frame copies several detectors share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.common import Timecode

TINY_SIZE = (48, 27)  # (width, height): TransNetV2's input size
BLACK_LEVEL = 20.0  # grey level under which a pixel is black in both frames (bars): ignored
BAR_LEVEL = 4.0  # letterbox bars decode at 0-2 levels, a dim picture's pixels mostly above
TINY_FACTOR = 4  # the checks' tiny copies are 1/4 of the ~256 px detection frame (64x36 at 16:9)
_TIME_BASE = Fraction(1, 1_000_000)  # PySceneDetect detectors get microsecond timecodes


@dataclass(frozen=True)
class Cut:
    """A shot boundary: the first frame of the new shot is presented at ``time_s``.

    ``kind`` is "hard", "dissolve" (cut at the dissolve's middle frame) or "fade" (cut at the
    middle of its black). ``start_s`` and ``end_s``, where known, are where the transition's
    frames begin and end: a fade's first dark frame and the frame where the picture rose out
    of the dark (other detectors' cuts there belong to it); a dissolve's frames just outside
    its mixture on either side. Frames strictly between them show two places, or none.
    """

    time_s: float
    kind: str
    start_s: float | None = None
    end_s: float | None = None


class Detector(ABC):
    """Fed every frame in presentation order; reports cuts, possibly some frames late.

    As PySceneDetect's ``SceneDetector``: :meth:`process_frame` per frame, then
    :meth:`post_process` once at the end. ``latency_frames`` bounds how many frames after a
    cut the detector may still report it.
    """

    latency_frames: int = 0

    @abstractmethod
    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        """Feeds one frame (small BGR uint8 image, shape (H, W, 3)) presented at ``time_s``."""

    def post_process(self) -> list[Cut]:
        """Cuts still held back when the video ends."""
        return []


def timecode(time_s: float, rate: Fraction) -> FrameTimecode:
    """A PySceneDetect timecode for a presentation time, in microseconds."""
    return FrameTimecode(Timecode(pts=round(time_s / _TIME_BASE), time_base=_TIME_BASE), fps=rate)


def tiny(frame: np.ndarray) -> np.ndarray:
    """A float32 copy of a BGR frame at 1/4 size, area-averaged (grain cancels).

    Shape (H // 4, W // 4, 3); an integer factor keeps OpenCV's area resize on its fast path.
    """
    height, width = frame.shape[:2]
    size = (max(1, width // TINY_FACTOR), max(1, height // TINY_FACTOR))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(np.float32)


# The last frame given to ``shared_tiny`` and its tiny copy: every detector of a ShotDetector is
# fed the same frame object, so the copy is made once a frame, not once a detector. One tuple,
# assigned at once, so that two threads running detectors never see a frame with another's copy.
_last_tiny: tuple[np.ndarray, np.ndarray] | None = None


def shared_tiny(frame: np.ndarray) -> np.ndarray:
    """:func:`tiny` of ``frame``, reused when the same frame object was the last one asked for.

    The copy is read-only, since several detectors hold it. A frame must not be written after it
    was fed to a detector (none is: the decoder makes a new array for every frame).
    """
    global _last_tiny
    last = _last_tiny
    if last is not None and last[0] is frame:
        return last[1]
    copy = tiny(frame)
    copy.flags.writeable = False
    _last_tiny = (frame, copy)  # holding the frame keeps its id from being reused
    return copy


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two tiny frames, in 8-bit levels."""
    return float(cv2.norm(a, b, cv2.NORM_L1)) / a.size


def centre(frame: np.ndarray, margin: int = 8) -> tuple[slice, slice]:
    """Row and column slices of ``frame`` without 1/``margin`` of it on each side: what a
    shifted or blurred copy leaves free of repeated edges."""
    height, width = frame.shape[:2]
    return (
        slice(height // margin, height - height // margin),
        slice(width // margin, width - width // margin),
    )


def moved(frame: np.ndarray, shift) -> np.ndarray:
    """``frame`` shifted by (dx, dy) pixels, edges repeated."""
    height, width = frame.shape[:2]
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def gain_free_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference after scaling each frame to the pair's mean brightness.

    Pixels black in both frames (letterbox or pillarbox bars) are left out.
    """
    lit = (a.mean(axis=2) > BLACK_LEVEL) | (b.mean(axis=2) > BLACK_LEVEL)
    if lit.sum() >= 16:
        a, b = a[lit], b[lit]
    mean_a, mean_b = float(a.mean()), float(b.mean())
    level = (mean_a + mean_b) / 2
    return distance(a * (level / max(mean_a, 1.0)), b * (level / max(mean_b, 1.0)))


def rescaling(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """How well ``after`` is ``before`` with another exposure (a lamp, a fade).

    Fits ``after ~ gain * before + offset`` by least squares on the grey images (leaving out
    pixels black in both, such as letterbox bars) and returns
    (gain, share of the mean absolute change the fit leaves). The same picture brightened by a
    lamp fits a gain of 1.25-4 and leaves little; an unrelated picture fits a gain near 0.
    """
    x, y = before.mean(axis=2).ravel(), after.mean(axis=2).ravel()
    lit = (x > BLACK_LEVEL) | (y > BLACK_LEVEL)  # letterbox bars match in any two frames
    if lit.sum() >= 16:
        x, y = x[lit], y[lit]
    design = np.stack([x, np.ones_like(x)], axis=1)
    (gain, offset), *_ = np.linalg.lstsq(design, y, rcond=None)
    change = float(np.abs(y - x).mean())
    left = float(np.abs(y - gain * x - offset).mean())
    return float(gain), left / max(change, 1e-6)


def explained_share(dark: np.ndarray, lit: np.ndarray) -> float:
    """Share of ``lit``'s grey variance that a gain and offset of ``dark`` explain (R^2, 0-1).

    Near 1 when ``dark`` is the same picture at another exposure, near 0 when it holds no
    picture (black with grain) or another one. Pixels under ``BAR_LEVEL`` in both frames (bars)
    are left out; ``BLACK_LEVEL`` would leave out most of a dim picture.
    """
    x, y = dark.mean(axis=2).ravel(), lit.mean(axis=2).ravel()
    lit_pixels = (x > BAR_LEVEL) | (y > BAR_LEVEL)
    if lit_pixels.sum() >= 16:
        x, y = x[lit_pixels], y[lit_pixels]
    if x.std() < 1e-6 or y.std() < 1e-6:
        return 0.0
    return max(float(np.corrcoef(x, y)[0, 1]), 0.0) ** 2


def shifted_share(first: np.ndarray, last: np.ndarray) -> float:
    """How much of the change from ``first`` to ``last`` a global shift leaves, in [0, 1].

    The shift is found by phase correlation of the grey images; the change is compared on the
    central part, which the shift keeps inside the picture.
    """
    return shifted_share_of_greys(first.mean(axis=2), last.mean(axis=2))


def shifted_share_of_greys(grey_first: np.ndarray, grey_last: np.ndarray) -> float:
    """:func:`shifted_share` of two frames given as their grey images (channel means)."""
    shift, _ = cv2.phaseCorrelate(grey_first, grey_last)
    inner = centre(grey_first, 6)
    raw = float(np.abs(grey_first - grey_last)[inner].mean())
    left = float(np.abs(moved(grey_first, shift) - grey_last)[inner].mean())
    return min(left, raw) / max(raw, 1e-6)


DETAIL_SIGMA = 2.0  # tiny pixels: fine detail is what a Gaussian blur this wide takes away


def _detail_of(grey: np.ndarray) -> np.ndarray:
    """What a Gaussian blur of ``DETAIL_SIGMA`` takes away from a grey picture."""
    return grey - cv2.GaussianBlur(grey, (0, 0), DETAIL_SIGMA)


def fine_detail(frame: np.ndarray) -> np.ndarray:
    """The grey picture's fine detail over its centre (a moved frame's edges are repeated)."""
    detail = _detail_of(frame.mean(axis=2))
    return detail[centre(detail)]


DETAIL_NOISE = 0.5  # levels of fine detail (std, tiny frames) that grain and coding noise add


def detail_correlation(before: np.ndarray, after: np.ndarray) -> float:
    """Correlation of the two frames' fine grey detail (``fine_detail``), over their centres.

    A smooth change of light scales the detail but keeps its pattern (near 1); two places'
    details are unrelated (near 0), however their layouts of light and dark happen to match.
    """
    return _correlation(fine_detail(before), fine_detail(after))


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson correlation of two equally shaped arrays; 0 where either is constant.

    Computed directly in float64 (what ``np.corrcoef`` gives, to ~1e-15, without its general
    machinery): the aligned detail test asks for some 20 000 block correlations in a long
    dissolve's windows.
    """
    first = first.ravel().astype(np.float64)
    second = second.ravel().astype(np.float64)
    first -= first.mean()
    second -= second.mean()
    first_spread, second_spread = first @ first, second @ second
    if min(first_spread, second_spread) < first.size * 1e-12:  # either std under 1e-6
        return 0.0
    return float(first @ second / np.sqrt(first_spread * second_spread))


PATTERN_SIGMAS = (2.0, 6.0)  # tiny pixels: the band of a picture's mid-scale pattern


def pattern_correlation(before: np.ndarray, after: np.ndarray) -> float:
    """Correlation of the two frames' mid-scale grey pattern (a band-pass of ``PATTERN_SIGMAS``)
    over their centres.

    Where the fine detail is grain (a flat texture), the pattern a few pixels across still
    shows the place: a light keeps it (0.83-1.0 at the structure films' lamps), another framing
    of a flat texture does not (-0.56 to -0.2 at the cuts the lamp test took for lamps).
    """
    return _correlation(_mid_pattern(before), _mid_pattern(after))


PATTERN_GRAIN_MAX = 1.0  # grey levels (std): the darker frame's mid-scale pattern at the brighter
# one's level, at distractor lamps over smooth places (grain) 0.15-0.81; flat textures 1.9-7.6


def pattern_shown(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether the darker frame's mid-scale pattern, at the brighter frame's level, stands
    above grain (``PATTERN_GRAIN_MAX``). The brighter frame's own pattern may be a spot lamp's
    edge; the darker one's, brightened as a light would, is the place's (or grain)."""
    dark, bright = sorted((first, second), key=lambda frame: float(frame.mean()))
    level = float(bright.mean()) / max(float(dark.mean()), 1.0)
    return float(_mid_pattern(dark).std()) * level >= PATTERN_GRAIN_MAX


def _mid_pattern(frame: np.ndarray) -> np.ndarray:
    """The grey picture's band-pass of ``PATTERN_SIGMAS`` over its centre."""
    grey = frame.mean(axis=2)
    band = cv2.GaussianBlur(grey, (0, 0), PATTERN_SIGMAS[0])
    band -= cv2.GaussianBlur(grey, (0, 0), PATTERN_SIGMAS[1])
    return band[centre(band)]


DETAIL_BLOCKS = (3, 4)  # rows, columns of the centre over which two frames' details are compared


def detail_blocks(frame: np.ndarray) -> list[np.ndarray]:
    """``fine_detail`` of the frame, cut into ``DETAIL_BLOCKS`` blocks."""
    detail = fine_detail(frame)
    rows, columns = DETAIL_BLOCKS
    height, width = detail.shape
    row_edges = [r * height // rows for r in range(rows + 1)]
    column_edges = [c * width // columns for c in range(columns + 1)]
    return [
        detail[top:bottom, left:right]
        for top, bottom in zip(row_edges, row_edges[1:])
        for left, right in zip(column_edges, column_edges[1:])
    ]


def detailed_blocks(blocks: list[np.ndarray], level: float) -> int:
    """How many of a frame's ``detail_blocks`` carry detail of ``level`` grey levels (std)."""
    return sum(block.std() >= level for block in blocks)


DETAIL_LEVEL_MIN = 1.8  # grey levels (std) of a block's fine detail: grain on a flat place 0.4-1.2
FEATURELESS_LEFT_MAX = 0.15  # change a smooth light leaves between featureless frames: lamps at
# once 0.003-0.14; cuts between two framings of one featureless place leave 0.014 and up, so
# the light's strength and the pattern must tell as well (``HardCutDetector._is_lamp``)


def featureless(frame: np.ndarray) -> bool:
    """Whether no block of the frame carries fine detail above grain (a smooth gradient, a fog,
    a wall): there, a light's gain and an offset of the level cannot be told apart."""
    return not detailed_blocks(detail_blocks(frame), DETAIL_LEVEL_MIN)


def textured(blocks: list[np.ndarray], level: float, least: int) -> bool:
    """Whether at least ``least`` of a frame's ``detail_blocks`` carry detail of ``level``, and
    not all within one 2x2 square of the grid: one compact object (a disc, a face on a blurred
    ground) can touch four blocks where its edges cross theirs; a place's texture spreads."""
    return spread_detail([float(block.std()) for block in blocks], level, least)


def spread_detail(block_levels: list[float], level: float, least: int) -> bool:
    """``textured`` given each block's detail level (std) rather than the blocks."""
    columns = DETAIL_BLOCKS[1]
    detailed = [i for i, block_level in enumerate(block_levels) if block_level >= level]
    if len(detailed) < least:
        return False
    row_span = max(i // columns for i in detailed) - min(i // columns for i in detailed)
    column_span = max(i % columns for i in detailed) - min(i % columns for i in detailed)
    return row_span > 1 or column_span > 1


def blocks_agreement(
    first: list[np.ndarray], second: list[np.ndarray], level: float
) -> float | None:
    """Median, over the blocks where both carry detail (``level``), of its correlation.

    ``first``, ``second``: two frames' ``detail_blocks``. Block by block, so that an object
    moving on its own (a passer-by, a ball) spoils only the blocks it crosses, and a smooth
    block's grain says nothing. None under 2 such blocks.
    """
    pairs = [(a, b) for a, b in zip(first, second) if a.std() >= level and b.std() >= level]
    if len(pairs) < 2:
        return None
    return float(np.median([_correlation(a, b) for a, b in pairs]))


def detail_agreement(before: np.ndarray, after: np.ndarray, level: float) -> float | None:
    """``blocks_agreement`` of two frames."""
    return blocks_agreement(detail_blocks(before), detail_blocks(after), level)


ALIGN_SCALES = np.arange(0.88, 1.121, 0.02)  # zooms tried: up to ~12% between a window's ends
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


def _luma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_BGR2GRAY)


def zoom_grid_alignments(before: np.ndarray, after: np.ndarray):
    """``before`` brought onto ``after`` by each zoom of ``ALIGN_SCALES``, each followed by the
    shift that phase correlation of the fine detail finds."""
    height, width = after.shape[:2]
    target = _detail_of(_luma(after))
    taper = cv2.createHanningWindow((width, height), cv2.CV_32F)
    for scale in ALIGN_SCALES:
        zoom = cv2.getRotationMatrix2D((width / 2, height / 2), 0, float(scale))
        zoomed = cv2.warpAffine(before, zoom, (width, height), borderMode=cv2.BORDER_REPLICATE)
        shift, _ = cv2.phaseCorrelate(_detail_of(_luma(zoomed)), target, taper)
        yield moved(zoomed, shift)


def camera_alignments(before: np.ndarray, after: np.ndarray):
    """``before`` brought onto ``after`` by each camera move tried (see below)."""
    yield from zoom_grid_alignments(before, after)
    height, width = after.shape[:2]
    grey_after = _luma(after)
    grey_before = _luma(before)
    warp = np.eye(2, 3, dtype=np.float32)  # after(x) ~ before(warp(x))
    try:
        _, warp = cv2.findTransformECC(
            grey_after, grey_before, warp, cv2.MOTION_AFFINE, _ECC_CRITERIA, None, 3
        )
    except cv2.error:
        return  # two unrelated pictures often make the fit diverge
    yield cv2.warpAffine(
        before,
        warp,
        (width, height),
        flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def aligned_detail_agreement(before: np.ndarray, after: np.ndarray, level: float) -> float | None:
    """``detail_agreement`` once ``before`` is brought onto ``after`` by a camera's move.

    A shift alone leaves a slow zoom's fine detail uncorrelated after a second, so two kinds of
    alignment are tried and the best agreement kept (each fails on some pictures where the
    other holds; on tiny frames the smooth light dominates the grey levels):
    - a grid of zooms (``ALIGN_SCALES``), each followed by the shift that phase correlation
      of the fine detail finds (the detail gives a sharp peak, the light none);
    - an affine map fitted by OpenCV's ECC alignment (Evangelidis & Psarakis 2008), which
      follows a turn or a zoom between the grid's steps, when it converges.
    One place moved, zoomed or relit agrees 0.6-1, two places under 0.3. None when no
    alignment leaves 2 blocks detailed in both.
    """
    reference = detail_blocks(after)
    best = blocks_agreement(detail_blocks(before), reference, level)
    for aligned in camera_alignments(before, after):
        agreement = blocks_agreement(detail_blocks(aligned), reference, level)
        if agreement is not None and (best is None or agreement > best):
            best = agreement
    return best


def step_shift(earlier: np.ndarray, later: np.ndarray) -> tuple[float, float]:
    """The picture's shift (dx, dy pixels) from one frame to the next.

    A global translation fitted to the colour gradients (Lucas & Kanade 1981), on 1/4- and
    1/2-size copies first and then refined on the frame, so that steps of several pixels (a
    whip pan) are followed too. It needs no fine detail, so it follows a camera over a smooth
    place (a sky, a colour gradient), where phase correlation finds no peak, and where OpenCV's
    ECC alignment (``findTransformECC``) and Farneback flow, tried on such frames, returned
    runaway or zero shifts. A small ridge term keeps the shift along an edge or band, which no
    picture shows, near zero, and robust weights keep an object crossing the picture on its own
    from pulling the fit (``_fit_translation``).
    """
    shift = _coarse_to_fine(earlier, later, np.zeros(2), (4, 2, 1))
    return float(shift[0]), float(shift[1])


def refined_shift(
    earlier: np.ndarray, later: np.ndarray, shift: tuple[float, float], reach: float
) -> tuple[float, float]:
    """``shift`` (a camera path summed step by step) corrected by at most ``reach`` pixels
    so that it maps ``earlier`` straight onto ``later``.

    Each step of a path tracked over a smooth picture comes out a little short (the fit's ridge
    shrinks what the picture's faint gradients cannot pin down), and over dozens of steps the
    shortfall adds up: a camera panning over a colour gradient then seems to have moved less
    than it did. Fitted from the ends, the same translation has the whole move to go on.
    ``reach`` bounds the correction, since between two different pictures (a dissolve's
    ends) such a fit can run anywhere.
    """
    start = np.array(shift, dtype=np.float64)
    fitted = _coarse_to_fine(earlier, later, start, (2, 1))
    corrected = start + np.clip(fitted - start, -reach, reach)
    return float(corrected[0]), float(corrected[1])


def _coarse_to_fine(
    earlier: np.ndarray, later: np.ndarray, shift: np.ndarray, factors: tuple[int, ...]
) -> np.ndarray:
    """``shift`` refined by :func:`_fit_translation` on blurred copies, at each size 1/factor."""
    first = cv2.GaussianBlur(earlier.astype(np.float32), (0, 0), 1.0)
    second = cv2.GaussianBlur(later.astype(np.float32), (0, 0), 1.0)
    height, width = first.shape[:2]
    for factor in factors:  # coarse to fine: a shift of a few pixels at each scale
        size = (max(1, width // factor), max(1, height // factor))
        shift = factor * _fit_translation(
            cv2.resize(first, size, interpolation=cv2.INTER_AREA),
            cv2.resize(second, size, interpolation=cv2.INTER_AREA),
            shift / factor,
        )
    return shift


_FIT_STEPS = 4  # Gauss-Newton steps per scale; each stops early below 0.01 px
SHIFT_RIDGE = 0.02  # of the gradient matrix's trace: a shift the picture cannot tell stays ~0
ROBUST_SCALE = 2.385  # Cauchy's constant (95% efficiency on Gaussian residuals), times the spread
ROBUST_SPREAD_MIN = 0.5  # grey levels: residuals are never taken for tighter than this


def _cauchy_weights(residual: np.ndarray) -> np.ndarray:
    """Flat weights, one per element of ``residual`` (H, W[, C]), shared by a pixel's channels."""
    size = np.sqrt((residual * residual).mean(axis=2)) if residual.ndim == 3 else np.abs(residual)
    spread = max(1.4826 * float(np.median(size)), ROBUST_SPREAD_MIN)  # MAD of a normal
    weights = 1.0 / (1.0 + (size / (ROBUST_SCALE * spread)) ** 2)
    if residual.ndim == 3:
        weights = np.repeat(weights[..., None], residual.shape[2], axis=2)
    return weights.ravel()


def _fit_translation(first: np.ndarray, second: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Refines ``shift`` so that ``first`` moved by it matches ``second`` over the centre.

    Each Gauss-Newton step is weighted (iteratively reweighted least squares, Cauchy weights
    on each pixel's residual against ``ROBUST_SCALE`` times its robust spread): an object
    crossing the picture on its own (a disc over a colour gradient) has sharp edges that would
    otherwise pull the camera's move toward its own, most where the place behind is smooth.
    """
    inner = centre(first)
    for _ in range(_FIT_STEPS):
        shifted = moved(first, shift)
        grad_y, grad_x = np.gradient(shifted, axis=(0, 1))
        residual = (second - shifted)[inner]
        weights = _cauchy_weights(residual)
        grad_x, grad_y = grad_x[inner].ravel(), grad_y[inner].ravel()
        error = residual.ravel()
        # second(x) = moved(x - step) ~ moved(x) - step . gradient
        weighted_x, weighted_y = weights * grad_x, weights * grad_y
        normal = np.array(
            [[weighted_x @ grad_x, weighted_x @ grad_y], [weighted_x @ grad_y, weighted_y @ grad_y]]
        )
        normal += (SHIFT_RIDGE * np.trace(normal) + 1e-3) * np.eye(2)
        step = np.linalg.solve(normal, -np.array([weighted_x @ error, weighted_y @ error]))
        shift = shift + step
        if np.hypot(*step) < 0.01:
            break
    return shift


def tracked_share(first: np.ndarray, last: np.ndarray, shift: tuple[float, float]) -> float:
    """How much of the change from ``first`` to ``last`` moving ``first`` by ``shift`` leaves.

    Compared where the moved frame and ``last`` overlap; 1.0 where they overlap in less than a
    quarter of the picture (nothing to compare).
    """
    overlap = _overlap(first.shape, shift)
    if overlap is None:
        return 1.0
    grey_first, grey_last = first.mean(axis=2), last.mean(axis=2)
    raw = float(np.abs(grey_first - grey_last)[overlap].mean())
    left = float(np.abs(moved(grey_first, shift) - grey_last)[overlap].mean())
    return min(left, raw) / max(raw, 1e-6)


def followed_share(first: np.ndarray, last: np.ndarray, shift: tuple[float, float]) -> float:
    """``tracked_share`` where the picture follows the camera: in colour, pixels weighted by
    how well the move explains them.

    An object crossing the picture on its own (a disc, a passer-by) leaves a large change
    where it was and where it is, whatever the camera did; over a smooth place (a sky, a
    colour gradient) that change can outweigh all the rest and make a pan look like two
    pictures. Each pixel's colour change (the mean over channels, so that a hue sliding past
    at one brightness counts) is weighted by Cauchy's weight on what the move leaves there, as
    in the robust fit of ``_fit_translation``: the object's pixels fall out, and two places,
    which the move leaves changed all over, keep their weights. 1.0 where the moved frame and
    ``last`` overlap in less than a quarter of the picture.
    """
    overlap = _overlap(first.shape, shift)
    if overlap is None:
        return 1.0
    before, after = first.astype(np.float32), last.astype(np.float32)
    left = np.abs(moved(before, shift) - after)[overlap].mean(axis=2)
    raw = np.abs(before - after)[overlap].mean(axis=2)
    weights = _cauchy_weights(left)
    weighted_left, weighted_raw = float(weights @ left.ravel()), float(weights @ raw.ravel())
    return min(weighted_left, weighted_raw) / max(weighted_raw, 1e-6)


def _overlap(shape: tuple[int, ...], shift: tuple[float, float]) -> tuple[slice, slice] | None:
    """Rows and columns where a frame of ``shape`` moved by ``shift`` overlaps the unmoved one;
    None where that is less than a quarter of the picture (nothing to compare)."""
    height, width = shape[:2]
    dx, dy = shift
    if max(width - abs(dx), 0.0) * max(height - abs(dy), 0.0) < 0.25 * width * height:
        return None
    return (
        slice(int(np.ceil(max(dy, 0))), int(height + min(dy, 0))),
        slice(int(np.ceil(max(dx, 0))), int(width + min(dx, 0))),
    )


class TinyFrames:
    """The last ``capacity`` tiny frames with their times, indexed by absolute frame number."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._frames: deque[np.ndarray] = deque(maxlen=capacity)
        self._times: deque[float] = deque(maxlen=capacity)
        self._softened: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # index -> softened()
        self._greys: dict[int, np.ndarray] = {}  # index -> channel mean (grey image)
        self.count = 0  # frames added so far; the newest has index count - 1

    def add(self, time_s: float, frame: np.ndarray) -> None:
        self._frames.append(shared_tiny(frame))
        self._times.append(time_s)
        self.count += 1
        self._softened.pop(self.count - 1 - self.capacity, None)  # no longer held
        self._greys.pop(self.count - 1 - self.capacity, None)

    def soft(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`softened` of frame ``index``, made once while the frame is held."""
        prepared = self._softened.get(index)
        if prepared is None:
            prepared = self._softened[index] = softened(self[index])
        return prepared

    def grey(self, index: int) -> np.ndarray:
        """Frame ``index``'s grey image (its channels' mean), made once while it is held: the
        dissolve detector's windows overlap, so each frame ends many of them."""
        prepared = self._greys.get(index)
        if prepared is None:
            prepared = self._greys[index] = self[index].mean(axis=2)
        return prepared

    def has(self, index: int) -> bool:
        return self.count - len(self._frames) <= index < self.count

    def __getitem__(self, index: int) -> np.ndarray:
        return self._frames[index - (self.count - len(self._frames))]

    def time(self, index: int) -> float:
        return self._times[index - (self.count - len(self._frames))]


SHAKE_MAX = 0.08  # share of the width a camera can move between two frames without a cut


def compensated_distance(a: np.ndarray, b: np.ndarray, max_shift: float = SHAKE_MAX) -> float:
    """Mean absolute difference of two tiny frames after undoing a small camera move.

    The global shift that best aligns the grey images is found by phase correlation; when it
    is within ``max_shift`` of the width, ``a`` is moved by it. Both differences (moved and
    not) are taken on the central part, which a small shift keeps inside the picture, and the
    smaller is returned, in 8-bit levels as :func:`distance`. Handheld shake and pans change
    frames a lot on detailed textures and little after this; a cut changes them either way.
    Both are compared softened (:func:`_soften`): phase correlation's sub-pixel shift is
    rough on frames this small.
    """
    return aligned_distance(softened(a), softened(b), max_shift)


def softened(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softened tiny frame, its grey image): what :func:`aligned_distance` compares.

    Softened once (blur and shift are both linear, so they commute away from the borders);
    grain would pull the shift. A detector that compares each frame more than once keeps this.
    """
    soft = _soften(frame)
    return soft, cv2.cvtColor(soft, cv2.COLOR_BGR2GRAY)


def aligned_distance(
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
    max_shift: float = SHAKE_MAX,
) -> float:
    """:func:`compensated_distance` of two frames given as :func:`softened` gives them."""
    (soft_a, grey_a), (soft_b, _) = a, b
    inner = centre(grey_a, 6)
    raw = distance(soft_a[inner], soft_b[inner])
    pair = half_aligned(a, b, max_shift * grey_a.shape[1])
    return raw if pair is None else min(raw, distance(*pair))


def half_aligned(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], max_shift_px: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Two frames given as :func:`softened` gives them, each moved half way onto the other by
    the phase correlation of their greys and cut to the centre that the shift keeps inside
    the picture; None where that shift is over ``max_shift_px`` pixels.

    Each frame moves half way, so that both are resampled alike: moving one frame only blurs
    it against the other, which on a detailed texture leaves a change of its own.
    """
    (soft_a, grey_a), (soft_b, grey_b) = a, b
    (dx, dy), _ = cv2.phaseCorrelate(grey_a, grey_b)
    if np.hypot(dx, dy) > max_shift_px:
        return None
    inner = centre(grey_a, 6)
    return moved(soft_a, (dx / 2, dy / 2))[inner], moved(soft_b, (-dx / 2, -dy / 2))[inner]


def _soften(frame: np.ndarray) -> np.ndarray:
    """A Gaussian blur of one tiny pixel: what a sub-pixel error of the shift leaves fades,
    a change of what the picture shows stays (it spans many pixels)."""
    return cv2.GaussianBlur(frame, (5, 5), 1.0)


def _gain_field_design(height: int, width: int) -> np.ndarray:
    """Columns 1, x, y, x^2, y^2, xy over a (height, width) grid, x and y in [-1, 1]."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = (2 * xx / max(width - 1, 1) - 1).ravel(), (2 * yy / max(height - 1, 1) - 1).ravel()
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


def relit(before: np.ndarray, after: np.ndarray, offset: bool = True) -> tuple[float, float, float]:
    """How well ``after`` is ``before`` under a smooth change of light (a lamp, lit or not).

    Fits ``after ~ field(x, y) * before + offset`` by least squares on the grey images, the
    field a quadratic in x and y (a lamp lighting one part of the picture more), leaving out
    pixels black in both. Returns (2nd and 98th percentile of the field's gain over the
    picture, share of the mean absolute change the fit leaves). A lamp switched on brightens
    every part (both percentiles above 1), one switched off darkens every part, and the fit
    leaves little; a cut to another picture fits gains near 0 or of both signs and leaves much.

    Without ``offset`` the field alone is fitted. On a nearly constant picture (``featureless``)
    an offset is a gain that is the same everywhere, and the fit splits the change between the
    two at random (fields of 4, or below 0, at lamps that doubled the light): a light only
    multiplies.
    """
    x, y, lit = _lit_greys(before, after)
    if lit.sum() < 16:
        return 1.0, 1.0, 1.0
    x, y, field = x[lit], y[lit], _gain_field_design(*before.shape[:2])[lit]
    design = field * x[:, None]
    if offset:
        design = np.concatenate([design, np.ones((len(x), 1), np.float32)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    change = max(float(np.abs(y - x).mean()), 1e-6)
    left = float(np.abs(y - design @ coefficients).mean()) / change
    low, high = np.percentile(field @ coefficients[: field.shape[1]], [2, 98])
    return float(low), float(high), left


def _lit_greys(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two frames' grey levels, flattened, and which pixels are not black in both (bars)."""
    x, y = before.mean(axis=2).ravel(), after.mean(axis=2).ravel()
    return x, y, (x > BLACK_LEVEL) | (y > BLACK_LEVEL)


def level_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """The mean grey level of ``after`` over that of ``before``, over the pixels ``relit`` fits
    (those not black in both frames); 1.0 where there are none."""
    x, y, lit = _lit_greys(before, after)
    if not lit.any():
        return 1.0
    return float(y[lit].mean()) / max(float(x[lit].mean()), 1e-6)


TINT_CHANGE_MAX = 0.25  # ``tint_change`` a light may make where the picture shows nothing else
CHROMA_CHANGE_MAX = 0.08  # a light keeps colours up to one tint (``chroma_change``): lamps
# <= 0.04; cuts between two colour gradients >= 0.17, a dissolve's ends from grey into red 0.15-0.26


def chroma_change(before: np.ndarray, after: np.ndarray) -> float:
    """How much the colours change between two frames beyond one global tint (0 = none).

    Each lit pixel's chromaticity (B, G, R over their sum); the mean over the picture of how
    far it moved, once the picture-wide mean move is taken off. Light of one colour, however
    its strength varies over the picture (a lamp, on or off, white or tinted), keeps every
    pixel's chromaticity or tints them all alike: dev lamps <= 0.04. Another place recolours
    each part differently: cuts between two colour gradients >= 0.17. Greyscale frames give 0.
    """
    moved = _chromaticity_moves(before, after)
    if moved is None:
        return 0.0
    return float(np.abs(moved - moved.mean(axis=0)).sum(axis=1).mean())


def tint_change(before: np.ndarray, after: np.ndarray) -> float:
    """The picture-wide mean move of the lit pixels' chromaticity (L1; 0 = the same colour).

    A warm lamp switched on in a daylit room moves it ~0.13 (B, G, R gains 0.55, 0.7, 0.8
    before it); a cut from an orange picture to a grey one ~0.67.
    """
    moved = _chromaticity_moves(before, after)
    return 0.0 if moved is None else float(np.abs(moved.mean(axis=0)).sum())


def _chromaticity_moves(before: np.ndarray, after: np.ndarray) -> np.ndarray | None:
    """How far each pixel lit in both frames moved in chromaticity; None with under 16."""
    b, a = before.astype(np.float32), after.astype(np.float32)
    sum_b, sum_a = b.sum(axis=2), a.sum(axis=2)
    lit = (sum_b > 3 * BLACK_LEVEL) & (sum_a > 3 * BLACK_LEVEL)
    if lit.sum() < 16:
        return None
    return a[lit] / sum_a[lit][:, None] - b[lit] / sum_b[lit][:, None]


def global_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(dx, dy) in pixels that moves tiny frame ``a`` onto ``b``: phase correlation of the greys."""
    grey_a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    grey_b = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
    (dx, dy), _ = cv2.phaseCorrelate(grey_a, grey_b)
    return float(dx), float(dy)
