"""Each shot detector on small synthetic clips fed straight in (no encoding): the cut a user
relies on is found at its frame, and flashes, lamps and camera pans make none.

Clips are slow pans over seeded random colour textures at the detection size (256x144, 24 fps);
the seeds differ from every benchmark film's.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np
import pytest
from media import colour_gradient, smooth_texture

from trajectory.detectors.base import Cut
from trajectory.detectors.fade import FadeDetector
from trajectory.detectors.gradual import DissolveDetector
from trajectory.detectors.hard import HardCutDetector
from trajectory.shots import ShotDetector, _apart_s

FPS = 24
SIZE = (256, 144)


def texture(seed: int) -> np.ndarray:
    """A smooth random colour texture twice the frame size, uint8 BGR."""
    return smooth_texture(seed, SIZE, 2)


def pan(canvas: np.ndarray, count: int, speed: float = 0.3, start: float = 0.0) -> list:
    """``count`` frames of a horizontal pan over the canvas, ``speed`` pixels per frame."""
    frames = []
    for k in range(count):
        x = start + speed * k
        matrix = np.float32([[1, 0, -x], [0, 1, -60]])
        frames.append(cv2.warpAffine(canvas, matrix, SIZE, borderMode=cv2.BORDER_REFLECT))
    return frames


def dissolve(a: list, b: list) -> list:
    """Cross-fades two equally long frame lists: frame k is (1 - w) a + w b, w = (k+1)/(n+1)."""
    n = len(a)
    weights = [(k + 1) / (n + 1) for k in range(n)]
    return [cv2.addWeighted(x, 1 - w, y, w, 0) for x, y, w in zip(a, b, weights)]


def found_cuts(detector, frames: list) -> list[Cut]:
    cuts = []
    for k, frame in enumerate(frames):
        cuts += detector.process_frame(k / FPS, frame)
    return cuts + detector.post_process()


def run(detector, frames: list) -> list:
    """The frame numbers of the cuts ``detector`` finds in ``frames``."""
    return [round(c.time_s * FPS) for c in found_cuts(detector, frames)]


@dataclass(frozen=True)
class DissolveCase:
    length: int
    seeds: tuple[int, int]


@pytest.mark.parametrize(
    "case",
    [DissolveCase(8, (901, 902)), DissolveCase(24, (903, 904)), DissolveCase(40, (905, 906))],
    ids=lambda c: f"{c.length}-frames",
)
def test_dissolve_is_found_at_its_middle(case):
    a, b = texture(case.seeds[0]), texture(case.seeds[1])
    before, after = 60, 60
    outgoing = pan(a, before + case.length)
    incoming = pan(b, case.length + after, speed=-0.25, start=200)
    frames = (
        outgoing[:before]
        + dissolve(outgoing[before:], incoming[: case.length])
        + incoming[case.length :]
    )
    middle = before + case.length // 2
    found = found_cuts(DissolveDetector(), frames)
    cuts = [round(c.time_s * FPS) for c in found]
    assert len(cuts) == 1 and abs(cuts[0] - middle) <= max(2, case.length // 8), cuts
    # Its span covers the mixed frames (left out of the shots' signatures), and the windows
    # that passed reach only a little past them (measured: a quarter of the length, less 1).
    first, last = round(found[0].start_s * FPS), round(found[0].end_s * FPS)
    reach = case.length // 2 + 4
    assert before - reach <= first <= before, (first, last)
    assert before + case.length - 1 <= last <= before + case.length - 1 + reach, (first, last)


def test_steady_pan_and_a_lamp_make_no_dissolve():
    frames = pan(texture(907), 150, speed=1.5)
    lamp = [cv2.convertScaleAbs(f, alpha=0.55) for f in frames[:75]] + frames[75:]
    assert run(DissolveDetector(), frames) == []
    assert run(DissolveDetector(), lamp) == []


def test_hard_cut_is_found_at_its_frame():
    frames = pan(texture(908), 50) + pan(texture(909), 50, speed=-0.5, start=100)
    assert run(HardCutDetector(Fraction(FPS), 0.6), frames) == [50]


def darkened(canvas: np.ndarray, detail_seed: int | None = None) -> np.ndarray:
    """The canvas under a smooth darkening field of one sign (0.35 to 0.6 across), with fine
    grey detail added when ``detail_seed`` is given."""
    height, width = canvas.shape[:2]
    field = 0.35 + 0.25 * np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    picture = canvas * field
    if detail_seed is not None:
        noise = np.random.default_rng(detail_seed).normal(0, 1, (height, width))
        picture += 25 * cv2.GaussianBlur(noise.astype(np.float32), (0, 0), 1.5)[..., None]
    return np.clip(picture, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [916, 918])
def test_cut_to_a_darker_picture_with_new_detail_is_a_cut_and_a_lamp_is_not(seed):
    """A smooth place (colour bands) cut to a picture whose smooth layout is that place under a
    smooth darkening, plus fine detail: the lamp test's gain field fits it as it fits a lamp
    switched off (a cut on the throughput benchmark's film was lost so), but no light adds
    detail that was not there. The same darkening without new detail stays a lamp."""
    canvas = colour_gradient(seed, SIZE, 2)
    detector = HardCutDetector(Fraction(FPS), 0.6)
    cut = pan(canvas, 50) + pan(darkened(canvas, seed + 1), 100)[50:]
    assert run(detector, cut) == [50]
    lamp = pan(canvas, 50) + pan(darkened(canvas), 100)[50:]
    assert run(HardCutDetector(Fraction(FPS), 0.6), lamp) == []


@pytest.mark.parametrize("seed", [958, 1002, 1018])
def test_cut_between_two_smooth_colour_places_is_a_cut_and_a_tinted_lamp_is_not(seed):
    """Between two smooth pictures a smooth gain field of one sign fits the grey levels as a
    lamp does (these seeds are ones where it does); the colours tell: a light, white or
    tinted, recolours every part alike. A warm lamp switched on over the same place stays no
    cut."""
    first, second = colour_gradient(seed, SIZE, 2), colour_gradient(seed + 1, SIZE, 2)
    cut = pan(first, 50) + pan(second, 50, speed=-0.5, start=100)
    assert run(HardCutDetector(Fraction(FPS), 0.6), cut) == [50]
    warm = np.float32([0.55, 0.7, 0.8])  # B, G, R gains of the room before the lamp
    lamp = pan(first, 100)
    lamp[:50] = [np.clip(f * warm, 0, 255).astype(np.uint8) for f in lamp[:50]]
    assert run(HardCutDetector(Fraction(FPS), 0.6), lamp) == []


def fine_grey_texture(seed: int) -> np.ndarray:
    """Grey detail a few pixels across (like gravel), three times the frame's height and six
    times its width, uint8 BGR."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (SIZE[1] * 3, SIZE[0] * 6)).astype(np.float32)
    grey = cv2.GaussianBlur(noise, (0, 0), 2.0)
    grey = np.clip(128 + 60 * grey / grey.std(), 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("speed", [20, 40])
@pytest.mark.parametrize("seed", [990, 991])
def test_smeared_whip_pan_over_fine_detail_makes_no_cut(seed, speed):
    """An 8-frame swing at constant speed, each frame blurred along the move: the smeared frames
    hardly change among themselves, so the swing's start and end are the only large changes,
    and no shift explains them (the blur removed the detail to match); the frames either side
    are a sharp picture and its line blur."""
    canvas = fine_grey_texture(seed)
    frames, x = [], 40.0
    for k in range(120):
        swinging = 50 <= k < 58
        x += speed if swinging else 0.3
        frame = cv2.warpAffine(canvas, np.float32([[1, 0, -x], [0, 1, -100]]), SIZE)
        frames.append(cv2.blur(frame, (speed, 1)) if swinging else frame)
    detector = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        detector.process(k / FPS, frame)
    detector.finish()
    assert detector.cuts == []


def held_whip(canvas: np.ndarray, step: int, direction: tuple[float, float]) -> list:
    """A whip pan whose camera stops at the end of its travel after 2 frames while the picture
    stays smeared along the swing for 8 more (a swing clamped at the edge of its world), then
    sharp again: 120 frames, the swing from frame 50."""
    dx, dy = direction
    line = np.zeros((step, step), np.float32)  # a centred line ``step`` pixels long
    for t in np.linspace(-0.5, 0.5, 2 * step):
        line[int(round((step - 1) * (0.5 + t * dy))), int(round((step - 1) * (0.5 + t * dx)))] = 1
    frames, x, y = [], 40.0, 100.0
    for k in range(120):
        moving, smeared = 50 <= k < 52, 50 <= k < 60
        x, y = (x + step * dx, y + step * dy) if moving else (x + 0.3, y)
        frame = cv2.warpAffine(canvas, np.float32([[1, 0, -x], [0, 1, -y]]), SIZE)
        if smeared:
            frame = cv2.filter2D(frame, -1, line / line.sum(), borderType=cv2.BORDER_REFLECT)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("direction", [(1.0, 0.0), (0.7071, 0.7071)], ids=["level", "diagonal"])
@pytest.mark.parametrize("seed", [992, 995])
def test_whip_pan_held_smeared_at_the_end_of_its_travel_makes_no_cut(seed, direction):
    """Where the smear stops the picture does not move: no shift or swing explains the change,
    and a line blur of 12 px at this size is too short to read on the tiny copies (the detector
    before the smear-run check cut at frame 60 on every seed 990-999). A cut into a defocused
    shot keeps its low detail and stays a cut."""
    canvas = fine_grey_texture(seed)
    assert run(HardCutDetector(Fraction(FPS), 0.6), held_whip(canvas, 12, direction)) == []
    sharp = pan(canvas, 50)
    defocused = [cv2.GaussianBlur(f, (0, 0), 3) for f in pan(fine_grey_texture(seed + 50), 70)]
    assert run(HardCutDetector(Fraction(FPS), 0.6), sharp + defocused) == [50]


def flat_view(seed: int, level: float, contrast: float) -> np.ndarray:
    """A grey frame of a flat place: ``level`` plus a smooth layout of ``contrast`` levels."""
    rng = np.random.default_rng(seed)
    layout = cv2.resize(
        rng.normal(0, 1, (3, 4)).astype(np.float32), SIZE, interpolation=cv2.INTER_CUBIC
    )
    grey = np.clip(level + contrast * layout / layout.std(), 0, 255).astype(np.uint8)
    return np.dstack([grey] * 3)


@pytest.mark.parametrize("seed", [927, 928, 941])  # of 926-945, those the level check decides
def test_cut_between_flat_framings_that_brightens_but_flattens_is_no_lamp(seed):
    """Two framings of a flat place: the second is brighter on the whole and has less contrast.
    A smooth field below 1 plus an offset maps one onto the other; no light does that."""
    rng = np.random.default_rng(seed)
    first, second = flat_view(seed, 108, 7.5), flat_view(seed + 100, 120, 6.0)
    frames = [
        np.clip(view + rng.normal(0, 1.0, view.shape[:2])[..., None], 0, 255).astype(np.uint8)
        for view in [first] * 40 + [second] * 40
    ]
    assert [abs(k - 40) <= 1 for k in run(HardCutDetector(Fraction(FPS), 0.6), frames)] == [True]


@pytest.mark.parametrize("length", [1, 2, 3])
def test_flash_makes_no_cut(length):
    frames = pan(texture(910 + length), 90)
    for k in range(40, 40 + length):
        frames[k] = cv2.addWeighted(frames[k], 0.25, frames[k], 0, 0.75 * 255)
    assert run(HardCutDetector(Fraction(FPS), 0.6), frames) == []


def test_lamp_switched_on_makes_no_cut():
    frames = pan(texture(915), 90)
    frames[:45] = [cv2.convertScaleAbs(f, alpha=0.5) for f in frames[:45]]
    frames[45] = cv2.convertScaleAbs(frames[45], alpha=0.75)
    assert run(HardCutDetector(Fraction(FPS), 0.6), frames) == []


def test_unchecked_detector_cuts_at_the_flash():
    """The check is what removes it: PySceneDetect's detector alone cuts at a 1-frame flash."""
    frames = pan(texture(916), 90)
    frames[40] = cv2.addWeighted(frames[40], 0.25, frames[40], 0, 0.75 * 255)
    assert run(HardCutDetector(Fraction(FPS), 0.6, checked=False), frames) != []


def test_fade_through_black_is_one_fade_cut_not_a_dissolve():
    a, b = pan(texture(917), 60), pan(texture(918), 60)
    out = [cv2.convertScaleAbs(f, alpha=1 - (k + 1) / 12) for k, f in enumerate(a[48:])]
    into = [cv2.convertScaleAbs(f, alpha=(k + 1) / 13) for k, f in enumerate(b[:12])]
    frames = a[:48] + out + into + b[12:]
    assert run(DissolveDetector(), frames) == []
    assert [abs(c - 60) <= 1 for c in run(FadeDetector(Fraction(FPS), 0.6), frames)] == [True]
    shots = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        shots.process(k / FPS, frame)
    shots.finish()
    assert [(abs(round(c.time_s * FPS) - 60) <= 1, c.kind) for c in shots.cuts] == [(True, "fade")]


def test_fade_cut_knows_its_span():
    """The fade is cut at its darkest frame (59: the fade-out's last, gain 0; the fade-in's
    first is already lit); its ``start_s`` is the first frame under the black level (12
    levels), where the fade-out went dark, and its ``end_s`` where the picture rose out of it."""
    a, b = pan(texture(919), 60), pan(texture(920), 60)
    out = [cv2.convertScaleAbs(f, alpha=1 - (k + 1) / 12) for k, f in enumerate(a[48:])]
    into = [cv2.convertScaleAbs(f, alpha=(k + 1) / 13) for k, f in enumerate(b[:12])]
    frames = a[:48] + out + into + b[12:]
    dark = [k for k, f in enumerate(frames) if f.mean() < 12]
    cuts = found_cuts(FadeDetector(Fraction(FPS), 0.6), frames)
    assert len(cuts) == 1 and round(cuts[0].time_s * FPS) == 59
    assert round(cuts[0].start_s * FPS) == dark[0]
    assert round(cuts[0].end_s * FPS) == dark[-1] + 1


def test_a_fade_that_creeps_into_its_black_is_cut_at_its_darkest():
    """A fade-out that creeps down a level a frame (as PySceneDetect's fades.mp4 does through
    2, 1, 0 levels) has for its black the darkest frames (two at 0, and the 1 before them), not
    every frame within a level of the one before it; the fade-in rises at once."""
    levels = [90, 75, 59, 44, 30, 18, 10, 5, 4, 3, 2, 1, 0, 0, 8, 16, 30, 44, 59, 75, 90]
    frames = [np.full((144, 256, 3), level, np.uint8) for level in [90] * 30 + levels + [90] * 30]
    first_zero = 30 + levels.index(0)
    assert run(FadeDetector(Fraction(FPS), 0.6), frames) == [first_zero]


def test_a_dissolve_found_in_a_fade_out_belongs_to_the_fade():
    """A fade-out to near black can pass as a dissolve into a dark picture (second-style film
    7207: 9 frames, 0.36 s, before the fade's dark frames): it is measured to the fade's span,
    its dark frames up to where the picture rose, not to its cut."""
    fade = Cut(16.68, "fade", start_s=16.52, end_s=16.84)
    assert _apart_s(Cut(16.16, "dissolve"), fade) == pytest.approx(0.36)
    assert _apart_s(fade, Cut(16.7, "dissolve")) == 0.0
    assert _apart_s(Cut(17.5, "dissolve"), fade) == pytest.approx(0.66)
    assert _apart_s(Cut(16.16, "hard"), fade) == pytest.approx(0.52)  # to the cut
    # A dissolve's span is only where its frames mix: other cuts are measured to its cut.
    mixture = Cut(16.68, "dissolve", start_s=16.4, end_s=17.0)
    assert _apart_s(Cut(16.16, "dissolve"), mixture) == pytest.approx(0.52)
    assert _apart_s(mixture, Cut(16.9, "hard")) == pytest.approx(0.22)


def test_a_cut_to_black_before_a_fade_in_keeps_its_own_time():
    """A fade-in after a cut to black is cut where its picture rises (its black had no
    fade-out): the hard cut at the first dark frame is that far away, a transition of its own
    (as in PySceneDetect's testvideo.mp4: 6.006 and 7.207 s)."""
    fade_in = Cut(16.84, "fade", start_s=16.52, end_s=16.84)
    assert _apart_s(Cut(16.52, "hard"), fade_in) == pytest.approx(0.32)
    assert _apart_s(Cut(16.86, "hard"), fade_in) == pytest.approx(0.02)  # its rise, seen again


def test_a_hard_cut_between_a_fade_outs_dark_frames_belongs_to_the_fade():
    """64 s film 8091: the fade-out's last step, from 10.9 levels into black, read as a hard
    cut 0.64 s before the fade's rise (the fade-in rose slowly into a dim picture). A cut after
    the fade's first dark frame is measured to that frame; a long dark run (a night scene under
    the black level) keeps a cut far into it, away from the fade's black."""
    fade = Cut(47.0, "fade", start_s=46.64, end_s=47.32)
    assert _apart_s(Cut(46.68, "hard"), fade) == pytest.approx(0.04)
    assert _apart_s(fade, Cut(46.68, "hard")) == pytest.approx(0.04)
    long_dark = Cut(49.5, "fade", start_s=46.0, end_s=50.0)
    assert _apart_s(Cut(48.0, "hard"), long_dark) == pytest.approx(1.5)


def test_lamp_switched_on_in_a_near_black_room_makes_no_fade():
    """A dark room at half light sits under ThresholdDetector's black level, but holds a picture."""
    room = pan(texture(923), 90)
    offset = 20 - 0.4 * float(np.mean(room))  # lit: mean 20 levels, texture contrast kept at 0.4
    lit = [cv2.convertScaleAbs(f, alpha=0.4, beta=offset) for f in room]
    frames = [cv2.convertScaleAbs(f, alpha=0.5) for f in lit[:45]]
    frames += [cv2.convertScaleAbs(lit[45], alpha=0.75)] + lit[46:]
    assert float(np.mean(frames[:45])) < 12 < float(np.mean(frames[46:]))
    assert run(FadeDetector(Fraction(FPS), 0.6, checked=False), frames) == [45]
    assert run(FadeDetector(Fraction(FPS), 0.6), frames) == []
    shots = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        shots.process(k / FPS, frame)
    shots.finish()
    assert shots.cuts == []


def fade_into_a_dim_room(seed: int, lamp_at: int | None) -> list:
    """A bright shot fades out (12 frames), holds black (6), fades in (12) to a dark room that
    stays under ThresholdDetector's level (mean ~7); a lamp lights it up at ``lamp_at``."""
    a, room = pan(texture(seed), 60), pan(texture(seed + 1), 150)
    dim = [cv2.convertScaleAbs(f, alpha=0.15, beta=7 - 0.15 * float(np.mean(f))) for f in room]
    lit = [cv2.convertScaleAbs(f, alpha=3.0) for f in dim]
    out = [cv2.convertScaleAbs(f, alpha=1 - (k + 1) / 12) for k, f in enumerate(a[48:])]
    black = [np.zeros_like(a[0])] * 6
    into = [cv2.convertScaleAbs(f, alpha=(k + 1) / 13) for k, f in enumerate(dim[:12])]
    after = dim[12:] if lamp_at is None else dim[12 : lamp_at - 66] + lit[lamp_at - 66 :]
    return a[:48] + out + black + into + after


@pytest.mark.parametrize("lamp_at", [None, 160])
def test_fade_into_a_dim_room_is_cut_in_its_black(lamp_at):
    frames = fade_into_a_dim_room(925, lamp_at)
    assert float(np.mean(frames[90:150])) < 12  # never rises through ThresholdDetector's level
    shots = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        shots.process(k / FPS, frame)
    shots.finish()
    # Cut at the middle of the black (frames 59-65: the fade-out's last, gain 0, and 6 held);
    # the fade-in spans frames 66-77; the lamp (160) is no second cut.
    assert [(abs(round(c.time_s * FPS) - 62) <= 1, c.kind) for c in shots.cuts] == [(True, "fade")]


def test_shot_detector_prefers_the_dissolve_to_a_hard_cut_of_the_same_transition():
    a, b = texture(919), texture(920)
    outgoing, incoming = pan(a, 68), pan(b, 68, speed=-0.6, start=200)
    frames = outgoing[:60] + dissolve(outgoing[60:], incoming[:8]) + incoming[8:]
    shots = ShotDetector(FPS)
    for k, frame in enumerate(frames):
        shots.process(k / FPS, frame)
    shots.finish()
    assert [(c.kind, abs(round(c.time_s * FPS) - 64) <= 2) for c in shots.cuts] == [
        ("dissolve", True)
    ]
    assert shots.latency_s > 3.0  # the scan keeps shots open at least this long


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="shot detection"):
        ShotDetector(FPS, mode="psychic")


def _process_state(torch) -> tuple:
    """What TransNetV2's constructor is known to change: RNG states, torch flags, warnings."""
    import os
    import random
    import warnings

    return (
        torch.random.get_rng_state(),
        np.random.get_state()[1].copy(),
        random.getstate(),
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK"),
        list(warnings.filters),
    )


def test_learned_detector_finds_a_cut_and_leaves_the_process_alone(capfd):
    """TransNetV2's constructor seeds RNGs and flips global torch flags: none of that leaks."""
    import random

    torch = pytest.importorskip("torch")
    torch.manual_seed(1234)
    np.random.seed(1234)
    random.seed(1234)
    before = _process_state(torch)
    from trajectory.detectors.learned import TransNetDetector

    detector = TransNetDetector("cpu")
    after = _process_state(torch)
    assert torch.equal(before[0], after[0]) and (before[1] == after[1]).all()
    assert before[2:] == after[2:]
    assert capfd.readouterr().out == ""
    frames = pan(texture(921), 60) + pan(texture(922), 60, speed=-0.5, start=100)
    cuts = run(detector, frames)
    assert len(cuts) == 1 and abs(cuts[0] - 60) <= 1, cuts
