"""Dissolves: a mixture test on tiny frames, in the spirit of twin comparison (Zhang et al. 1993).

A dissolve of L frames from shot A to shot B shows frames ``(1 - a) A + a B`` with ``a`` rising
from 0 to 1. For every frame and a few window lengths L (8 to 50 frames) the detector asks of
the window [s, e] of tiny copies (1/4 of the detection frame, 64x36 at 16:9):

- does the picture change a lot from s to e (``CHORD_MIN`` levels), between lit ends? This
  cheap test is asked of every window; the others only of windows that pass it;
- are the frames at 1/4, 1/2 and 3/4 of the window mixtures of its two shots? Each shot keeps
  moving during a dissolve, so the outgoing picture at frame k is the first frame carried on by
  that shot's own shift per frame (phase correlation over the ``MOTION_FRAMES`` before the
  window, computed once per frame), the incoming one the last frame carried back by its shift
  (measured after). The frame is fitted as ``(1 - a) A_k + a B_k``: ``a`` must lie near the
  frame's place in the window and the residual be small against ``|B_k - A_k|``, on the tiny
  copies or on 16x9 copies (whose layout zooms hardly change). A shot's speed changes under a
  handheld camera or an easing pan, so where that fit fails, both pictures are realigned by a
  small shift (``_realigned``: Gauss-Newton on the mixture, within ``SHIFT_REFINE_*`` pixels)
  and the frame is fitted once more. A hard cut or a lamp's quick rise inside gives ``a`` of 0
  or 1 at 1/4 or 3/4; a flash or a whip pan leaves a large residual. ``a`` must also rise
  from each of the three frames to the next (``MIX_RISE_MIN``): a still picture between two
  quick changes (a short dissolve, then a lamp) can lie near two places at once;
- do the ends show two places? Not if the last frame is the first at another exposure (a lamp,
  a fade: the fade detector's) under a light that stays positive all over and keeps the
  colours but for one tint (``CHROMA_CHANGE_MAX``; a global gain and offset also fit some
  dissolves between places whose light and dark parts partly coincide; the smooth gain field
  that fits those turns negative somewhere, or the colours change part by part: a grey place
  into a red one), nor if its fine detail is the first's under such a light (a spot lamp:
  ``DETAIL_SAME_MIN``), nor if their 16x9 layouts correlate (``SAME_PICTURE_MAX``: one place
  moved, zoomed or relit; the two places of a dissolve correlate near 0), where for the
  exposure and the layout, from a gain of ``DETAIL_GAIN_MIN``, the fine detail follows the
  exposure's gain (``DETAIL_KEPT_MIN``: a light scales it, a dissolve from a dark textured
  shot into a bright gradient of a similar layout loses it), nor, where neither end has
  detail above grain, if a smooth light leaves only grain (``_featureless_relit``: a lamp over
  a flat texture), with the first frame as is or carried on by the measured motion.
  Unless the fine detail says two places (``_details_differ``): both ends textured, their
  details apart however aligned, or one end featureless and the other textured even at the
  first's level (``_detail_appears``: a smooth gradient into a retina's vessels). That also
  overrules the tracked camera path below (a lit patch sliding between two places' spots is
  followed like a pan);
- is the change concentrated in the window: does the layout change less over as many frames
  before and after it (``OUTSIDE_MAX`` of the window's change), with the camera's motion there
  undone (the steady shift measured at the window, or the path tracked frame to frame, which
  follows a handheld camera)? Steady camera motion does not.
  A side where one step between neighbouring frames makes most of its change holds a nearby
  cut, which says nothing of the camera: that side is left out;
- does the picture inside move no faster than its shots (``SWING_MIN``; a whip pan does)?
- does no single step inside make much of the change (``CUT_INSIDE_SHARE`` of it and
  ``CUT_INSIDE_RATIO`` times the median step)? A window holding a hard cut is no dissolve,
  even when the frames before the cut happen to lie between its ends (a lamp switched on);
- does a shift of the first frame not explain the last (a pan over the same place), nor the
  camera's path tracked frame to frame (a pan or whip pan over a smooth picture, a sky or a
  colour gradient, where phase correlation finds no shift and the frames in between, shifted a
  fraction of the picture's smooth bands, are mixtures of its ends)? What the path leaves is
  measured in colour where the picture follows the camera (``followed_share``), so that an
  object crossing a smooth place on its own does not outweigh the place. Over such a picture each
  step comes out a little short, so a path that leaves too much is corrected once from the
  window's ends (``refined_shift``, by at most ``PATH_REFINE_*`` pixels). Nor does that path
  explain both the window's first and last quarters (``SWEPT_SHARE_MAX``: a whip pan that
  carries the picture out of the frame, so that its ends have nothing left to compare)?

Windows that pass and overlap form one dissolve; its cut is the first frame more than half-way
from the frame just before its windows to the frame just after them (the dissolve's middle).
It is dropped when the place before it is the place after it relit (``DissolveDetector._relit``:
a lamp rising under a drifting handheld camera).
"""

