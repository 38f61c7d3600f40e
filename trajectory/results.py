"""What an analysis found, as plain data: no torch, no decoding.

Exporters, the report and the catalogue read an :class:`Analysis`; it is built by
:func:`trajectory.assemble.assemble` after a scan, or read back from an output folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trajectory import aggregate
from trajectory.signatures import ShotSignatures
from trajectory.videoinfo import VideoInfo


@dataclass
class Analysis:
    """Everything ``analyze`` found. Tables are pandas DataFrames (one row per item)."""

    video: VideoInfo
    end_s: float
    frames_decoded: int
    decode_errors: int
    model: dict | None  # tags.json "model" block, None without a model
    sampling_fps: float
    frames: (
        pd.DataFrame
    )  # time_s, weight_s, shot, scene, 8 classes, valence, brightness, colourfulness
    shots: pd.DataFrame  # index, start_s, end_s, scene, transition
    scenes: (
        pd.DataFrame
    )  # index, start_s, end_s, first_shot, last_shot, dominant, confidence, 8 classes
    film: aggregate.FilmSummary
    keyframes: dict[int, bytes] = field(default_factory=dict)  # scene -> JPEG thumbnail
    truncated: bool = False  # decoding ended well before the declared duration or frame count
    skipped_out_of_order: int = 0  # frames dropped because their timestamps went back
    late_cuts: int = 0  # cuts the detectors reported after the shot around them was settled
    crop: dict | None = None  # the picture inside black bars: x, y, width, height (display px)
    scene_grouping: dict | None = None  # trajectory.scenes.SceneParams.as_dict()
    shot_signatures: ShotSignatures | None = None  # what scenes were grouped on (shots.npz)
    shot_detection: str = "fast"  # detector set: "fast", "learned" or "classic"

    @property
    def start_s(self) -> float:
        return float(self.shots["start_s"].iloc[0])

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
