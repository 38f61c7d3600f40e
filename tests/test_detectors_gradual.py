"""The dissolve detector under camera motion, and the distractors it must not cut at.

Synthetic frames (no encoding) at the detection size: smooth colour textures filmed by a camera
that pans diagonally at about 1 px per frame (a slow move, as in the structure benchmark's films)
while dissolves of 8, 24 and 48 frames mix them. Texture seeds 930-951 chose no parameter.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from media import colour_gradient, smooth_texture

from trajectory.detectors.base import (
    TinyFrames,
    aligned_detail_agreement,
    detail_agreement,
    detail_blocks,
    distance,
    featureless,
    followed_share,
    moved,
    refined_shift,
    relit,
    step_shift,
    textured,
    tiny,
    tracked_share,
)
from trajectory.detectors.gradual import (
    DETAIL_BLOCKS_MIN,
    DETAIL_DIFFERENT_MAX,
    DETAIL_LEVEL_MIN,
    DissolveDetector,
    _details_differ,
    _featureless_relit,
    _holds_cut,
    _is_mixture,
    _same_picture,
    _swept,
)
from trajectory.detectors.hard import HardCutDetector
from trajectory.shots import ShotDetector

FPS = 24
SIZE = (256, 144)


def texture(seed: int) -> np.ndarray:
    """A smooth random colour texture three times the frame size, uint8 BGR."""
    return smooth_texture(seed, SIZE, 3)


def camera(canvas: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Frames of the canvas seen from top-left ``offsets`` (k, 2) in pixels, one per row."""
    frames = []
    for x, y in offsets:
        matrix = np.float32([[1, 0, -x], [0, 1, -y]])
        frames.append(cv2.warpAffine(canvas, matrix, SIZE, borderMode=cv2.BORDER_REFLECT))
    return frames


def moving(count: int, velocity: tuple[float, float], start=(200.0, 120.0)) -> np.ndarray:
    """Camera offsets (count, 2) of a steady move at ``velocity`` px per frame."""
    return np.asarray(start) + np.arange(count)[:, None] * np.asarray(velocity)


def all_detectors(frames: list[np.ndarray]) -> list:
    """The cuts of every fast detector together (hard cuts, fades, dissolves), as ``analyze``."""
    detector = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        detector.process(k / FPS, frame)
    detector.finish()
    return detector.cuts


def run(frames: list[np.ndarray]) -> list[int]:
    """Frame numbers of the dissolve detector's cuts."""
    detector, cuts = DissolveDetector(), []
    for k, frame in enumerate(frames):
        cuts += detector.process_frame(k / FPS, frame)
    cuts += detector.post_process()
    return [round(c.time_s * FPS) for c in cuts]


@pytest.mark.parametrize("length", [8, 24, 48])
def test_dissolve_under_camera_motion_is_found_at_its_middle(length):
    before, after = 70, 70
    outgoing = camera(texture(930 + length), moving(before + length, (1.1, 0.4)))
    incoming = camera(texture(931 + length), moving(length + after, (-0.8, 0.5), (300, 60)))
    mixed = [
        cv2.addWeighted(a, 1 - w, b, w, 0)
        for k, (a, b) in enumerate(zip(outgoing[before:], incoming[:length]))
        for w in [(k + 1) / (length + 1)]
    ]
    frames = outgoing[:before] + mixed + incoming[length:]
    cuts = run(frames)
    assert len(cuts) == 1, cuts
    assert before <= cuts[0] < before + length  # inside the dissolve
    assert abs(cuts[0] - (before + length // 2)) <= max(2, length // 6)  # near its middle


def distracted_shot(seed: int) -> list[np.ndarray]:
    """One 10 s shot under a steady pan with a flash, a lamp and a whip pan in it."""
    offsets = moving(240, (0.9, -0.3))
    swing = np.clip((np.arange(240) - 150) / 8, 0, 1)  # an 8-frame whip pan of 200 px
    offsets[:, 0] += 200 * (1 - np.cos(np.pi * swing)) / 2
    frames = camera(texture(seed), offsets)
    for k in range(150, 158):  # motion blur as long as the swing's step
        step = int(abs(offsets[k + 1, 0] - offsets[k, 0]))
        frames[k] = cv2.blur(frames[k], (max(step, 1), 1))
    for k in (40, 41):  # a 2-frame flash, full white
        frames[k] = np.full_like(frames[k], 255)
    frames[:90] = [cv2.convertScaleAbs(f, alpha=0.5) for f in frames[:90]]  # lamp at 90
    return frames


@pytest.mark.parametrize("seed", [940, 941])
def test_flash_lamp_and_whip_pan_under_camera_motion_make_no_dissolve(seed):
    assert run(distracted_shot(seed)) == []


def soft_texture(seed: int) -> np.ndarray:
    """A low-contrast colour texture with fine grey detail, three times the frame size (BGR)."""
    rng = np.random.default_rng(seed)
    layout = rng.normal(0, 1, (27, 48, 3)).astype(np.float32)
    layout = cv2.resize(layout, (SIZE[0] * 3, SIZE[1] * 3), interpolation=cv2.INTER_CUBIC)
    detail = cv2.GaussianBlur(
        rng.normal(0, 1, (SIZE[1] * 3, SIZE[0] * 3)).astype(np.float32), (0, 0), 3
    )
    base = rng.uniform(80, 170, 3).astype(np.float32)
    return np.clip(base + 8 * layout + 30 * detail[..., None], 0, 255).astype(np.uint8)


def spot_lamp_switched_off(seed: int, at: int = 60) -> list[np.ndarray]:
    """A slow pan over a soft place whose lamp goes off over 5 frames from ``at``.

    The lamp lit a soft disc fully and the rest by half; off, the picture keeps 35% of its
    light. A global gain and offset fit the change poorly (the disc dims more than the rest),
    so only the smooth gain field tells it from a dissolve to a dark place.
    """
    rng = np.random.default_rng(seed)
    frames = camera(soft_texture(seed), moving(140, (0.6, -0.4)))
    yy, xx = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    cx, cy = rng.uniform(0.25, 0.75) * SIZE[0], rng.uniform(0.25, 0.75) * SIZE[1]
    disc = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.25 * SIZE[0]) ** 2))[..., None]
    lit_frames = []
    for k, frame in enumerate(frames):
        lit = 1 - float(np.clip((k - at + 1) / 6, 0, 1))
        gain = 0.35 + 0.65 * lit * (0.5 + 0.5 * disc)
        grain = rng.normal(0, 3, frame.shape[:2])[..., None]
        lit_frames.append(np.clip(frame * gain + grain, 0, 255).astype(np.uint8))
    return lit_frames


