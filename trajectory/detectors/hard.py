"""Hard cuts: PySceneDetect's ``AdaptiveDetector``, each cut checked a few frames later.

The adaptive detector compares each frame's change with the change of its neighbours, so steady
camera motion makes no cut. It scores saturation and luminance only: hue is undefined in
greyscale and noisy in dull colours, and averaging it in would third the score of a cut between
two greyscale shots. A second source of candidates is a jump on our own 1/4-size copies of
``JUMP_RATIO`` times the change between the frames around it and between its two neighbours
(cuts between framings of a low-contrast texture, which the detector's score misses), or of
``FAINT_JUMP_RATIO`` times where it is under ``JUMP_MIN`` (framings of one grainy place). A
candidate still is no cut when

- with small camera moves undone (:func:`~trajectory.detectors.base.compensated_distance`: phase
  correlation of softened 1/4-size copies, shifts up to 8% of the width), the change at the cut
  is not at least twice the median change around it and ``NOISE_LEVEL``, or the move explains
  more than half of it (handheld shake and pans over detailed textures; the detector's ratio can
  also be fooled by a dip in its neighbours at the end of a dissolve). Jump candidates are
  found on the same compensated changes;
- the picture comes back: a frame after the change matches a frame before it, as is or with
  camera moves undone (a flash of 1-3 bright frames, a person crossing close to the lens, a
  jolt of the camera);
- the same picture got brighter: a least-squares gain and offset map the frame 3 before onto
  the frame 3 after with a gain of 1.25-4 and leave under 30% of the change (a lamp switched on
  over a few frames; a cut to an unrelated picture fits a gain near 0);
- only the light changed between the two frames: a smooth (quadratic) gain field times the
  frame before, plus an offset, leaves under 30% of the change, and the field brightens some
  part of the picture by 1.1-4x and darkens none, or the reverse (a lamp switched on or off, at
  once, over the whole picture or lighting one part more; another picture fits a field near 0
  or of both signs; where a part kept its light, the fine detail must also correlate, since
  a smooth field maps one framing of a smooth place onto another). Over featureless frames,
  where a gain and an offset trade off, the field is fitted without offset, must leave under
  15%, change the light by ``LAMP_GAIN[0]`` or more (a cut between two framings of a
  featureless place whose level differs a little fits a gentle field as well) and its colour
  by ``TINT_CHANGE_MAX`` at most (a cut between two plain colour frames), and where the
  mid-scale pattern stands above grain (``pattern_shown``) it must be kept. And the fine
  detail after
  is no more than ``DETAIL_GROWTH_MAX`` times the detail before under the field's brightest
  gain (no light adds detail: a cut from a smooth place to a darker detailed one can fit such
  a field), and the colours changed by one tint at most (``CHROMA_CHANGE_MAX``: a cut between
  two smooth colour places fits such a field too);
- the swing of a whip pan starts or stops: one frame is the other blurred along a line
  (``SMEAR_LEFT``) and has lost its detail along that line (``SMEAR_ALONG_MAX``), which shows
  even where the smeared frames hardly change and no shift can be measured;
- the camera swung into or out of a whip pan: the jump's step, tracked as a global shift
  (``step_shift``, which follows smooth and blurred pictures), moves the picture at
  ``SWING_MIN_SPEED`` or faster and explains all but ``SWING_TRACKED_LEFT`` of the
  change, and the step before or after moves it as far the same way;
- the frames next to the jump are smeared, briefly: they belong to a run of at most
  ``BLUR_RUN_MAX_S`` whose fine detail on the ~256 px detection frame is under
  ``BLUR_LEFT_MAX`` of the steady frames on both sides (a whip pan, also where the camera's
  swing cannot be followed: a smooth place, or a camera held at the end of its travel while
  its picture is still smeared). A cut keeps the detail of one shot or the other;
- the camera swung: the change is spread over the frames next to the jump (a neighbouring step
  at least ``SWING_SPREAD`` of it that is no slow pan: still that large with small moves undone,
  or a shift at ``SWING_MIN_SPEED``) and either a global shift of the frame
  ``CHECK_FRAMES`` before explains the frame as many after, or the steps into and out of the
  jump both shift the picture one way (a whip pan, horizontal, vertical or diagonal, that may
  also zoom).
"""

from __future__ import annotations

import bisect
from collections import deque
from fractions import Fraction

import cv2
import numpy as np
from scenedetect import AdaptiveDetector, FrameTimecode
from scenedetect.detectors.content_detector import ContentDetector

