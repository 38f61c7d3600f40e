"""What the detectors share to stay cheap gives what each computed for itself before.

The shared tiny copy, the softened copies kept per frame and the hard-cut detector's own frame
score are shortcuts: each must give exactly the value of the plain computation (cut times are
compared downstream, a changed score could move one). Frames are seeded random textures at the
detection size; the seeds differ from every benchmark film's.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from scenedetect import AdaptiveDetector

from trajectory.detectors.base import (
    TinyFrames,
    aligned_distance,
    compensated_distance,
    shared_tiny,
    softened,
    timecode,
    tiny,
)
from trajectory.detectors.hard import SATURATION_AND_LUMA, _SaturationLumaDetector

SIZE = (256, 144)


def frames(seed: int, count: int) -> list[np.ndarray]:
    """``count`` BGR uint8 frames: a smooth texture drifting and brightening, with grain."""
    rng = np.random.default_rng(seed)
    noise = cv2.resize(rng.normal(0, 40, (9, 16, 3)).astype(np.float32), (SIZE[0] + 40, SIZE[1]))
    out = []
    for k in range(count):
        picture = noise[:, k : k + SIZE[0]] + 100 + 3 * k + rng.normal(0, 4, (SIZE[1], SIZE[0], 3))
        out.append(np.clip(picture, 0, 255).astype(np.uint8))
    return out


def test_shared_tiny_copy_is_made_once_a_frame_and_is_read_only():
    first, second = frames(7101, 2)
    copy = shared_tiny(first)
    assert shared_tiny(first) is copy  # a second detector fed the same frame
    np.testing.assert_array_equal(copy, tiny(first))
    with pytest.raises(ValueError):
        copy[0, 0, 0] = 0  # held by several detectors
    equal_values = first.copy()  # another frame object: its own copy, even with equal pixels
    assert shared_tiny(equal_values) is not copy
    np.testing.assert_array_equal(shared_tiny(second), tiny(second))


def test_kept_softened_copies_give_the_compensated_distance():
    clip = frames(7102, 40)
    held = TinyFrames(8)
    for k, frame in enumerate(clip):
        held.add(k / 24, frame)
        if held.has(k - 1):
            plain = compensated_distance(tiny(clip[k - 1]), tiny(frame))
            assert aligned_distance(held.soft(k - 1), held.soft(k)) == plain
            assert held.soft(k) is held.soft(k)
    assert len(held._softened) <= held.capacity  # copies of frames no longer held are dropped
    a, b = tiny(clip[0]), tiny(clip[30])
    assert aligned_distance(softened(a), softened(b), 0.0) == compensated_distance(a, b, 0.0)


def test_hard_detector_scores_frames_as_pyscenedetect_does():
    rate = Fraction(24)
    ours = _SaturationLumaDetector(weights=SATURATION_AND_LUMA, min_content_val=3.0)
    theirs = AdaptiveDetector(weights=SATURATION_AND_LUMA, min_content_val=3.0)
    clip = frames(7103, 20) + frames(7104, 20)  # a cut at frame 20
    found = {"ours": [], "theirs": []}
    for k, frame in enumerate(clip):
        found["ours"] += ours.process_frame(timecode(k / 24, rate), frame)
        found["theirs"] += theirs.process_frame(timecode(k / 24, rate), frame)
        assert ours._frame_score == theirs._frame_score  # exact: integer sums over pixel counts
    assert [tc.seconds for tc in found["ours"]] == [tc.seconds for tc in found["theirs"]]
    assert len(found["ours"]) == 1