from __future__ import annotations

import cv2
import numpy as np

from trajectory.detectors.base import (
    CHROMA_CHANGE_MAX,
    DETAIL_LEVEL_MIN,
    DETAIL_NOISE,
    FEATURELESS_LEFT_MAX,
    SHIFT_RIDGE,
    Cut,
    Detector,
    TinyFrames,
    aligned_detail_agreement,
    blocks_agreement,
    centre,
    chroma_change,
    detail_blocks,
    detail_correlation,
    detailed_blocks,
    distance,
    featureless,
    fine_detail,
    followed_share,
    gain_free_distance,
    moved,
    refined_shift,
    relit,
    rescaling,
    shifted_share_of_greys,
    spread_detail,
    step_shift,
    textured,
    tracked_share,
    zoom_grid_alignments,
)

WINDOWS = (8, 12, 18, 26, 36, 50)  # window lengths in frames, about x1.4 apart
CHORD_MIN = 10.0  # mean |change| between the window's ends, levels of 255
MIXTURE_MAX = 0.25  # interior residual / chord: a hard cut gives 0.5, a dissolve ~0.1
COARSE_MIXTURE_MAX = 0.2  # the same on 16x9 copies, for dissolves under camera motion
MIX_SPREAD = 0.15  # fitted mixing weight - the frame's place in the window
MIX_RISE_MIN = 0.1  # rise of the fitted weight from 1/4 to 1/2 and from 1/2 to 3/4: a dissolve
# rises ~0.25 at each; a still picture between two steps (a dissolve, then a lamp) not at all
SHIFT_REFINE_BASE = 0.5  # pixels by which a shot's extrapolated place may be corrected, plus
SHIFT_REFINE_PER_FRAME = 0.1  # per frame from the window's end the shot is carried from
REALIGN_STEPS = 2  # Gauss-Newton steps of that correction
REALIGN_NEAR = 1.6  # asked only where the first fit came within this many times its limits
MOTION_FRAMES = 6  # frames over which each shot's own motion is measured (<= min(WINDOWS):
# the incoming shot's motion is measured after the window, inside the look-ahead)
RESCALED_GAIN_MIN = 0.25  # a fitted gain above this leaving < 40% of the change: a lamp or a
RESCALED_LEFT_MAX = 0.4  # fade changes exposure, not the picture (see ``rescaling``)
GAIN_FREE_MIN = 0.3  # change left once both ends have the same mean / change: lamps, fades
RELIT_LOW_MIN = 0.0  # a light's gain is positive everywhere: a field turning negative is no lamp
DETAIL_SAME_MIN = 0.6  # correlation of the ends' fine detail: one place relit ~0.9, two ~0
DETAIL_BLOCKS_MIN = 3  # blocks (of 12) with detail: a textured place, more than one object crosses
DETAIL_DIFFERENT_MAX = 0.3  # aligned detail agreement: two places < 0.3, one place moved 0.6-1
SHIFT_SHARE_MIN = 0.6  # change left after the best shift / change: a pan gives ~0.3
TRACKED_SHARE_MIN = 0.4  # change left after the camera's tracked path / change: pans and whips
# over smooth pictures ~0.08, dissolves 0.71-1.0 (88 on development films)
CUT_INSIDE_SHARE = 0.3  # one step making this share of the window's change (dissolve windows
# reach 0.34, a lamp then a cut 0.41) ...
CUT_INSIDE_RATIO = 10.0  # ... and this many times its median step (dissolves < 7, that cut 51)
PATH_REFINE_BASE = 1.0  # pixels by which the tracked path may be corrected from the ends, plus
PATH_REFINE_PER_FRAME = 0.1  # per frame of the window (its steps' shortfall adds up)
SWEPT_SHARE_MAX = 0.4  # change left over both end quarters after the tracked path: whip pans
# 0.19-0.30, dissolves >= 0.35 per window and >= 0.64 for the best window of each (213)
OUTSIDE_MAX = 0.6  # change over a window's length outside / window's change: steady motion ~1
SAME_PICTURE_MAX = 0.5  # R^2 of the ends' 16x9 layouts: one place ~0.6-1, two places < 0.1
FLAT_STD = 0.5  # grey levels: a layout flatter than this has no shape to compare
DETAIL_KEPT_MIN = 0.5  # share of the detail a fitted exposure gain predicts that a light keeps
DETAIL_GAIN_MIN = 1.5  # ... asked from this gain up (7210's dissolve windows fit 2.1-4.7)
SWING_MIN = 0.025  # width share per frame beyond the shots' speed: dissolves < 0.01
CUT_SHARE = 0.5  # one step making this share of a side's change: a cut there
DARK_LEVEL = 12.0  # ends darker than this are black (ThresholdDetector's level): a fade
REACH = 2 * max(WINDOWS)  # frames a window's start lies before the newest frame


