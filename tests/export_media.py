"""Test films for the exports: every frame shows its own number, every shot has its own tone.

The top half of each frame is a 10-bit barcode of the frame's index (white bar = 1), the bottom
half the shot's colour; the sound is a sine whose pitch is the shot's. A frame decoded from a
clip therefore says which source frame it is, through any codec noise. The matching
:class:`~trajectory.results.Analysis` is built directly with chosen per-scene emotions.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.results import Analysis
from trajectory.video import VideoInfo

BITS = 10
SIZE = (160, 96)
SAMPLE_RATE = 48000
SHOT_COLORS = [(200, 40, 40), (40, 170, 60), (40, 70, 210), (220, 190, 30), (150, 40, 170)]


def draw_frame(index: int, shot: int) -> np.ndarray:
    """(96, 160, 3) uint8: index barcode on top, shot colour below."""
    width, height = SIZE
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[height // 2 :] = SHOT_COLORS[shot % len(SHOT_COLORS)]
    bar = width // BITS
    for bit in range(BITS):
        if index >> bit & 1:
            rgb[: height // 2, bit * bar : (bit + 1) * bar] = 255
    return rgb


def frame_number(rgb: np.ndarray) -> int:
    """Reads back the index :func:`draw_frame` drew (centre of each bar, thresholded)."""
    width, height = rgb.shape[1], rgb.shape[0]
    bar = width // BITS
    row = rgb[height // 4, :, :].mean(axis=1)
    return sum(1 << bit for bit in range(BITS) if row[bit * bar + bar // 2] > 128)


def write_film(path: Path, rate: Fraction, shot_frames: Sequence[int], audio: bool = True) -> Path:
    """An H.264 + AAC MP4 at ``rate`` (e.g. 30000/1001): shots of the given frame counts."""
    shot_of = np.repeat(np.arange(len(shot_frames)), shot_frames)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        video.options = {"crf": "16", "g": "24"}
        sound = container.add_stream("aac", rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for index, shot in enumerate(shot_of):
            frame = av.VideoFrame.from_ndarray(draw_frame(index, int(shot)), format="rgb24")
            frame.pts, frame.time_base = index, 1 / rate
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            _write_tones(container, sound, shot_of, rate)
    return path


def _write_tones(container, stream, shot_of: np.ndarray, rate: Fraction) -> None:
    seconds = len(shot_of) / rate
    total = int(seconds * SAMPLE_RATE)
    t = np.arange(total) / SAMPLE_RATE
    shot = shot_of[np.minimum((t * float(rate)).astype(int), len(shot_of) - 1)]
    wave = (0.3 * np.sin(2 * np.pi * (330.0 + 110.0 * shot) * t)).astype(np.float32)
    for start in range(0, total, 1024):
        chunk = wave[start : start + 1024][None, :]
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def one_hot_mix(emotion: str, share: float) -> np.ndarray:
    """(8,) probabilities: ``share`` on ``emotion``, the rest spread evenly."""
    probs = np.full(len(EMOTIONS), (1 - share) / (len(EMOTIONS) - 1))
    probs[EMOTIONS.index(emotion)] = share
    return probs


def film_analysis(
    path: Path,
    rate: Fraction,
    shot_frames: Sequence[int],
    shot_scene: Sequence[int],
    probs_at,
    sample_every: int = 6,
    emotional: bool = True,
) -> Analysis:
    """The Analysis of :func:`write_film`'s film: the given shots and scenes, a frame scored
    every ``sample_every`` frames with ``probs_at(frame_index, shot) -> (8,)`` probabilities."""
    starts = np.concatenate([[0], np.cumsum(shot_frames)[:-1]])
    total = int(np.sum(shot_frames))
    seconds = lambda frames: np.asarray(frames, dtype=np.float64) / float(rate)  # noqa: E731
    shots = pd.DataFrame(
        {
            "index": np.arange(len(shot_frames)),
            "start_s": seconds(starts),
            "end_s": seconds(starts + np.asarray(shot_frames)),
            "transition": ["start"] + ["hard"] * (len(shot_frames) - 1),
            "scene": np.asarray(shot_scene),
        }
    )
    sampled = np.unique(np.concatenate([np.arange(0, total, sample_every), starts]))
    shot_of = np.searchsorted(starts, sampled, side="right") - 1
    probs = np.array([probs_at(int(i), int(s)) for i, s in zip(sampled, shot_of)])
    if not emotional:
        probs[:] = np.nan
    frames = pd.DataFrame({"time_s": seconds(sampled), "shot": shot_of})
    frames["scene"] = shots["scene"].to_numpy()[shot_of]
    for i, name in enumerate(EMOTIONS):
        frames[name] = probs[:, i]
    frames["valence"] = valence(probs)
    frames["brightness"], frames["colourfulness"] = 0.5, 40.0
    frames["weight_s"] = aggregate.frame_weights(
        frames["time_s"].to_numpy(),
        shot_of,
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
    )
    info = VideoInfo(
        path=str(path.resolve()),
        width=SIZE[0],
        height=SIZE[1],
        coded_width=SIZE[0],
        coded_height=SIZE[1],
        rotation=0,
        fps=float(rate),
        time_base=1 / rate,
        start_s=0.0,
        duration_s=float(total / rate),
        frame_count=total,
        codec="h264",
        title=None,
    )
    return Analysis(
        video=info,
        end_s=float(total / rate),
        frames_decoded=total,
        decode_errors=0,
        model={"arch": "vgg19", "sha256": "ab" * 32, "classes": list(EMOTIONS)}
        if emotional
        else None,
        sampling_fps=float(rate) / sample_every,
        frames=frames,
        shots=shots,
        scenes=aggregate.scene_table(frames, shots),
        film=aggregate.summarize_film(frames),
    )