@pytest.mark.parametrize("seed", [950, 951])
def test_spot_lamp_switched_off_makes_no_dissolve(seed):
    assert run(spot_lamp_switched_off(seed)) == []


def zooming_camera(canvas: np.ndarray, speeds: np.ndarray, zoom_rates: np.ndarray) -> list:
    """Frames of a camera moving diagonally at ``speeds`` (px/frame) and zooming by ``zoom_rates``
    (share per frame), with grain."""
    rng = np.random.default_rng(0)
    frames, x, y, zoom = [], 250.0, 140.0, 1.0
    for speed, rate in zip(speeds, zoom_rates):
        x, y, zoom = x + 0.9 * speed, y + 0.4 * speed, zoom * (1 + rate)
        matrix = np.float32([[zoom, 0, -x * zoom], [0, zoom, -y * zoom]])
        frame = cv2.warpAffine(canvas, matrix, SIZE, borderMode=cv2.BORDER_REFLECT)
        frames.append(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    return frames


@pytest.mark.parametrize("seed", [980, 981])
def test_camera_speeding_up_over_a_smooth_gradient_makes_no_dissolve(seed):
    """Over smooth colour bands a moving picture is locally a mix of where it starts and ends,
    and phase correlation finds no shift: only the camera's path, tracked frame to frame,
    tells the move from a dissolve. Here the camera pans 10x faster and zooms for 30 frames."""
    fast = (np.arange(150) >= 50) & (np.arange(150) < 80)
    frames = zooming_camera(
        colour_gradient(seed, SIZE, 3), np.where(fast, 3.0, 0.3), np.where(fast, 0.004, 0.0)
    )
    assert run(frames) == []


@pytest.mark.parametrize("seed", [982, 983])
def test_whip_pan_over_a_smooth_gradient_makes_no_cut(seed):
    """A 10-frame swing of 240 px with motion blur, over colour bands, through every fast
    detector (hard cuts, fades, dissolves)."""
    offsets = moving(150, (0.5, 0.2))
    swing = np.clip((np.arange(150) - 70) / 10, 0, 1)
    offsets[:, 0] += 240 * (1 - np.cos(np.pi * swing)) / 2
    frames = camera(colour_gradient(seed, SIZE, 3), offsets)
    for k in range(70, 80):
        step = int(abs(offsets[k + 1, 0] - offsets[k, 0]))
        frames[k] = cv2.blur(frames[k], (max(step, 1), 1))
    assert all_detectors(frames) == []


def two_views(canvas: np.ndarray, shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Tiny copies of two views of the canvas ``shift`` tiny pixels apart (4x at 256 px)."""
    return tuple(
        tiny(camera(canvas, np.array([[200.0 - 4 * dx, 120.0 - 4 * dy]]))[0])
        for dx, dy in ((0.0, 0.0), shift)
    )


@pytest.mark.parametrize("shift", [(0.4, 0.2), (1.5, -0.7), (6.0, -3.0), (-3.0, 2.0)])
def test_step_shift_finds_the_camera_move_over_a_texture(shift):
    """Within 0.15 px (errors measured on 40 texture seeds: <= 0.01 px)."""
    first, second = two_views(texture(985), shift)
    found = step_shift(first, second)
    assert np.hypot(found[0] - shift[0], found[1] - shift[1]) < 0.15


@pytest.mark.parametrize("shift", [(0.4, 0.2), (1.5, -0.7), (-0.8, -1.2)])
def test_step_shift_explains_a_small_move_over_colour_bands(shift):
    """No picture shows a shift along the bands, so the shift found need not be the true one:
    moved by it, the first view must match the second as well as the true move makes it
    (within 0.5 levels; measured on 40 seeds: within 0.08). Steps of 3-6 tiny pixels over
    bands are not always followed (6 of 20 seeds missed one) and are not asserted."""
    first, second = two_views(colour_gradient(984, SIZE, 3), shift)
    found = step_shift(first, second)
    inner = (slice(6, -6), slice(10, -10))
    left = np.abs(moved(first, found) - second)[inner].mean()
    floor = np.abs(moved(first, shift) - second)[inner].mean()  # the true move's resampling
    assert left <= floor + 0.5


@pytest.mark.parametrize("seed", [984, 989, 992])
@pytest.mark.parametrize("shift", [(5.0, 5.0), (-5.0, -5.0)])
def test_refined_shift_makes_up_a_camera_path_that_came_out_short(shift, seed):
    """A path tracked over colour bands step by step can fall short of the camera's move (one
    third short here); corrected from the window's ends, the first view moved by it matches the
    second within 0.8 levels of the true move (measured on 10 seeds: within 0.4; bands show no
    move along them, so the shift found need not be the true one), where the short path leaves
    over 4 levels (measured: 9-20)."""
    first, second = two_views(colour_gradient(seed, SIZE, 3), shift)
    short = (2 * shift[0] / 3, 2 * shift[1] / 3)
    found = refined_shift(first, second, short, reach=6.0)
    inner = (slice(6, -6), slice(10, -10))
    floor = np.abs(moved(first, shift) - second)[inner].mean()  # the true move's resampling
    assert np.abs(moved(first, short) - second)[inner].mean() > floor + 4.0
    assert np.abs(moved(first, found) - second)[inner].mean() <= floor + 0.8


@pytest.mark.parametrize("seed", [984, 987, 989])
def test_step_shift_follows_the_camera_not_a_disc_crossing_colour_bands(seed):
    """A disc moving 3 tiny pixels on its own while the bands move (1.5, 1.0): off the disc,
    the first view moved by the shift found matches the second within 0.5 levels of the true
    move (measured on 10 seeds: within 0.11; a plain least-squares fit, pulled by the disc's
    edges, left 1.6-12 levels)."""
    canvas = colour_gradient(seed, SIZE, 3)
    shift = (1.5, 1.0)
    first, second = (
        camera(canvas, np.array([[200.0 - 4 * dx, 120.0 - 4 * dy]]))[0]
        for dx, dy in ((0.0, 0.0), shift)
    )
    for frame, x in ((first, 110), (second, 98)):
        cv2.circle(frame, (x, 70), 14, (230, 230, 90), -1, cv2.LINE_AA)
    first, second = tiny(first), tiny(second)
    found = step_shift(first, second)
    rows, columns = np.mgrid[0:36, 0:64]
    off_disc = np.ones((36, 64), dtype=bool)
    for x in (110, 98):
        off_disc &= (columns - x / 4) ** 2 + (rows - 70 / 4) ** 2 > 6**2
    inner = (slice(6, -6), slice(10, -10))
    left = np.abs(moved(first, found) - second)[inner][off_disc[inner]].mean()
    floor = np.abs(moved(first, shift) - second)[inner][off_disc[inner]].mean()
    assert left <= floor + 0.5


def tilted_colour_bands(seed: int) -> np.ndarray:
    """Smooth colour bands three times the frame size, each channel a sine of its own oblique
    direction and a period of 1.5-6 frame widths (the throughput benchmark's gradients)."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0 : 3 * SIZE[1], 0 : 3 * SIZE[0]].astype(np.float32)
    a, b = rng.uniform(0, 2 * np.pi, 2)
    channels = [
        127 + 120 * np.sin(columns / rng.uniform(60, 240) + rows / rng.uniform(60, 240) + phase)
        for phase in (a, b, a + b)
    ]
    return np.clip(np.dstack(channels), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_pan_over_colour_bands_with_a_disc_crossing_makes_no_dissolve(seed):
    """A 70-frame shot between two cuts: the camera pans 1.5 px a frame and zooms out over
    smooth bands while a disc crosses at 2.5 px a frame. The disc's edges pulled the camera
    path tracked frame to frame off the pan, and the shot passed as a dissolve (5 of 8 seeds
    before the robust fit, these three among them; 0 of 8 with it)."""
    rng = np.random.default_rng(seed)
    outgoing, incoming = texture(seed + 100), texture(seed + 200)
    frames = camera(outgoing, moving(40, (0.3, 0.0), (100.0, 100.0)))
    bands, x, y, zoom = tilted_colour_bands(seed), 200.0, 120.0, 1.0
    for k in range(70):
        x, y, zoom = x + 1.2, y + 0.9, zoom * 0.998
        matrix = np.float32([[zoom, 0, -x * zoom], [0, zoom, -y * zoom]])
        frame = cv2.warpAffine(bands, matrix, SIZE, borderMode=cv2.BORDER_REFLECT)
        cv2.circle(frame, (int(40 + 2.5 * k) % SIZE[0], 50), 12, (200, 160, 120), -1, cv2.LINE_AA)
        frames.append(frame)
    frames += camera(incoming, moving(40, (0.3, 0.0), (100.0, 100.0)))
    frames = [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in frames]
    assert run(frames) == []


def hue_wheel_bands(seed: int) -> np.ndarray:
    """Colour bands three times the frame size whose channels are one oblique sine a third of a
    turn apart: the hue turns across the picture at one grey level (the channels' mean), as a
    red sky turns blue."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0 : 3 * SIZE[1], 0 : 3 * SIZE[0]].astype(np.float32)
    across = columns / rng.uniform(60, 240) + rows / rng.uniform(60, 240) + rng.uniform(0, 7)
    channels = [127 + 120 * np.sin(across + k * 2 * np.pi / 3) for k in range(3)]
    return np.clip(np.dstack(channels), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_followed_share_leaves_out_a_disc_crossing_a_pan_over_hue_bands(seed):
    """The camera pans (12, 6) px over hue bands while a disc moves 92 px on its own. In grey
    the disc makes nearly all the change, and the true move seems to leave 0.9-1.0 of it;
    where the picture follows the camera, under 0.05 (8 seeds). Two places leave 0.97-1.0."""
    first, last = (
        frame.copy()
        for frame in camera(hue_wheel_bands(seed), np.array([[200.0, 120.0], [212.0, 126.0]]))
    )
    cv2.circle(first, (60, 60), 14, (90, 230, 90), -1, cv2.LINE_AA)
    cv2.circle(last, (150, 80), 14, (90, 230, 90), -1, cv2.LINE_AA)
    first, last = tiny(first), tiny(last)
    move = (-3.0, -1.5)  # tiny pixels
    assert tracked_share(first, last, move) > 0.8
    assert followed_share(first, last, move) < 0.2
    place, other = (tiny(texture(seed + k)[:144, :256]) for k in (300, 400))
    assert followed_share(place, other, (3.0, 2.0)) > 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_disc_that_crossed_colour_bands_on_its_own_makes_no_second_place(seed):
    """The ends of a shot panning over colour bands whose only fine detail is a disc that moved
    on its own (the throughput benchmark's false dissolve on seed 505): where the disc sits on
    a corner of the detail grid, its edges give detail to 4 blocks, but those lie in one 2x2
    square, which one object fills; the details then make no two places."""
    first, last = (
        view.copy()
        for view in camera(tilted_colour_bands(seed), np.array([[200.0, 120.0], [206.0, 124.0]]))
    )
    for view, centre in ((first, (80, 52)), (last, (176, 88))):  # corners of the grid
        cv2.circle(view, centre, 12, (200, 90, 200), -1, cv2.LINE_AA)
        cv2.circle(view, centre, 12, (0, 0, 0), 2, cv2.LINE_AA)  # an edge on any bands
    first, last = tiny(first), tiny(last)
    for end in (first, last):
        blocks = detail_blocks(end)
        assert sum(block.std() >= DETAIL_LEVEL_MIN for block in blocks) == 4
        assert not textured(blocks, DETAIL_LEVEL_MIN, DETAIL_BLOCKS_MIN)
    assert not _details_differ(first, last)


def test_textured_asks_for_detail_beyond_one_2x2_square_of_blocks():
    """Detail in blocks spread over the grid is a place's texture; in one 2x2 square, one object."""
    level = 1.0
    flat, rough = np.zeros((9, 12)), np.tile([0.0, 4.0], (9, 6))

    def blocks(detailed: set[int]) -> list[np.ndarray]:
        return [rough if i in detailed else flat for i in range(12)]

    assert textured(blocks({0, 1, 4, 5}), level, 3) is False  # rows 0-1, columns 0-1
    assert textured(blocks({0, 1, 2}), level, 3) is True  # three columns
    assert textured(blocks({1, 5, 9}), level, 3) is True  # three rows
    assert textured(blocks({0, 11}), level, 3) is False  # too few
    assert textured(blocks({0, 11}), level, 2) is True


def flat_texture(seed: int, contrast: float) -> np.ndarray:
    """A grey low-contrast texture at the frame size: ``contrast`` levels (std) around 90."""
    texture_grey = smooth_texture(seed, SIZE, 1).astype(np.float32).mean(axis=2, keepdims=True)
    scaled = (texture_grey - texture_grey.mean()) / max(float(texture_grey.std()), 1e-6)
    return np.repeat(scaled * contrast + 90, 3, axis=2)


def spot_gains() -> np.ndarray:
    """A spot lamp's gains over the frame: 1.2 far from it, up to 1.8 at it; (h, w, 1)."""
    rows, columns = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    spot = np.exp(-((columns - 80) ** 2 + (rows - 50) ** 2) / (2 * 90.0**2))[..., None]
    return 1.2 + 0.6 * spot


def filmed_flat(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The tiny copy of ``picture`` filmed with grey grain of 2 levels."""
    return tiny(np.clip(picture + rng.normal(0, 2, picture.shape), 0, 255).astype(np.uint8))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_lamp_over_a_featureless_place_is_one_place_and_another_flat_place_is_not(seed):
    """Both ends without detail above grain (the second style's flat textures, where lamps
    passed as 8-frame dissolves: 6011, 7097, 7208): a spot lamp leaves 0.05 of the change to a
    smooth light, another flat texture 0.6-0.8 (40 seeds; the lit frame's detail stays under
    1.3 levels)."""
    rng = np.random.default_rng(seed)
    place, other = flat_texture(seed, 0.8), flat_texture(seed + 50, 0.8)
    before = filmed_flat(place, rng)
    assert _featureless_relit(before, filmed_flat(place * spot_gains(), rng))
    assert not _featureless_relit(before, filmed_flat(other, rng))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_gain_field_alone_gives_a_spot_lamps_gain_over_a_featureless_place(seed):
    """A flat texture lit by a spot (gains 1.2 at the far corner to 1.8 at the spot): the
    field fitted without an offset brackets those gains; a fit with one trades the field's
    level against the offset on a nearly constant picture."""
    rng = np.random.default_rng(seed)
    place, gains = flat_texture(seed, 0.8), spot_gains()
    before, after = filmed_flat(place, rng), filmed_flat(place * gains, rng)
    gains = gains[8:-8:4, 8:-8:4]  # over the tiny frame's grid, roughly
    assert featureless(before) and featureless(after)
    low, high, left = relit(before, after, offset=False)
    assert abs(low - float(gains.min())) < 0.1 and abs(high - float(gains.max())) < 0.1
    assert left < 0.15


def test_refined_shift_moves_the_path_no_further_than_its_reach():
    """Between two different places the fit from the ends can run anywhere: it is bounded."""
    first, second = tiny(texture(988)[:144, :256]), tiny(texture(989)[:144, :256])
    found = refined_shift(first, second, (1.0, -2.0), reach=1.5)
    assert abs(found[0] - 1.0) <= 1.5 + 1e-9 and abs(found[1] + 2.0) <= 1.5 + 1e-9


def test_gentle_spot_lamp_that_leaves_part_of_the_picture_as_it_was_makes_no_cut():
    """A lamp switched on at once that brightens one side by 35% and leaves the other side as it
    was: a smooth gain field of one sign, though not every part brightens by 10%."""
    frames = camera(soft_texture(960), moving(120, (0.3, 0.1)))
    ramp = np.linspace(1.0, 1.35, SIZE[0], dtype=np.float32)[None, :, None]
    rng = np.random.default_rng(960)
    lit = []
    for k, frame in enumerate(frames):
        gain = ramp if k >= 60 else 1.0
        grain = rng.normal(0, 2, frame.shape[:2])[..., None]
        lit.append(np.clip(frame * gain + grain, 0, 255).astype(np.uint8))
    assert all_detectors(lit) == []


def test_whip_pan_that_stops_at_once_makes_no_cut():
    """A 6-frame diagonal swing at 14 px per frame with motion blur that stops dead: its last
    step is as large as a cut's, but the camera's path tracked frame to frame explains it."""
    offsets = moving(120, (0.2, 0.1))
    swing = np.clip(np.arange(120) - 60, 0, 6)
    offsets += swing[:, None] * np.array([[-10.0, 10.0]])
    frames = camera(texture(961), offsets)
    for k in range(60, 66):
        frames[k] = cv2.filter2D(frames[k], -1, np.eye(11, dtype=np.float32)[::-1] / 11)
    assert all_detectors(frames) == []


def held(frames: list[np.ndarray]) -> TinyFrames:
    """The frames' tiny copies, as the dissolve detector holds them."""
    copies = TinyFrames(len(frames))
    for k, frame in enumerate(frames):
        copies.add(k / FPS, tiny(frame))
    return copies


def cross_fade(outgoing: list[np.ndarray], incoming: list[np.ndarray]) -> list[np.ndarray]:
    """A linear dissolve from the first of ``outgoing`` to the last of ``incoming``, frame by
    frame (both lists as long)."""
    last = len(outgoing) - 1
    return [
        cv2.addWeighted(a, 1 - k / last, b, k / last, 0)
        for k, (a, b) in enumerate(zip(outgoing, incoming))
    ]


def test_a_window_holding_a_cut_is_no_dissolve_and_a_dissolve_holds_none():
    """A lamp switched on, then a hard cut 30 frames later: the frames between lie between the
    window's ends, but one step makes much of the change. A 48-frame dissolve spreads it."""
    place, other = texture(962), texture(963)
    shot = camera(place, moving(60, (0.3, 0.1)))
    lamp_then_cut = [cv2.convertScaleAbs(f, alpha=0.6) for f in shot[:10]] + shot[10:40]
    lamp_then_cut += camera(other, moving(20, (0.3, 0.1)))
    frames = held(lamp_then_cut)
    assert _holds_cut(frames, 5, 55, distance(frames[5], frames[55]), {})
    frames = held(cross_fade(shot, camera(other, moving(60, (0.3, 0.1)))))
    assert not _holds_cut(frames, 5, 55, distance(frames[5], frames[55]), {})


def test_a_pause_between_two_changes_is_no_dissolve_however_its_frames_fit():
    """Two quick changes with a still picture between them (a short dissolve, then a lamp) can
    put the still frames near the window's 1/4 and 1/2 places as mixtures; but the weight does
    not rise between them. A 48-frame dissolve's rises steadily."""
    still = (0, 0)
    a, b = camera(texture(966), moving(49, still)), camera(texture(967), moving(49, still))
    pause = cv2.addWeighted(a[0], 0.62, b[0], 0.38, 0)
    paused = a[:6] + cross_fade(a[6:11], [pause] * 5) + [pause] * 19
    paused += cross_fade([pause] * 11, b[30:41]) + b[41:]
    velocities = (np.zeros(2), np.zeros(2))
    assert not _is_mixture(held(paused), 0, 48, velocities)
    assert _is_mixture(held(cross_fade(a, b)), 0, 48, velocities)


@pytest.mark.parametrize("seed", [964, 965])
def test_whip_pan_window_is_swept_along_the_tracked_path_and_a_dissolve_is_not(seed):
    """An 8-frame vertical swing of 16 px per frame with motion blur (the picture leaves the
    frame): the camera's tracked path explains the window's first and last quarters. A
    dissolve's quarters are mixtures that no path explains."""
    offsets = moving(40, (0.2, 0.1))
    offsets[:, 1] += 16 * np.clip(np.arange(40) - 10, 0, 8)
    swing = camera(texture(seed), offsets)
    swing[11:18] = [cv2.blur(frame, (1, 16)) for frame in swing[11:18]]  # motion blur
    frames = held(swing)
    assert _swept(frames, 10, 18, {})
    outgoing = camera(texture(seed), moving(40, (0.2, 0.1)))
    frames = held(cross_fade(outgoing, camera(texture(seed + 10), moving(40, (-0.3, 0.2)))))
    assert not _swept(frames, 10, 30, {})


def test_whip_pan_step_is_tracked_as_a_swing_and_a_cut_is_not():
    """The hard-cut detector's tracked-swing test: the last step of a swing of 16 px per frame,
    its neighbour moving the same way, is a swing; a cut to another place during a slow pan is
    not. (Over smooth colour bands ``step_shift`` does not follow steps this large: see the
    README's known limits.)"""
    offsets = moving(30, (0.2, 0.1))
    offsets[:, 1] += 16 * np.clip(np.arange(30) - 10, 0, 6)
    swing = camera(texture(966), offsets)
    slow = moving(30, (0.2, 0.1))
    cut = camera(texture(966), slow)[:16] + camera(texture(967), slow)[16:]
    verdicts = []
    for frames in (swing, cut):
        detector = HardCutDetector(Fraction(FPS), 0.6)
        for k, frame in enumerate(frames):
            detector.process_frame(k / FPS, frame)
        verdicts.append(detector._swing_tracked(16))
    assert verdicts == [True, False]


def handheld(count: int, seed: int) -> np.ndarray:
    """Camera offsets (count, 2) of a handheld pan: its speed swings by half either way over
    about 1.5 s and a shake of 3 px rides on it, so no steady shift carries a frame far."""
    rng = np.random.default_rng(seed)
    k = np.arange(count)[:, None]
    speed = np.array([2.0, -0.8]) * (1 + 0.5 * np.sin(2 * np.pi * k / 37 + rng.uniform(0, 6, 2)))
    shake = 3 * np.sin(2 * np.pi * k / 11 + rng.uniform(0, 6, 2))
    return np.array([200.0, 150.0]) + np.cumsum(speed, axis=0) + shake


@pytest.mark.parametrize(("seed", "length"), [(970, 40), (971, 48), (975, 40)])
def test_long_dissolve_from_a_handheld_shot_to_a_smooth_one_is_found_once(seed, length):
    """The outgoing shot's extrapolated place drifts a few pixels over a long dissolve, and its
    motion before the window is no steady shift: the mixture is refitted with both pictures
    realigned, and the camera's tracked path undoes the motion outside. One cut, inside."""
    before, after = 70, 70
    outgoing = camera(texture(seed), handheld(before + length, seed))
    smooth = cv2.GaussianBlur(soft_texture(seed + 50), (0, 0), 12)
    incoming = camera(smooth, moving(length + after, (0.3, 0.1)))
    mixed = [
        cv2.addWeighted(a, 1 - w, b, w, 0)
        for k, (a, b) in enumerate(zip(outgoing[before:], incoming[:length]))
        for w in [(k + 1) / (length + 1)]
    ]
    rng = np.random.default_rng(seed)
    frames = [
        np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8)
        for f in outgoing[:before] + mixed + incoming[length:]
    ]
    cuts = run(frames)
    assert len(cuts) == 1, cuts
    assert before <= cuts[0] < before + length


def spot_lamp_under_handheld_camera(seed: int, at: int = 80) -> list[np.ndarray]:
    """A handheld pan over a place at 40-60% light whose spot lamp rises over 6 frames from
    ``at``: the spot fully lit, the rest 30% of the way."""
    rng = np.random.default_rng(seed)
    frames = camera(texture(seed), handheld(160, seed))
    height, width = frames[0].shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.4 * width) ** 2))[..., None]
    dim = rng.uniform(0.4, 0.6)
    lit = []
    for k, frame in enumerate(frames):
        rise = np.clip((k - at + 1) / 7, 0, 1)
        gain = dim + rise * (1 - dim) * (spot + 0.3 * (1 - spot))
        lit.append(np.clip(frame * gain, 0, 255).astype(np.uint8))
    return lit


@pytest.mark.parametrize("seed", [985, 986, 990])  # of 980-999, ones c0f088f cut at the lamp
def test_spot_lamp_rising_under_a_handheld_camera_makes_no_dissolve(seed):
    """The steady shift measured outside the lamp's windows leaves their ends out of register
    and the relit place passes for another; carried along the tracked path it is the same."""
    assert run(spot_lamp_under_handheld_camera(seed)) == []


def grey_and_red(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A bright, flat grey place and a darker, unrelated one, red in parts and white in others.

    A gain and an offset map the flat grey place onto the other's mean with a small residual,
    as they map a place onto itself under a dimmer light."""

    def layout(k: int) -> np.ndarray:
        grey = cv2.cvtColor(smooth_texture(k, SIZE, 3), cv2.COLOR_BGR2GRAY).astype(np.float32)
        return (grey - grey.mean()) / grey.std()

    bright = np.clip(205 + 8 * layout(seed), 0, 255)
    shade = np.clip(95 + 22 * layout(seed + 1), 0, 255)
    red = (layout(seed + 2) > 0).astype(np.float32)[..., None]
    tint = red * np.float32([0.45, 0.55, 1.5]) + (1 - red)  # B, G, R gains: red parts, white
    coloured = np.clip(shade[..., None] * tint, 0, 255).astype(np.uint8)
    return np.dstack([bright] * 3).astype(np.uint8), coloured


def mixed_over(first: np.ndarray, second: np.ndarray, length: int) -> list[np.ndarray]:
    """70 frames of ``first``, a ``length``-frame dissolve, 70 frames of ``second``, under one
    slow pan."""
    path = moving(140 + length, (0.6, 0.2))
    a, b = camera(first, path), camera(second, path)
    weights = [(k + 1) / (length + 1) for k in range(length)]
    mixed = [cv2.addWeighted(a[70 + k], 1 - w, b[70 + k], w, 0) for k, w in enumerate(weights)]
    return a[:70] + mixed + b[70 + length :]


@pytest.mark.parametrize("length", [12, 24])
@pytest.mark.parametrize("seed", [970, 975])
def test_dissolve_from_a_flat_grey_place_into_a_red_one_is_no_lamp(seed, length):
    """The ends fit one picture under a dimmer light in grey levels, but a light keeps colours
    but for one tint, and this one recolours part by part (a bright blurred grey clock into a
    red coffee cup was missed so; these seeds were missed before the colour check). The same
    grey place dimmed under a warm light stays no dissolve."""
    grey, red = grey_and_red(seed)
    assert run(mixed_over(grey, red, length)) == [70 + length // 2]
    warm = np.clip(grey * 0.45 * np.float32([0.7, 0.9, 1.3]), 0, 255).astype(np.uint8)
    assert run(mixed_over(grey, warm, length)) == []


def fine_grain_detail(seed: int) -> np.ndarray:
    """Unit-variance grey detail on a 48 x 84 grid, bicubic-upsampled to three frames' size."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (48, 84)).astype(np.float32)
    noise = cv2.resize(noise, (SIZE[0] * 3, SIZE[1] * 3), interpolation=cv2.INTER_CUBIC)
    return noise / noise.std()


def two_places_under_one_light(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two places with unrelated fine detail, each lit by one soft patch near the same spot.

    The second is darker and its patch sits a little off the first's: a gain and offset map
    one place onto the other with under 10% of the change left, and their layouts correlate
    (R^2 > 0.8), as for a retina dissolving into a night sky with the light in one corner."""
    height, width = SIZE[1] * 3, SIZE[0] * 3
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    first_light = np.exp(-(((xx - cx) / (0.5 * width)) ** 2 + ((yy - cy) / (0.5 * height)) ** 2))
    cx, cy = cx + rng.uniform(-0.1, 0.1) * width, cy + rng.uniform(-0.1, 0.1) * height
    second_light = np.exp(-(((xx - cx) / (0.6 * width)) ** 2 + ((yy - cy) / (0.45 * height)) ** 2))
    first = first_light * (200 + 6 * fine_grain_detail(seed + 1)) + 20
    second = second_light * (140 + 6 * fine_grain_detail(seed + 2)) + 15
    warm, cool = np.float32([0.8, 0.9, 1.15]), np.float32([1.1, 0.95, 0.85])  # B, G, R gains
    return (
        np.clip(first[..., None] * warm, 0, 255).astype(np.uint8),
        np.clip(second[..., None] * cool, 0, 255).astype(np.uint8),
    )


@pytest.mark.parametrize("length", [24, 48])
@pytest.mark.parametrize("seed", [990, 991, 994, 996])
def test_dissolve_between_two_places_lit_alike_is_found_by_their_detail(seed, length):
    """Exposure and layout say one place relit, and as the lit patch slides from one place's
    spot to the other's the camera tracker follows it as a pan; the fine detail (3 grey levels,
    well above grain) says two places, and wins. All were missed before the detail check (with
    it on exposure and layout alone, 991 and 994 still were, to the tracked path)."""
    first, second = two_places_under_one_light(seed)
    found = run(mixed_over(first, second, length))
    assert len(found) == 1 and abs(found[0] - (70 + length // 2)) <= 1


@pytest.mark.parametrize("seed", [990, 996, 931, 940])
def test_aligned_detail_agreement_follows_a_zoom(seed):
    """After zooms of 4-12% with shifts of 1-8 px the fine detail agrees near 1 once aligned
    (a shift alone leaves the 12% zoom's at 0.36-0.44), and a disc moving on its own over the
    place spoils only the blocks it crosses."""
    first, _ = two_places_under_one_light(seed)
    view = tiny(first[144:288, 256:512])
    assert sum(block.std() >= 1.8 for block in detail_blocks(view)) >= 10
    for zoom, shift in [(1.04, 1), (1.07, 2), (0.92, 6), (1.12, 8)]:
        matrix = np.float32([[zoom, 0, -256 * zoom - shift], [0, zoom, -144 * zoom - shift / 2]])
        zoomed = tiny(cv2.warpAffine(first, matrix, SIZE, borderMode=cv2.BORDER_REFLECT))
        assert aligned_detail_agreement(view, zoomed, 1.8) > 0.75
    assert detail_agreement(moved(view, step_shift(view, zoomed)), zoomed, 1.8) < 0.6  # 12%
    with_disc = first[144:288, 256:512].copy()
    cv2.circle(with_disc, (40, 30), 14, (255, 200, 230), -1, cv2.LINE_AA)
    assert detail_agreement(view, tiny(with_disc), 1.8) > 0.9


@pytest.mark.parametrize("seed", [931, 994])
def test_aligned_detail_agreement_tells_two_places_apart(seed):
    """Two unrelated textures stay under the detector's limit (0.3) however aligned, both
    ways. The best of the 14 alignments can agree by chance: 0.04-0.33 over 9 seeds of these
    textures, so a dissolve between two places is sometimes still taken for one (never the
    reverse); these seeds sit at 0.11-0.16 (a third, 951, at 0.13 here and 0.22 with the oldest
    supported OpenCV, was left out for that spread)."""
    first, second = two_places_under_one_light(seed)
    view, other = tiny(first[144:288, 256:512]), tiny(second[144:288, 256:512])
    assert aligned_detail_agreement(view, other, 1.8) < DETAIL_DIFFERENT_MAX
    assert aligned_detail_agreement(other, view, 1.8) < DETAIL_DIFFERENT_MAX


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_layout_at_another_contrast_without_its_detail_is_another_place(seed):
    """Second style 7210: a dark textured shot dissolving into a bright smooth gradient. Their
    layouts correlate (R^2 0.8-0.98) and a gain of 4-5 maps one onto the other, as a light
    would; but a light scales the fine detail with the picture, and here it falls (1.65 to 0.58
    levels). Here: a gain of about 2.4, the detail falling from 6.3-6.8 levels to grain; the
    same picture lit by 1.8 keeps 1.8 times its detail and stays one place."""
    rng = np.random.default_rng(seed)
    height, width = SIZE[1], SIZE[0]
    layout = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 30)
    detail = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 4)
    layout, detail = layout / layout.std(), detail / detail.std()
    dark = 60 + 8 * layout + 10 * detail

    def filmed(picture: np.ndarray) -> np.ndarray:
        grey = np.clip(picture + rng.normal(0, 2, picture.shape), 0, 255).astype(np.uint8)
        return tiny(np.repeat(grey[..., None], 3, axis=2))

    first, smooth, lit = filmed(dark), filmed(160 + 48 * layout), filmed(1.8 * dark)
    assert not _same_picture(first, smooth, distance(first, smooth))
    assert _same_picture(first, lit, distance(first, lit))
    # No light to speak of (a gain near 1): the camera moved on to a smoother part of the place
    # (third style 522: 6.4 to 2.4 levels, other detail), which stays one place.
    other = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 4)
    textured = filmed(100 + 30 * layout + 10 * detail)
    smoother = filmed(100 + 30 * layout + 3 * other / other.std())
    assert _same_picture(textured, smoother, distance(textured, smoother))


def vessels(seed: int) -> np.ndarray:
    """Thin lines across the frame (a retina's vessels), 0 to 1, (h, w, 1)."""
    rng = np.random.default_rng(seed)
    lines = np.zeros((SIZE[1], SIZE[0]), np.float32)
    for _ in range(14):
        ends = (rng.uniform(0, 1, (2, 2)) * SIZE).astype(int)
        cv2.line(lines, tuple(map(int, ends[0])), tuple(map(int, ends[1])), 1.0, 1)
    return cv2.GaussianBlur(lines, (0, 0), 0.7)[..., None]


def grainy(pictures: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The pictures filmed with grain of 2 levels, uint8."""
    rng = np.random.default_rng(seed)
    return [np.clip(p + rng.normal(0, 2, p.shape), 0, 255).astype(np.uint8) for p in pictures]


@pytest.mark.parametrize("length", [8, 24, 48])
def test_dissolve_from_a_featureless_place_into_a_textured_one_of_its_layout_is_found(length):
    """Second style 8112: a smooth grey gradient dissolving into a darker retina whose vessels
    stand well above grain. Their layouts correlate, and the gradient has no detail to compare,
    so the ends passed for one place under a dimmer light; but no light draws detail that the
    other end, at its level, would show (none of these was found before)."""
    rng = np.random.default_rng(990 + length)
    layout = cv2.GaussianBlur(rng.normal(0, 1, (SIZE[1], SIZE[0])).astype(np.float32), (0, 0), 24)
    layout = np.repeat((100 + 12 * layout / layout.std())[..., None], 3, axis=2)
    first, second = layout * 1.3, layout * 0.8 - 30 * vessels(990 + length)
    weights = [(k + 1) / (length + 1) for k in range(length)]
    pictures = [first] * 70 + [(1 - w) * first + w * second for w in weights] + [second] * 70
    assert run(grainy(pictures, length)) == [70 + length // 2]


@pytest.mark.parametrize("seed", [0, 1])
def test_focus_pull_onto_a_textured_place_makes_no_dissolve(seed):
    """Detail appearing at one end is asked of the other tests too: a lens pulling focus from
    a blur to a textured place over a second shows the same layout at one level, and its
    frames are no mixture of the ends (none of the fast detectors cuts)."""
    sharp = smooth_texture(seed, SIZE, 1).astype(np.float32) * 0.6 + 60 - 50 * vessels(seed)
    sigmas = [6.0] * 60 + [max(0.3, 6 * (1 - k / 24)) for k in range(24)] + [0.3] * 60
    pictures = [cv2.GaussianBlur(sharp, (0, 0), sigma) for sigma in sigmas]
    assert all_detectors(grainy(pictures, seed)) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dim_smooth_room_lit_to_three_times_its_level_makes_no_dissolve(seed):
    """Distractor lamp 682: a lamp raising a dim featureless room (a gradient at 45 levels,
    grain of 4) to three times its light over 6 frames, its brightest part clipping. The dark
    end's grain, scaled up to the bright end's level, passed for texture that the bright end
    should still show, so the window passed for detail appearing (a dissolve)."""
    rng = np.random.default_rng(seed)
    layout = cv2.GaussianBlur(rng.normal(0, 1, (SIZE[1], SIZE[0])).astype(np.float32), (0, 0), 24)
    dark = np.repeat((45 + 8 * layout / layout.std())[..., None], 3, axis=2)
    gains = [1.0] * 70 + [1 + 2.1 * (k + 1) / 6 for k in range(6)] + [3.1] * 70
    pictures = [np.clip(dark * gain, 0, 255) + rng.normal(0, 4, dark.shape) for gain in gains]
    frames = [np.clip(p, 0, 255).astype(np.uint8) for p in pictures]
    assert all_detectors(frames) == []


def dark_blob(seed: int) -> np.ndarray:
    """A featureless grey picture: a broad dark blob on a lighter ground, as 7336's place (about
    30 levels of contrast, no fine detail above grain), (h, w, 3) float."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    x, y = rng.uniform(0.3, 0.7) * SIZE[0], rng.uniform(0.2, 0.6) * SIZE[1]
    blob = np.exp(-((columns - x) ** 2 + (rows - y) ** 2) / (2 * 70.0**2))
    ground = 150 + 40 * (columns / SIZE[0] - 0.5) * rng.choice([-1, 1])
    return np.repeat((ground - 90 * blob)[..., None], 3, axis=2)


def flat_grey(seed: int) -> np.ndarray:
    """A nearly flat grey place a little brighter than ``dark_blob``'s mean: 128 levels with
    a faint smooth pattern of 4, (h, w, 3) float."""
    rng = np.random.default_rng(seed)
    layout = cv2.GaussianBlur(rng.normal(0, 1, (SIZE[1], SIZE[0])).astype(np.float32), (0, 0), 24)
    return np.repeat((128 + 4 * layout / layout.std())[..., None], 3, axis=2)


@pytest.mark.parametrize("length", [8, 24, 37, 48])
def test_dissolve_from_a_smooth_gradient_into_a_flat_grey_place_is_found(length):
    """Second style 7336: a grey gradient with a dark blob (30 levels of contrast) dissolving
    into a nearly flat grey place that is brighter on the whole. Neither end has detail above
    grain, and a gain field fitted with an offset makes the one the other (a field near 0 plus
    the flat place's level: no light keeps a tenth of the picture and adds the rest); a light
    only multiplies, and the field alone leaves half of the change (none was found before)."""
    first, second = dark_blob(length), flat_grey(length + 100)
    weights = [(k + 1) / (length + 1) for k in range(length)]
    pictures = [first] * 70 + [(1 - w) * first + w * second for w in weights] + [second] * 70
    cuts = run(grainy(pictures, length))
    assert len(cuts) == 1, cuts
    assert abs(cuts[0] - (70 + length // 2)) <= max(2, length // 6)


@pytest.mark.parametrize("gain", [0.55, 1.7])
@pytest.mark.parametrize("seed", [0, 1])
def test_lamp_over_a_smooth_gradient_makes_no_cut(seed, gain):
    """The control of the dissolve above: the same kind of gradient lit up, or its lamp switched
    off, over 6 frames, with grain: the field alone fits the light (no fast detector cuts)."""
    place = dark_blob(seed)
    gains = [1.0] * 70 + [1 + (gain - 1) * (k + 1) / 6 for k in range(6)] + [gain] * 70
    assert all_detectors(grainy([np.clip(place * g, 0, 255) for g in gains], seed)) == []