class DissolveDetector(Detector):
    """Dissolves (cross-fades) of 8 to about 60 frames, cut at their middle."""

    def __init__(self) -> None:
        longest = max(WINDOWS)
        self._frames = TinyFrames(REACH + 3 * longest)  # a closing dissolve is still held
        # First and last frame of each open dissolve: the union of its overlapping windows.
        # Windows of a dissolve arrive out of order (short ones sooner, long ones later, over
        # the same frames), so a window that meets no open dissolve opens another, and the two
        # join if a later window spans both; one closes once no later window can reach it.
        self._groups: list[tuple[int, int]] = []
        self._velocities: dict[int, np.ndarray] = {}  # frame i -> shift per frame, i to i + M
        self._steps: dict[int, tuple[float, float]] = {}  # frame i -> step_shift to i + 1
        self._jumps: dict[int, float] = {}  # frame i -> distance to i + 1
        self.latency_frames = REACH + longest

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        self._frames.add(time_s, frame)
        newest = self._frames.count - 1
        for per_frame in (self._velocities, self._steps, self._jumps):
            per_frame.pop(newest - self._frames.capacity, None)  # no longer held
        cuts = []
        for length in WINDOWS:
            start, end = newest - 2 * length, newest - length  # window [start, end], look-ahead
            if start - length >= 0:
                cuts += self._consider(start, end)
        for group in [g for g in self._groups if newest - g[1] > REACH]:
            self._groups.remove(group)
            cuts += self._close(group)
        return cuts

    def post_process(self) -> list[Cut]:
        cuts = [cut for group in self._groups for cut in self._close(group)]
        self._groups = []
        return cuts

    def _consider(self, start: int, end: int) -> list[Cut]:
        """Joins a passing window to the open dissolves it overlaps, or opens one."""
        if not _is_candidate(self._frames, start, end):
            return []
        velocities = (self._velocity(start - MOTION_FRAMES), self._velocity(end))
        if not _window_passes(self._frames, start, end, velocities, self._steps, self._jumps):
            return []
        met = [g for g in self._groups if start <= g[1] and end >= g[0]]
        for group in met:
            self._groups.remove(group)
        self._groups.append((min([start, *(g[0] for g in met)]), max([end, *(g[1] for g in met)])))
        return []

    def _velocity(self, index: int) -> np.ndarray:
        """The picture's shift per frame (dx, dy pixels) from frame ``index`` to index + M."""
        if index not in self._velocities:
            earlier, later = self._frames[index], self._frames[index + MOTION_FRAMES]
            (dx, dy), _ = cv2.phaseCorrelate(earlier.mean(axis=2), later.mean(axis=2))
            self._velocities[index] = np.array([dx, dy]) / MOTION_FRAMES
        return self._velocities[index]

    def _relit(self, first: int, last: int) -> bool:
        """Whether the passing windows [first, last] are one place relit under a moving camera.

        A lamp rising over a few frames while a handheld camera drifts: the steady motion
        measured outside the windows leaves their ends out of register, and a gain and the
        layouts then take the relit place for another. Carried along the camera's tracked path,
        a frame before keeps its detail in a frame after. Those frames lie half the windows'
        span beyond them (as far as frames are held and lit): when only a dissolve's middle
        windows pass, their ends still show much of the outgoing shot, whose detail a smooth
        incoming picture does not hide.
        """
        frames = self._frames
        reach = (last - first) // 2
        before = max(first - reach, frames.count - frames.capacity)
        after = min(last + reach, frames.count - 1)
        # Not into black (a fade beyond the windows): the nearest lit frames instead.
        while before < first and frames[before].mean() < DARK_LEVEL:
            before += 1
        while after > last and frames[after].mean() < DARK_LEVEL:
            after -= 1
        path = _tracked_path(frames, before, after, self._steps)
        if _relit_detail(moved(frames[before], path), frames[after]):
            return True
        # A spot of light growing is followed as motion too: the path can run far off while
        # the camera barely drifts (second style 7357: 100 tiny pixels over a lamp's 5 frames
        # of rise, the camera 6). The camera's move is then sought in the fine detail, which a
        # light only scales: zooms, each with the shift the detail shows. Not ECC's affine fit,
        # which can bend one place onto another's strongest edges (8108's dissolve from coins
        # to a rocket: fine detail correlated 0.70).
        return any(
            _relit_detail(aligned, frames[after])
            for aligned in zoom_grid_alignments(frames[before], frames[after])
        )

    def _close(self, group: tuple[int, int]) -> list[Cut]:
        """The cut of a dissolve: its first frame past half-way from A to B.

        A and B are the frames at the ends of all its passing windows together (``group``),
        outside the dissolve on either side, so the camera's motion weighs the same on both.
        """
        first, last = group
        frames = self._frames
        first = max(first, frames.count - frames.capacity)
        if not (frames.has(first) and frames.has(last)):
            return []
        if self._relit(first, last):
            return []
        # On the 16x9 layouts, which the shots' own motion hardly changes over a dissolve.
        origin = _coarse(frames[first])
        chord = _coarse(frames[last]) - origin
        norm = max(float((chord * chord).sum()), 1e-6)
        for index in range(first, last + 1):
            progress = float(((_coarse(frames[index]) - origin) * chord).sum()) / norm
            if progress >= 0.5:
                return [Cut(frames.time(index), "dissolve", frames.time(first), frames.time(last))]
        return []