from trajectory.detectors.base import (
    CHROMA_CHANGE_MAX,
    DETAIL_NOISE,
    FEATURELESS_LEFT_MAX,
    TINT_CHANGE_MAX,
    Cut,
    Detector,
    TinyFrames,
    aligned_distance,
    centre,
    chroma_change,
    detail_correlation,
    distance,
    featureless,
    fine_detail,
    global_shift,
    half_aligned,
    level_ratio,
    pattern_correlation,
    pattern_shown,
    relit,
    rescaling,
    shifted_share,
    step_shift,
    tint_change,
    tracked_share,
)
from trajectory.detectors.base import timecode as make_timecode

SATURATION_AND_LUMA = ContentDetector.Components(
    delta_hue=0.0, delta_sat=1.0, delta_lum=1.0, delta_edges=0.0
)
ADAPTIVE_THRESHOLD = 3.5  # change >= 3.5x its neighbours' (PySceneDetect's default is 3.0)
MIN_CHANGE = 3.0  # mean |d saturation| + |d luma| / 2, in levels: a cut between grey textures
CHECK_FRAMES = 5  # frames looked at on each side of a cut (a flash lasts at most 3)
JUMP_MIN = 3.0  # levels: a jump on the 1/4-size copies that may be a cut the detector missed
JUMP_RATIO = 4.0  # ... when it is this many times the median change of the 10 frames around it
# A fainter jump is a candidate only where it stands out far more: cuts between framings of one
# grainy low-contrast place jump 2.4-3 levels at 7-17x; the zoo's real footage makes no cut but
# jumps 2-3 levels at 4-7.4x (GoldenEye's dropped frames, Big Buck Bunny's motion).
FAINT_JUMP_MIN = 2.0  # levels: the smallest jump looked at
FAINT_JUMP_RATIO = 10.0  # ... standing out this many times, where it is under JUMP_MIN
STANDOUT = 2.0  # the jump is at least twice the median frame-to-frame change around it
NOISE_LEVEL = 1.0  # levels: a smaller mean change is grain and coding noise (cuts into stills ~2)
SHAKE_LEFT = 0.5  # ... and undoing a small camera move leaves at least half of it (shake ~0.1)
RETURN_SHARE = 0.5  # picture "came back": a before/after pair closer than half the jump
LAMP_GAIN = (1.25, 4.0)  # a lamp switched on brightens the same picture by this factor
LAMP_RESIDUAL = 0.3  # ... and that gain explains all but 30% of the change
LEVEL_FOLLOWS_MIN = 0.75  # a light moves the mean level >= this power of its least-changed
# part's gain (distractor lamps >= 0.86 of the way in log; 9039's framing cut, a field of 2: 0.53)
LAMP_SHAKE_MAX = 1.0  # tiny pixels (1.6% of the width): a handheld camera's shake in one frame
RELIT_GAIN = 1.1  # a lamp changes some part's exposure between two frames by 10% or more
RELIT_STILL = 1.03  # ... and no part the other way by more than 3%
LAMP_DETAIL_SAME_MIN = 0.6  # correlation of the fine detail where part kept its light: a lamp
# 0.88, cuts between framings of a smooth place 0.22-0.30
LAMP_PATTERN_SAME_MIN = 0.0  # mid-scale pattern correlation where every part was relit: lamps
# 0.83-1.0 (structure films; 0.25 or more at distractor lamps switched on, seeds 1-37), cuts
# between framings of a flat texture that the field fits -0.56 to -0.2 (``pattern_correlation``)
DETAIL_GROWTH_MAX = 3.0  # a lamp scales fine detail by its gain: lamps <= 1.4x that, cuts ~17x
SMEAR_LEFT = 0.36  # a line blur of the sharp frame leaves < this share of the change: whip pans'
# starts and ends 0.08-0.30, cuts >= 0.41 (development films)
SMEAR_ALONG_MAX = 0.5  # gradient energy along the line / across it in the smeared frame: whip
# pans 0.13-0.35, pictures ~1
SMEAR_OWN_LEFT = 0.8  # ... and leaves < this share of the smeared frame's own deviation from its
# mean: whip pans' smears 0.04-0.47 (116 structure films, distractor whips 1-700); a cut from
# a flat rock into a brick wall, whose line blur is a flat grey at the rock's level, 1.44 (8154)
SWING_SPREAD = 0.35  # a whip pan: a neighbouring step is this share of the jump (cuts <= 0.17)
SWING_SHIFT_LEFT = 0.6  # ... and a shift leaves less of the change across it (other place ~1)
SWING_MIN_SPEED = 0.72  # ... or the steps around it shift the picture this share of the width
# a second, one way: 3% a frame at 24 fps (a slow pan moves it under 1% a frame there, a still
# shot's cut neighbours not at all). A speed, not a step: at 50-60 fps a whip pan's steps are
# half as large or less (59.94 fps films 9016 and 9017: 2% a frame, cut at the swing's end)
SWING_TRACKED_LEFT = 0.5  # a whip pan's first or last step: its tracked shift leaves less of
# its change (0.36 at the development whip that needed it; a cut's step ~1)
BLUR_SIGMA = 1.5  # detection-frame pixels (~256 wide): fine detail is what this blur takes away
BLUR_RUN_MAX_S = 0.6  # a whip pan's smeared frames last at most this long (the issue's: 0.15-0.5 s)
BLUR_REF_FRAMES = 3  # steady frames on each side of the run that it is compared with (median)
BLUR_LEFT_MAX = 0.7  # the run keeps under this share of the fine detail of both sides: whips'
# smeared frames 0.2-0.6, the frames next to cuts of 160 development films >= 0.84
BLUR_SIDES_MIN = 2.0  # levels: steady frames with less fine detail than this show a flat place
# (third-style films 1-2, whose share of it rises and falls with grain and coding; whips' 6-21)