def _is_candidate(frames: TinyFrames, start: int, end: int) -> bool:
    """The cheap test, asked of every window: a large change between lit ends."""
    first, last = frames[start], frames[end]
    if distance(first, last) < CHORD_MIN:
        return False
    return min(first.mean(), last.mean()) >= DARK_LEVEL


def _window_passes(
    frames: TinyFrames,
    start: int,
    end: int,
    velocities: tuple[np.ndarray, np.ndarray],
    steps: dict[int, tuple[float, float]],
    jumps: dict[int, float],
) -> bool:
    """Whether a candidate window [start, end] passes the other tests of the module docstring.

    ``velocities``: the outgoing and incoming shots' shifts per frame (dx, dy pixels), measured
    just before and just after the window. ``steps``: frame i -> ``step_shift`` from frame i to
    i + 1, and ``jumps``: frame i -> ``distance`` from frame i to i + 1, filled as needed
    (windows overlap, so most are asked for again).
    """
    first, last = frames[start], frames[end]
    # Cheapest first (the verdict does not depend on the order): a pan fails the shift test
    # with one phase correlation, before any mixture is fitted.
    if shifted_share_of_greys(frames.grey(start), frames.grey(end)) < SHIFT_SHARE_MIN:
        return False
    if not _is_mixture(frames, start, end, velocities):
        return False
    carried = moved(first, velocities[0] * (end - start))  # the outgoing shot at the end
    chord = distance(first, last)
    # Exposure, layout or the camera's path can explain the change as one place, unless the
    # fine detail says two (``_details_differ``, whose alignments are dear: asked after the
    # cheaper tests, once its cheap half, ``_details_may_differ``, leaves it open).
    same = _same_picture(first, last, chord) or _same_picture(carried, last, chord)
    if same and not _details_may_differ(first, last):
        return False
    if _outside_share(frames, start, end, velocities, steps) > OUTSIDE_MAX:
        return False
    if _swings(frames, start, end, velocities):
        return False
    if _holds_cut(frames, start, end, chord, jumps):
        return False
    if same and not _details_differ(first, last):
        return False
    # Last, as the dearest: asked of the few windows that pass everything else. Where ``same``
    # held, the details were just found to differ.
    # Measured where the picture follows the camera (``followed_share``): an object crossing
    # a smooth place on its own otherwise outweighs the place.
    path = _tracked_path(frames, start, end, steps)
    tracked = followed_share(first, last, path)
    # The path may have come out short (a smooth picture): corrected where that can matter
    # (where ``same`` held, the tracked share rejects nothing).
    if tracked >= TRACKED_SHARE_MIN and not same:
        reach = PATH_REFINE_BASE + PATH_REFINE_PER_FRAME * (end - start)
        tracked = min(tracked, followed_share(first, last, refined_shift(first, last, path, reach)))
    if tracked < TRACKED_SHARE_MIN and not (same or _details_differ(first, last)):
        return False
    return not _swept(frames, start, end, steps)