def _median(values: list[float]) -> float:
    """``float(np.median(values))``, without numpy's overhead on a dozen numbers."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


class _SaturationLumaDetector(AdaptiveDetector):
    """``AdaptiveDetector`` that skips the score components of weight 0 (hue, edges).

    PySceneDetect's ``ContentDetector._calculate_frame_score`` computes the hue change even at
    weight 0 and sums each channel through int32 copies; this computes the same score (the
    weighted mean of the changes, each an exact integer sum over the pixels divided by their
    count) with ``cv2.norm``. With a stats manager or edges it leaves the work to PySceneDetect.
    """

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: np.ndarray) -> float:
        if self.stats_manager is not None or self._weights.delta_edges > 0.0:
            return super()._calculate_frame_score(timecode, frame_img)
        hue, sat, lum = cv2.split(cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV))
        last, self._last_frame = self._last_frame, ContentDetector._FrameData(hue, sat, lum, None)
        if last is None:
            return 0.0
        pixels = float(hue.shape[0] * hue.shape[1])
        weighted = 0.0
        for weight, now, before in zip(
            self._weights[:3], (hue, sat, lum), (last.hue, last.sat, last.lum)
        ):
            if weight != 0.0:  # adding 0 * change leaves PySceneDetect's sum as it is
                weighted += cv2.norm(now, before, cv2.NORM_L1) / pixels * weight
        return weighted / sum(abs(weight) for weight in self._weights)


class HardCutDetector(Detector):
    """Hard cuts from ``AdaptiveDetector`` and jumps on tiny copies, without flashes and lamps.

    Args:
        rate: the video's nominal frame rate (for PySceneDetect's timecodes).
        min_shot_s: minimum shot length handed to PySceneDetect.
        checked: False gives PySceneDetect's detector with its defaults and no checks (the
            detector set used before gradual transitions were detected; for comparisons).
    """

    def __init__(self, rate: Fraction, min_shot_s: float, *, checked: bool = True):
        self._rate = rate
        self._checked = checked
        # Share of the width a frame. A nominal rate beyond 12-120 fps is a container's
        # artefact (a time base read as a rate), which must not make every step a swing.
        self._swing_min_shift = SWING_MIN_SPEED / min(max(float(rate), 12.0), 120.0)
        if checked:
            self._detector = _SaturationLumaDetector(
                adaptive_threshold=ADAPTIVE_THRESHOLD,
                min_scene_len=float(min_shot_s),
                min_content_val=MIN_CHANGE,
                weights=SATURATION_AND_LUMA,
            )
        else:
            self._detector = AdaptiveDetector(min_scene_len=float(min_shot_s))
        # Frames held after a candidate before it is checked: the check frames, or a whip pan's
        # longest smeared run and the steady frames after it.
        self._blur_run_frames = max(1, int(round(BLUR_RUN_MAX_S * float(rate))))
        self._after = max(CHECK_FRAMES, self._blur_run_frames + BLUR_REF_FRAMES)
        self._frames = TinyFrames(4 * CHECK_FRAMES + 12 + 2 * (self._after - CHECK_FRAMES))
        # Fine detail (std of frame minus its blur) of each held frame, by frame index
        self._detail: deque[float] = deque(maxlen=self._frames.capacity)
        # Change from frame i - 1 to frame i once a small camera move is undone, for the frames held
        self._steps: deque[float] = deque(maxlen=self._frames.capacity)
        self._times: list[float] = []  # recent frame times, for time -> frame index
        self._pending: list[int] = []  # frame indices of cuts waiting for their check
        self._last: FrameTimecode | None = None
        self._last_cut = -1  # frame index of the last cut reported (two candidates may name it)
        self.latency_frames = self._detector.window_width + self._after + 1

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        self._last = make_timecode(time_s, self._rate)
        found = self._detector.process_frame(self._last, frame)
        if not self._checked:
            return [Cut(tc.seconds, "hard") for tc in found]
        self._frames.add(time_s, frame)
        newest = self._frames.count - 1
        moved = 0.0
        if self._frames.has(newest - 1):
            moved = aligned_distance(self._frames.soft(newest - 1), self._frames.soft(newest))
        self._steps.append(moved)
        self._detail.append(_fine_detail_level(frame))
        self._times.append(time_s)
        del self._times[: -4 * CHECK_FRAMES - 8]
        for tc in found:
            offset = bisect.bisect_left(self._times, tc.seconds - 1e-7)
            bisect.insort(self._pending, self._frames.count - len(self._times) + offset)
        self._find_jump()
        return self._settle(final=False)

    def _find_jump(self) -> None:
        """Adds a candidate where our own copies jump and the detector's score stayed low.

        Between two framings of a low-contrast greyscale texture the detector's mean HSV change
        can stay under ``MIN_CHANGE`` while the 1/4-size copies jump ``JUMP_RATIO`` times more
        than between their neighbours. A jump under ``JUMP_MIN`` must stand out
        ``FAINT_JUMP_RATIO`` times: real footage jumps that little at dropped frames and fast
        motion, at most 7.4 times its neighbours in the zoo's 12 files.
        """
        frames = self._frames
        index = frames.count - 1 - CHECK_FRAMES
        if not frames.has(index - CHECK_FRAMES - 1):
            return
        jump = self._step(index)
        if jump < FAINT_JUMP_MIN:  # most frames: no need to look around
            return
        steps = [self._step(i) for i in range(index - CHECK_FRAMES, index + CHECK_FRAMES + 1)]
        del steps[CHECK_FRAMES]
        # Against its two neighbours too: a whip pan's blurred swing changes several frames.
        usual = max(_median(steps), steps[CHECK_FRAMES - 1], steps[CHECK_FRAMES])
        ratio = JUMP_RATIO if jump >= JUMP_MIN else FAINT_JUMP_RATIO
        standing_out = jump >= ratio * usual
        if standing_out and index not in self._pending:
            bisect.insort(self._pending, index)

    def _step(self, index: int) -> float:
        """The change into frame ``index`` with camera shake and pans undone (levels)."""
        return self._steps[index - (self._frames.count - len(self._steps))]

    def post_process(self) -> list[Cut]:
        if self._last is None:
            return []
        found = self._detector.post_process(self._last)
        if not self._checked:
            return [Cut(tc.seconds, "hard") for tc in found]
        return self._settle(final=True)

    def _settle(self, final: bool) -> list[Cut]:
        cuts = []
        while self._pending and (final or self._frames.count > self._pending[0] + self._after):
            index = self._jump_near(self._pending.pop(0))
            if index is not None and index != self._last_cut and self._is_cut(index):
                cuts.append(Cut(self._frames.time(index), "hard"))
                self._last_cut = index
        return cuts

    def _jump_near(self, index: int) -> int | None:
        """The frame where the picture jumps: ``index``, unless a frame within 3 jumps far more.

        The adaptive detector names a frame of its window, which around a flash need not be
        the one where the picture jumps; at a cut it is, and then it is kept.
        """
        frames = self._frames
        near = [i for i in range(index - 3, index + 3) if frames.has(i) and frames.has(i - 1)]
        if not near:
            return None
        jumps = {i: distance(frames[i - 1], frames[i]) for i in near}
        largest = max(jumps, key=jumps.get)
        return index if jumps.get(index, 0.0) >= 0.5 * jumps[largest] else largest

    def _is_cut(self, index: int) -> bool:
        """False for a flash (the picture returns) or a lamp (only the exposure changed)."""
        frames = self._frames
        before = [frames[i] for i in range(index - CHECK_FRAMES, index) if frames.has(i)]
        after = [frames[i] for i in range(index, index + CHECK_FRAMES + 1) if frames.has(i)]
        if len(before) < 3 or len(after) < 4:  # at an end of the video: what can be checked
            return len(before) < 2 or len(after) < 2 or self._stands_out(index)
        jump = distance(before[-1], after[0])
        if not self._stands_out(index):
            return False
        closest = min(distance(b, a) for b in before for a in after)
        if closest < RETURN_SHARE * jump or self._shakes_back(index):
            return False
        if self._is_lamp(index):
            return False
        before, after = frames[index - 1], frames[index]
        if _smears(before, after) or _smears(after, before) or self._in_blur_run(index):
            return False
        return not (self._is_swing(index, jump) or self._swing_tracked(index))

    def _in_blur_run(self, index: int) -> bool:
        """Whether frame ``index - 1`` or ``index`` is in a short run of smeared frames.

        The run lasts at most ``BLUR_RUN_MAX_S`` and every frame of it keeps under
        ``BLUR_LEFT_MAX`` of the fine detail of the ``BLUR_REF_FRAMES`` frames before it and of
        those after it (medians), which have at least ``BLUR_SIDES_MIN`` of it, and none is
        darker than half of them (a dip to black is a fade's business). A whip pan smears its
        frames along the swing whatever the camera shows; the frames either side of a cut are
        each as sharp as their own shot.
        """
        first_held = self._frames.count - len(self._detail)
        detail = list(self._detail)

        def level(i: int) -> float:
            return detail[i - first_held]

        longest, refs = self._blur_run_frames, BLUR_REF_FRAMES
        for start in range(max(index - longest, first_held + refs), index + 1):
            before = _median([level(i) for i in range(start - refs, start)])
            if before < BLUR_SIDES_MIN:
                continue
            run_max = 0.0  # the run's sharpest frame so far: it only grows as the run does
            for end in range(start, min(start + longest, index + longest)):
                if end + refs >= self._frames.count:
                    break
                run_max = max(run_max, level(end))
                if run_max >= BLUR_LEFT_MAX * before:
                    break  # longer runs from this start fail too
                if end < index - 1:
                    continue  # the run must hold frame index - 1 or index
                after = _median([level(i) for i in range(end + 1, end + 1 + refs)])
                if after < BLUR_SIDES_MIN or run_max >= BLUR_LEFT_MAX * after:
                    continue
                ref_frames = [*range(start - refs, start), *range(end + 1, end + 1 + refs)]
                bright = _median([float(self._frames[i].mean()) for i in ref_frames])
                if all(self._frames[i].mean() >= 0.5 * bright for i in range(start, end + 1)):
                    return True
        return False

    def _shakes_back(self, index: int) -> bool:
        """Whether, camera moves undone, a frame after the jump matches one before it.

        A jolt of a handheld camera is undone a frame or two later: the frames around it are
        closer than ``RETURN_SHARE`` of the jump (both with camera moves undone). Only the
        frames next to the jump are compared: a cut's frames far apart differ anyway.
        """
        frames = self._frames
        moved_jump = self._step(index)
        # before[-2:] and after[1:3]: the held frames run on, so these are their indices
        pairs = [(b, a) for b in (index - 2, index - 1) for a in (index + 1, index + 2)]
        closest = min(aligned_distance(frames.soft(b), frames.soft(a)) for b, a in pairs)
        return closest < RETURN_SHARE * moved_jump

    def _stands_out(self, index: int) -> bool:
        """Whether the change at ``index`` is ``STANDOUT`` times the median change around it.

        And at least ``NOISE_LEVEL`` (in a still, dark shot the changes around are all noise).
        Both with camera moves undone: the detector's ratio can be fooled by a dip in its
        neighbours (at the end of a dissolve) or by handheld shake over a detailed texture.
        And the move must not explain the jump: undoing it leaves at least ``SHAKE_LEFT`` of
        the change (a cut's frames do not line up under any small shift).
        """
        frames = self._frames
        around = [
            self._step(i)
            for i in range(index - CHECK_FRAMES + 1, index + CHECK_FRAMES + 1)
            if i != index and frames.has(i) and frames.has(i - 1)
        ]
        moved_jump = self._step(index)
        unmoved = aligned_distance(frames.soft(index - 1), frames.soft(index), max_shift=0.0)
        return moved_jump >= max(STANDOUT * _median(around), NOISE_LEVEL) and (
            moved_jump >= SHAKE_LEFT * unmoved
        )

    def _is_lamp(self, index: int) -> bool:
        """Whether only the light changed at ``index``: a lamp switched on or off, anywhere.

        Over a few frames: a global gain of ``LAMP_GAIN`` and an offset map the frame 3 before
        onto the frame 3 after, leaving under ``LAMP_RESIDUAL`` of the change (a lamp switched
        on, rising). At once: the frame is the one before under a smooth gain field (``relit``)
        that leaves under ``LAMP_RESIDUAL`` of the change, brightens some part of the picture
        by ``RELIT_GAIN`` up to ``LAMP_GAIN[1]`` times and darkens none (or the reverse):
        another picture fits a field near 0 or of both signs. Where some part kept its light,
        the fine detail must be the same (``LAMP_DETAIL_SAME_MIN``); over featureless frames,
        a field without offset, a strong light and the pattern (see below). And its fine detail is
        the earlier detail under that light, not more, and its colours are the earlier
        colours but for one tint (``chroma_change``). Unless featureless, the frames are also
        fitted steadied (``_relit_steadied``: softened, a handheld camera's shake undone), and
        the better fit is kept: shake leaves much of the change to a fit of the frames as they
        are, and grain in the frame before biases its field toward 0 (errors in the variables:
        a light dimmed to 0.31 under grain 3 fits 0.22, past the strongest light).
        """
        gain, left = rescaling(self._frames[index - 3], self._frames[index + 3])
        if LAMP_GAIN[0] <= gain <= LAMP_GAIN[1] and left < LAMP_RESIDUAL:
            return True
        before, after = self._frames[index - 1], self._frames[index]
        lit_up = float(after.mean()) > float(before.mean())
        # Over featureless frames a gain and an offset trade off, and a fit of both splits the
        # change between them at random (fields of 4, or below 0, at lamps that doubled the
        # light): the gain field alone is fitted there (``relit``). A light then leaves grain,
        # another framing of the place its faint blotches; but a cut between two framings whose
        # level differs a little fits a gentle field as well, so there the light must be strong.
        flat = featureless(before) and featureless(after)
        low, high, left = relit(before, after, offset=not flat)
        if not flat:
            steadied = self._relit_steadied(index)
            if steadied is not None and steadied[2] < left:
                low, high, left = steadied
        brighter = low >= 1 / RELIT_STILL and RELIT_GAIN <= high <= LAMP_GAIN[1]
        darker = 1 / LAMP_GAIN[1] <= low <= 1 / RELIT_GAIN and high <= RELIT_STILL
        if flat:
            brighter, darker = brighter and high >= LAMP_GAIN[0], darker and low <= 1 / LAMP_GAIN[0]
            # A featureless picture shows only its colour: a light may warm or cool it, but a
            # larger move of that colour is another picture (two plain colour frames, a card).
            if tint_change(before, after) > TINT_CHANGE_MAX:
                return False
        if not ((brighter or darker) and left < (FEATURELESS_LEFT_MAX if flat else LAMP_RESIDUAL)):
            return False
        # A light moves the picture's level the way its field goes. With little contrast (a flat
        # texture) the field and the offset trade off, and one framing fits another as a
        # field below 1 plus an offset that raises the level: no light does that.
        if brighter != lit_up:
            return False
        # Nor does it lower black while it lights the rest: the level moves at least most of
        # the way the least-changed part does. Another framing with more contrast fits a strong
        # field and an offset that takes much of it back (a field of 2 everywhere, the level
        # up 1.39 times).
        if not _level_follows(before, after, low if brighter else high, brighter):
            return False
        # Which picture shows the place is the same, and was not reframed:
        every_part = low >= RELIT_GAIN or high <= 1 / RELIT_GAIN
        if flat:
            # fine detail is grain here, and so may the mid-scale pattern be (a smooth
            # gradient); where it stands above grain (a flat texture), a light keeps it.
            same_place = (
                not pattern_shown(before, after)
                or pattern_correlation(before, after) >= LAMP_DETAIL_SAME_MIN
            )
        elif every_part:
            # where every part changed its light, a darkening field also maps one framing of a
            # flat texture onto another (whose fine detail is grain): the mid-scale pattern tells.
            same_place = pattern_correlation(before, after) >= LAMP_PATTERN_SAME_MIN
        else:
            # a spot lamp may leave part of the picture as it was. But a smooth field also maps
            # one framing of a smooth place onto another: where some part kept its light, only
            # the same fine detail in both frames tells the lamp from such a cut.
            same_place = detail_correlation(before, after) >= LAMP_DETAIL_SAME_MIN
        if not same_place:
            return False
        # No light makes detail that was not there: a cut from a smooth place (a sky, a colour
        # gradient) to a darker detailed one fits a smooth field of one sign, the fine detail
        # grows far beyond the field's gain. And one switched off leaves less of it, never
        # more, its grain staying as it was: a cut to a darker framing of a place with more
        # detail (a clock's face) fits a field of one sign as well (lamps off: detail above
        # grain <= 0.65 of the earlier; 7362's cut 1.18).
        growth_max = DETAIL_GROWTH_MAX * high if brighter else min(DETAIL_GROWTH_MAX * high, 1.0)
        detail_before, detail_after = fine_detail(before).std(), fine_detail(after).std()
        if detail_after - DETAIL_NOISE > growth_max * detail_before:
            return False
        # Nor does it recolour the picture part by part: a cut between two smooth colour places
        # (two skies, two gradients) fits a smooth field of one sign just as well.
        return chroma_change(before, after) <= CHROMA_CHANGE_MAX

    def _relit_steadied(self, index: int) -> tuple[float, float, float] | None:
        """``relit`` of the frames either side of ``index``, softened and each moved half way
        onto the other, where they are a shake apart (``LAMP_SHAKE_MAX``), else None.

        A lamp switched on in a dark room filmed handheld: the lit pixels are few and small
        (stars, windows, highlights), and a shift of half a tiny pixel changes them more than
        the light does (distractor lamp 667: the fit left 0.61 of the change, steadied 0.15).
        The frames are compared as ``aligned_distance`` compares them (``half_aligned``).
        """
        pair = half_aligned(self._frames.soft(index - 1), self._frames.soft(index), LAMP_SHAKE_MAX)
        return None if pair is None else relit(*pair)

    def _is_swing(self, index: int, jump: float) -> bool:
        """Whether the jump at ``index`` is the middle of a whip pan (see the module docstring)."""
        frames = self._frames
        if not (frames.has(index - CHECK_FRAMES) and frames.has(index + CHECK_FRAMES)):
            return False
        if not any(self._swings_at(i, index, jump) for i in (index - 1, index + 1)):
            return False
        swung = shifted_share(frames[index - CHECK_FRAMES], frames[index + CHECK_FRAMES])
        return swung < SWING_SHIFT_LEFT or self._moves_one_way(index)

    def _swing_tracked(self, index: int) -> bool:
        """Whether the jump at ``index`` is a step of a fast camera move, followed frame to frame.

        The step shifts the picture (``step_shift``, which needs no fine detail) at
        ``SWING_MIN_SPEED`` or faster, that shift explains all but ``SWING_TRACKED_LEFT`` of
        the change, and the step before or after shifts it as far in a direction less than 60
        degrees away: the first or last step of a whip pan over a smooth or blurred place, where
        phase correlation finds no shift and the swing's other side is still.
        """
        frames = self._frames
        least = self._swing_min_shift * frames[index].shape[1]
        jump_shift = step_shift(frames[index - 1], frames[index])
        if float(np.hypot(*jump_shift)) < least:
            return False
        if tracked_share(frames[index - 1], frames[index], jump_shift) >= SWING_TRACKED_LEFT:
            return False
        for step in (index - 1, index + 1):
            if not (frames.has(step - 1) and frames.has(step)):
                continue
            shift = step_shift(frames[step - 1], frames[step])
            if float(np.hypot(*shift)) >= least and _cosine(shift, jump_shift) > 0.5:
                return True
        return False

    def _swings_at(self, step: int, index: int, jump: float) -> bool:
        """Whether the step into frame ``step`` next to the jump is part of a fast swing.

        It changes the picture ``SWING_SPREAD`` of the jump, and not as a slow pan does: it
        still changes it that much with small camera moves undone, or it shifts the picture at
        ``SWING_MIN_SPEED`` or faster. (A slow pan over a detailed texture changes
        every frame a lot, and a cut in it must stay a cut.)
        """
        frames = self._frames
        if distance(frames[step - 1], frames[step]) < SWING_SPREAD * jump:
            return False
        if self._step(step) >= SWING_SPREAD * self._step(index):
            return True
        shift = global_shift(frames[step - 1], frames[step])
        return float(np.hypot(*shift)) >= self._swing_min_shift * frames[step].shape[1]

    def _moves_one_way(self, index: int) -> bool:
        """Whether the camera moves fast the same way into and out of the jump at ``index``.

        The steps before and after a whip pan's middle are themselves global shifts at
        ``SWING_MIN_SPEED`` or faster, in directions less than 60 degrees apart (the
        swing may also zoom, which a shift over the whole swing cannot explain).
        """
        frames = self._frames
        width = frames[index].shape[1]
        shifts = [global_shift(frames[i - 1], frames[i]) for i in (index - 1, index + 1)]
        if min(float(np.hypot(*shift)) for shift in shifts) < self._swing_min_shift * width:
            return False
        return _cosine(*shifts) > 0.5


def _fine_detail_level(frame: np.ndarray) -> float:
    """Std of the grey detection frame minus its ``BLUR_SIGMA`` blur, inside an 8 px margin."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    fine = grey - cv2.GaussianBlur(grey, (0, 0), BLUR_SIGMA)
    return float(fine[8:-8, 8:-8].std())


def _level_follows(before: np.ndarray, after: np.ndarray, weakest: float, brighter: bool) -> bool:
    """Whether the mean level moved ``LEVEL_FOLLOWS_MIN`` of the way (in log) that the gain
    ``weakest`` of the least-changed part goes: as a light moves it, all parts multiplied."""
    moved = float(np.log(max(level_ratio(before, after), 1e-6)))
    least = LEVEL_FOLLOWS_MIN * float(np.log(max(weakest, 1e-6)))
    return moved >= least if brighter else moved <= least


def _cosine(first: tuple[float, float], second: tuple[float, float]) -> float:
    """Cosine of the angle between two shifts (neither zero)."""
    (ax, ay), (bx, by) = first, second
    return float((ax * bx + ay * by) / (np.hypot(ax, ay) * np.hypot(bx, by)))


def _line_kernel(length: int, angle: float, centred: bool) -> np.ndarray:
    """A normalised line of ``length`` pixels at ``angle`` degrees: the blur of a straight move.

    Centred on the pixel, or running from it (the frame after a move's start shows the picture
    smeared from where it was to where it went).
    """
    size = length if centred else 2 * length - 1
    kernel = np.zeros((size, size), np.float32)
    middle = (size - 1) / 2
    dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    reach = (length - 1) / 2 if centred else length - 1
    for t in np.linspace(-reach if centred else 0.0, reach, 4 * length):
        kernel[int(round(middle + t * dy)), int(round(middle + t * dx))] = 1.0
    return kernel / kernel.sum()


# Lines of 3 to 15 tiny pixels (5% to 23% of a 64-pixel width): centred every 15 degrees, and
# running from the pixel every 15 degrees all round.
_SMEARS = [
    (a, _line_kernel(n, a, centred))
    for n in (3, 5, 9, 15)
    for centred, angles in ((True, range(0, 180, 15)), (False, range(0, 360, 15)))
    for a in angles
]


def _smears(smeared: np.ndarray, sharp: np.ndarray) -> bool:
    """Whether ``smeared`` is ``sharp`` blurred along one line: the start or end of a whip pan.

    A camera swinging fast smears the picture along its move, so where the swing starts or
    stops, the frames either side differ as a sharp picture and its line blur, even when the
    smeared frames hardly change among themselves and no shift can be measured (a detailed
    place seen through the blur). The best line blur must leave under ``SMEAR_LEFT`` of the
    change, and the smeared frame must have lost its detail along that line: its gradients
    along it carry under ``SMEAR_ALONG_MAX`` of their energy across it (the blur of one place
    can resemble a smooth other place; a smear has a direction). And the blur must show the
    smeared frame's own structure, leaving under ``SMEAR_OWN_LEFT`` of its deviation from its
    mean level: a detailed picture blurred hard is a flat grey at its mean, which leaves little
    of the change from any flat place at that level with a grain of direction (a cut from a
    rock's surface into a brick wall), but explains nothing of that place's own spots.
    """
    inner = centre(sharp)
    grad_y, grad_x = (g[inner] for g in np.gradient(smeared.mean(axis=2)))
    # Gradient energy along angle a is c^2 Jxx + 2cs Jxy + s^2 Jyy: its least ratio to the energy
    # across (the structure tensor's eigenvalues) bounds every line's, so a frame with no
    # direction is no smear, and most frames need no blur at all.
    tensor = np.array(
        [
            [(grad_x * grad_x).mean(), (grad_x * grad_y).mean()],
            [(grad_x * grad_y).mean(), (grad_y * grad_y).mean()],
        ]
    )
    least, most = np.linalg.eigvalsh(tensor)
    if least >= SMEAR_ALONG_MAX * most:
        return False
    change = max(float(np.abs(smeared - sharp)[inner].mean()), 1e-6)

    def left(kernel: np.ndarray) -> float:  # change a line blur of the sharp frame leaves
        blurred = cv2.filter2D(sharp, -1, kernel, borderType=cv2.BORDER_REPLICATE)
        return float(np.abs(blurred - smeared)[inner].mean()) / change

    least_left, angle = min((left(kernel), angle) for angle, kernel in _SMEARS)
    if least_left >= SMEAR_LEFT:
        return False
    own = float(np.abs(smeared - smeared[inner].mean(axis=(0, 1)))[inner].mean())
    if least_left * change >= SMEAR_OWN_LEFT * own:
        return False
    cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    along = float(((grad_x * cos + grad_y * sin) ** 2).mean())
    across = float(((grad_y * cos - grad_x * sin) ** 2).mean())
    return along < SMEAR_ALONG_MAX * across