def _relit_detail(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether ``after`` keeps ``before``'s fine detail under a light positive all over."""
    return detail_correlation(before, after) > DETAIL_SAME_MIN and _lit_everywhere(before, after)


def _holds_cut(
    frames: TinyFrames, start: int, end: int, chord: float, jumps: dict[int, float]
) -> bool:
    """Whether one step inside the window makes much of its change: a cut, not a dissolve.

    A dissolve spreads its change over its frames; a window that holds a hard cut (the hard-cut
    detector's) can pass the mixture test when the frames between happen to lie between its
    ends (a lamp switched on, then a cut). The largest step must be under ``CUT_INSIDE_SHARE``
    of the change from end to end, or under ``CUT_INSIDE_RATIO`` times the window's median step.
    ``jumps``: frame i -> distance from frame i to i + 1, filled as needed.
    """
    for index in range(start, end):
        if index not in jumps:
            jumps[index] = distance(frames[index], frames[index + 1])
    ordered = sorted(jumps[i] for i in range(start, end))
    largest, median = ordered[-1], ordered[len(ordered) // 2]
    return largest >= CUT_INSIDE_SHARE * chord and largest >= CUT_INSIDE_RATIO * median


def _swept(frames: TinyFrames, start: int, end: int, steps: dict[int, tuple[float, float]]) -> bool:
    """Whether the camera's tracked path explains the window's first and last quarters.

    A whip pan can swing the picture out of the frame between the window's ends, leaving
    nothing of the first frame to compare with the last; but over each quarter the place
    moves less, and the frames at 1/4 and 3/4 are the ends carried along the path (blurred).
    A dissolve's are mixtures, which no shift explains.
    """
    length = end - start
    quarter, three_quarters = start + round(length / 4), start + round(3 * length / 4)
    entering = tracked_share(
        frames[start], frames[quarter], _tracked_path(frames, start, quarter, steps)
    )
    leaving = tracked_share(
        frames[three_quarters], frames[end], _tracked_path(frames, three_quarters, end, steps)
    )
    return max(entering, leaving) < SWEPT_SHARE_MAX


def _tracked_path(
    frames: TinyFrames, start: int, end: int, steps: dict[int, tuple[float, float]]
) -> tuple[float, float]:
    """The camera's path from ``start`` to ``end``: the sum of the frame-to-frame shifts.

    Fitted step by step because a whip pan or fast pan moves too far between the window's ends
    for one fit; each step is small.
    """
    for index in range(start, end):
        if index not in steps:
            steps[index] = step_shift(frames[index], frames[index + 1])
    return (
        sum(steps[i][0] for i in range(start, end)),
        sum(steps[i][1] for i in range(start, end)),
    )


def _same_picture(before: np.ndarray, after: np.ndarray, chord: float) -> bool:
    """Whether ``after`` shows the place of ``before``: relit (a lamp, a fade) or moved.

    ``before`` is the window's first frame, as is or carried on by the measured camera motion
    (which a fade or lamp can spoil, hence both are asked).
    """
    gain, left = rescaling(before, after)
    if (
        gain > RESCALED_GAIN_MIN  # the same picture, with other exposure
        and (left < RESCALED_LEFT_MAX or gain_free_distance(before, after) < GAIN_FREE_MIN * chord)
        and _lit_everywhere(before, after)
        and chroma_change(before, after) <= CHROMA_CHANGE_MAX
        and _detail_follows_gain(before, after, gain)
    ):
        return True
    if _relit_detail(before, after):
        return True  # the place's detail under a light that varies across it (a spot lamp)
    if _layout_r2(before, after) > SAME_PICTURE_MAX and _detail_follows_gain(before, after, gain):
        return True  # the layouts correlate: one place (its detail at their contrast ratio)
    return _featureless_relit(before, after)


def _detail_follows_gain(before: np.ndarray, after: np.ndarray, gain: float) -> bool:
    """Whether ``after`` keeps ``before``'s fine detail, scaled by the fitted exposure ``gain``.

    A light or a fade scales the picture, its fine detail with it; above grain
    (``DETAIL_NOISE``), at least ``DETAIL_KEPT_MIN`` of that is left. Asked where the gain is
    ``DETAIL_GAIN_MIN`` or more: at a gain near 1 the layouts match as one place filmed on, and
    a camera move alone can take a third of the detail away (a pan from a textured part of a
    photo to a smooth one, third style 522: 6.4 to 2.4 levels). A dissolve from a dark
    textured shot into a bright smooth one (a gradient) fits a large gain on their layouts
    (4.7, second style 7210), and their layouts correlate (R^2 0.8-0.98), but the detail falls
    instead (1.65 to 0.58 levels).
    """
    if gain < DETAIL_GAIN_MIN:
        return True  # no light to speak of: a camera move changes the detail (a pan off texture)
    detail_before, detail_after = fine_detail(before).std(), fine_detail(after).std()
    return detail_after >= DETAIL_KEPT_MIN * gain * (detail_before - DETAIL_NOISE)


def _featureless_relit(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether a smooth change of light takes ``before`` to ``after``, two featureless frames.

    Where neither end has a detail block above grain (a flat low-contrast texture, a fog, a
    broad gradient), what a smooth light leaves says whether it is one: a light leaves grain
    (0.02-0.07 of the change, three lamps over flat textures that passed as dissolves), a
    second place its own faint pattern (0.26 or more, the 4 dissolves between featureless
    places of 117 structure films). The light is the gain field alone, without an offset (as
    the hard-cut detector's lamp test over featureless frames): a light only multiplies. With
    an offset, a field near 0 plus the second place's level fits any nearly flat picture: a
    grey gradient with a dark blob dissolving into a flat grey place (second style 7336) left
    0.07-0.11 that way, a field of -0.12 to 0.12, and leaves half of the change to the field
    alone. The colours must also keep but for one tint.
    """
    if not (featureless(before) and featureless(after)):
        return False
    _, _, left = relit(before, after, offset=False)
    return left < FEATURELESS_LEFT_MAX and chroma_change(before, after) <= CHROMA_CHANGE_MAX


def _details_differ(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the ends carry fine detail above grain, and the details are two places'.

    Then no exposure, layout or tracked camera path makes them one place: two smooth pictures
    darkening toward one corner fit a gain and offset, or correlate in layout, by chance (a
    retina dissolving into a night sky), and a lit patch sliding from one place's spot to the
    other's is followed like a pan; but a light or a camera move keeps the fine detail, which
    agrees block by block once the frames are aligned (``aligned_detail_agreement``). Asked
    only where each end carries detail in ``DETAIL_BLOCKS_MIN`` blocks, not all within one
    2x2 square of them (``textured``): a textured place, not one object on a smooth one, which
    moving on its own (a ball crossing a sky) takes its detail to other blocks.
    """
    if not _details_may_differ(before, after):
        return False
    if featureless(before) or featureless(after):
        return True  # ``_detail_appears``: nothing to align
    agreement = aligned_detail_agreement(before, after, DETAIL_LEVEL_MIN)
    return agreement is not None and agreement < DETAIL_DIFFERENT_MAX


def _details_may_differ(before: np.ndarray, after: np.ndarray) -> bool:
    """The cheap half of ``_details_differ``: False where it is False without any alignment
    (too little detail, or details that agree as they are: most windows of one place)."""
    first = detail_blocks(before)
    second = detail_blocks(after)
    if _detail_appears(before, first, after, second) or _detail_appears(
        after, second, before, first
    ):
        return True
    if not textured(first, DETAIL_LEVEL_MIN, DETAIL_BLOCKS_MIN):
        return False
    if not textured(second, DETAIL_LEVEL_MIN, DETAIL_BLOCKS_MIN):
        return False
    agreement = blocks_agreement(first, second, DETAIL_LEVEL_MIN)
    return agreement is None or agreement < DETAIL_DIFFERENT_MAX


def _detail_appears(
    plain: np.ndarray,
    plain_blocks: list[np.ndarray],
    rich: np.ndarray,
    rich_blocks: list[np.ndarray],
) -> bool:
    """Whether ``rich`` shows texture that ``plain``, featureless, could not have hidden.

    A light scales fine detail by its gain, so a place whose texture stands above grain in one
    frame keeps it above grain at the other frame's level, unless that frame is much darker
    (a dim room lit up). A smooth place (a fog, a gradient) dissolving into a textured one (a
    retina's vessels) correlates in layout with it, and its end has no detail to compare.
    Only the rich end's detail above grain is scaled: grain does not follow the light, and
    the plain end, featureless, shows how much of it there is (a dim smooth room lit to three
    times its level showed its grain, scaled, as texture at the bright end's level:
    distractor lamp 682).
    """
    if detailed_blocks(plain_blocks, DETAIL_LEVEL_MIN):
        return False
    grain = float(np.median([block.std() for block in plain_blocks]))
    level = float(plain.mean()) / max(float(rich.mean()), 1.0)
    above_grain = [np.sqrt(max(float(block.std()) ** 2 - grain**2, 0.0)) for block in rich_blocks]
    return spread_detail(
        [detail * level for detail in above_grain], DETAIL_LEVEL_MIN, DETAIL_BLOCKS_MIN
    )


def _lit_everywhere(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether a smooth gain field of ``before`` that makes ``after`` is positive all over.

    A lamp or a fade scales every part of the picture by a positive gain (``relit``); a global
    gain and offset can also fit a dissolve between two places whose light and dark parts
    partly coincide, but then the smooth field that fits best turns negative somewhere (part
    of the picture inverted, which no light does).
    """
    low, _, _ = relit(before, after)
    return low > RELIT_LOW_MIN


def _outside_share(
    frames: TinyFrames,
    start: int,
    end: int,
    velocities: tuple[np.ndarray, np.ndarray],
    steps: dict[int, tuple[float, float]],
) -> float:
    """How much the layout changes over the window's length just outside it, on either side.

    As a share of its change inside (the larger side), with the camera's motion undone: the
    far frame carried by the steady shift measured at the window or along the path tracked
    frame to frame, whichever leaves less. Steady camera motion changes both sides as much as
    the window; a dissolve leaves them calm. A side that holds a cut (one step
    between neighbouring frames makes most of its change) says nothing of the camera beyond the
    cut: it counts only when both sides hold one, by its rate of change up to the cut against
    the window's (the calmer side). A cut closer than ``MOTION_FRAMES`` to the window spoils
    the motion measured there: such a window is no dissolve (returns infinity).
    """
    length = end - start
    carried = moved(frames[start], velocities[0] * length)
    inside = max(distance(_coarse(carried), _coarse(frames[end])), 1e-6)
    calm, cut = [], []
    for near, direction, velocity in ((start, -1, velocities[0]), (end, 1, velocities[1])):
        layouts = [_coarse(frames[near + direction * i]) for i in range(length + 1)]
        beyond = near + direction * length
        # The far frame carried to the near one by the steady motion measured at the window,
        # and by the camera's path tracked frame to frame (a handheld camera's or an easing
        # pan's speed changes over a long window): whichever leaves less change.
        path = np.array(_tracked_path(frames, min(near, beyond), max(near, beyond), steps))
        change = min(
            distance(layouts[0], _coarse(moved(frames[beyond], -direction * velocity * length))),
            distance(layouts[0], _coarse(moved(frames[beyond], -direction * path))),
        )
        jumps = [distance(a, b) for a, b in zip(layouts, layouts[1:])]
        at = int(np.argmax(jumps))  # the step from layouts[at] to layouts[at + 1]
        if change <= OUTSIDE_MAX * inside or jumps[at] <= CUT_SHARE * change:
            calm.append(change / inside)
        elif at < MOTION_FRAMES:
            return float("inf")
        else:
            cut.append(distance(layouts[0], layouts[at]) / at * length / inside)
    return max(calm) if calm else min(cut)


def _swings(
    frames: TinyFrames, start: int, end: int, velocities: tuple[np.ndarray, np.ndarray]
) -> bool:
    """Whether the picture inside moves much faster than either shot (a whip pan).

    A dissolve's frames move with its two shots; during a whip pan the frames at 1/4, 1/2 or
    3/4 of the window shift by more than ``SWING_MIN`` of the picture's width per frame beyond
    the shots' own speed (phase correlation of the frames either side of each).
    """
    width = frames[start].shape[1]
    speed = max(float(np.hypot(*velocities[0])), float(np.hypot(*velocities[1])))
    for share in (0.25, 0.5, 0.75):
        k = start + round(share * (end - start))
        (dx, dy), _ = cv2.phaseCorrelate(frames[k - 1].mean(axis=2), frames[k + 1].mean(axis=2))
        if float(np.hypot(dx, dy)) / 2 - speed > SWING_MIN * width:
            return True
    return False


def _is_mixture(
    frames: TinyFrames, start: int, end: int, velocities: tuple[np.ndarray, np.ndarray]
) -> bool:
    """Whether the frames at 1/4, 1/2, 3/4 of [start, end] are mixtures of its two shots.

    Each shot keeps moving during a dissolve, so the outgoing picture at frame k is the first
    frame moved on by the outgoing shot's own motion (``velocities[0]``, pixels per frame,
    measured on the frames just before the window), the incoming one the last frame moved back
    by the incoming shot's motion (``velocities[1]``, measured just after). The frame at k is
    fitted as ``(1 - a) A_k + a B_k``; it passes when ``a`` lies within ``MIX_SPREAD`` of the
    frame's place in the window (a smooth-step dissolve lags a linear one by < 0.1) and the
    residual is below ``MIXTURE_MAX`` (tiny frames) or ``COARSE_MIXTURE_MAX`` (16x9 copies)
    of the change ``|B_k - A_k|``, at all three frames on one of the two scales. A hard cut or
    a lamp's quick rise inside gives ``a`` of 0 or 1 at 1/4 or 3/4; a flash or whip pan leaves
    a large residual.
    """
    first, last = frames[start], frames[end]
    outgoing, incoming = velocities
    length = end - start
    limits = {False: MIXTURE_MAX, True: COARSE_MIXTURE_MAX}  # coarse -> residual limit
    mixes: dict[bool, list[float]] = {False: [], True: []}  # coarse -> fitted weights
    for share in (0.25, 0.5, 0.75):
        k = start + round(share * length)
        before = moved(first, outgoing * (k - start))
        after = moved(last, incoming * (k - end))
        fits, near = _fits_mixture(frames[k], before, after, (k - start) / length, limits, mixes)
        if not fits and near:
            # A shot's own speed changes under a handheld camera or an easing pan, so the
            # extrapolated pictures can lie a pixel or two off: realigned, asked once more.
            reach = SHIFT_REFINE_BASE + SHIFT_REFINE_PER_FRAME * max(k - start, end - k)
            before, after = _realigned(frames[k], before, after, reach)
            fits, _ = _fits_mixture(frames[k], before, after, (k - start) / length, limits, mixes)
        if not fits:
            return False
    # The weight must rise through the window, not only lie near each place: a still picture
    # fitted twice at the same weight is a pause between two changes, not a dissolve.
    return any(min(np.diff(mixes[coarse])) >= MIX_RISE_MIN for coarse in limits)


def _fits_mixture(
    frame: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    place: float,
    limits: dict,
    mixes: dict,
) -> tuple[bool, bool]:
    """Whether ``frame`` is a mixture of ``before`` and ``after`` at ``place`` on a scale of
    ``limits`` (coarse -> residual limit) that has not yet failed (and drops the scales that
    fail), and whether it came near on one: within ``REALIGN_NEAR`` times the limits, as a
    misplaced mixture does (worth realigning; a cut or a flash is far). The fitted weight of
    each scale that passes is appended to ``mixes[coarse]``.
    """
    failed, near = [], False
    for coarse, limit in limits.items():
        mix, left = _fit_mixture(frame, before, after, coarse=coarse)
        if abs(mix - place) > MIX_SPREAD or left > limit:
            failed.append(coarse)
            near |= abs(mix - place) <= REALIGN_NEAR * MIX_SPREAD and left <= REALIGN_NEAR * limit
        else:
            mixes[coarse].append(mix)
    if len(failed) == len(limits):
        return False, near
    for coarse in failed:
        del limits[coarse]
    return True, True


def _realigned(
    frame: np.ndarray, before: np.ndarray, after: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """``before`` and ``after`` moved so that ``frame`` is best fitted as a mixture of them.

    Gauss-Newton on ``frame ~ (1 - a) before(x - s) + a after(x - t)``, linear in ``a``,
    ``(1 - a) s`` and ``a t`` once each picture is expanded by its gradients (as Lucas-Kanade
    does for one picture), on slightly blurred copies over the centre. Each shift stays
    within ``reach`` pixels: a correction of the shots' extrapolated motion, not a new one.
    """
    inner = centre(frame)
    target = cv2.GaussianBlur(frame, (0, 0), 1.0)[inner].ravel()
    smooth = cv2.GaussianBlur(before, (0, 0), 1.0), cv2.GaussianBlur(after, (0, 0), 1.0)
    shifts = np.zeros((2, 2))  # (dx, dy) of before, of after
    for _ in range(REALIGN_STEPS):
        first, second = moved(smooth[0], shifts[0]), moved(smooth[1], shifts[1])
        columns = [(second - first)[inner].ravel()]
        for picture in (first, second):
            grad_y, grad_x = np.gradient(picture, axis=(0, 1))
            columns += [-grad_x[inner].ravel(), -grad_y[inner].ravel()]
        design = np.stack(columns, axis=1)
        normal = design.T @ design
        # ``step_shift``'s ridge, per picture: a shift the pictures cannot tell stays put.
        normal[1:, 1:] += (SHIFT_RIDGE * np.trace(normal[1:, 1:]) / 2 + 1e-3) * np.eye(4)
        normal[0, 0] += 1e-6
        solution = np.linalg.solve(normal, design.T @ (target - first[inner].ravel()))
        mix = float(np.clip(solution[0], 0.05, 0.95))
        shifts[0] += solution[1:3] / (1 - mix)
        shifts[1] += solution[3:5] / mix
        shifts = np.clip(shifts, -reach, reach)
    return moved(before, shifts[0]), moved(after, shifts[1])


def _layout_r2(before: np.ndarray, after: np.ndarray) -> float:
    """Share of ``after``'s grey layout variance (16x9 copy) that a gain and offset of
    ``before``'s explain (R^2, 0-1): near 1 for one place seen twice, near 0 for two places.
    """
    x, y = _coarse(before).mean(axis=2).ravel(), _coarse(after).mean(axis=2).ravel()
    if x.std() < FLAT_STD or y.std() < FLAT_STD:  # a flat layout: no shape to compare
        return 0.0
    return max(float(np.corrcoef(x, y)[0, 1]), 0.0) ** 2


def _fit_mixture(
    frame: np.ndarray, before: np.ndarray, after: np.ndarray, *, coarse: bool
) -> tuple[float, float]:
    """Least-squares ``a`` in ``frame ~ (1 - a) before + a after`` over the picture's centre.

    Returns (a, mean |residual| / mean |after - before|); the centre (3/4 of each side) leaves
    out the edges that a shift fills by repetition.
    """
    inner = centre(frame)
    frame, before, after = frame[inner], before[inner], after[inner]
    if coarse:
        frame, before, after = _coarse(frame), _coarse(before), _coarse(after)
    change = after - before
    norm = float((change * change).sum())
    if norm < 1e-6:
        return 0.0, 1.0
    mix = float(((frame - before) * change).sum()) / norm
    left = float(np.abs(frame - before - mix * change).mean())
    return mix, left / max(float(np.abs(change).mean()), 1e-6)


def _coarse(frame: np.ndarray) -> np.ndarray:
    """A 1/4-size copy of a tiny frame (16x9 at 16:9): the picture's layout of light and colour.

    Camera motion over a few dozen frames hardly changes it; a change of place does.
    """
    height, width = frame.shape[:2]
    size = (max(1, width // 4), max(1, height // 4))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
