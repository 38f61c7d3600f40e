"""The writer interface every export format implements, and the scene facts they share.

An export reads an :class:`~trajectory.results.Analysis` (from ``analyze`` or read back from an
output folder) and writes one file. Each format is one :class:`ExportWriter` subclass in its own
module; :mod:`trajectory.exports` lists them by name.
"""

from __future__ import annotations

import importlib
import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

import numpy as np

from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.files import atomic_write
from trajectory.results import Analysis

# Rates written as 3-decimal floats in tags.json ("29.97") that are really NTSC fractions.
NTSC_RATES = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001))
NTSC_RATES += (Fraction(60000, 1001), Fraction(120000, 1001))
INSTALL_HINT = "pip install 'trajectory[export]'"


@dataclass(frozen=True)
class SceneMark:
    """One scene as the exporters see it: its span in seconds and in frames from the film start.

    ``first_frame``/``frames`` count frames of the film's rate from its first frame, the same
    numbering an editor's timeline uses (source timecode 00:00:00:00 is the first frame).
    """

    index: int
    start_s: float
    end_s: float
    first_frame: int
    frames: int
    shots: tuple[int, ...]
    dominant: str | None
    confidence: float | None
    distribution: dict[str, float] | None  # the 8 shares, None without a model

    def top_shares(self, count: int = 3) -> list[tuple[str, float]]:
        """The ``count`` largest (emotion, share) pairs, largest first; [] without a model."""
        if self.distribution is None:
            return []
        ranked = sorted(self.distribution.items(), key=lambda kv: (-kv[1], EMOTIONS.index(kv[0])))
        return ranked[:count]

    def as_json(self) -> dict:
        """The scene as tags.json writes it, plus its span in frames."""
        return {
            "index": self.index,
            "start_s": round(self.start_s, 6),
            "end_s": round(self.end_s, 6),
            "first_frame": self.first_frame,
            "frames": self.frames,
            "shots": list(self.shots),
            "dominant": self.dominant,
            "confidence": self.confidence,
            "distribution": self.distribution,
        }


def film_rate(fps: float) -> Fraction:
    """The exact frame rate behind a rounded one: 29.97 -> 30000/1001, 25.0 -> 25.

    Raises:
        InputError: the rate is not a positive number.
    """
    if not math.isfinite(fps) or fps <= 0:
        raise InputError(None, f"the film's frame rate {fps!r} is unusable for timecodes")
    for rate in NTSC_RATES:
        if abs(fps - float(rate)) < 0.002:
            return rate
    return Fraction(fps).limit_denominator(1001)


def scene_marks(analysis: Analysis) -> list[SceneMark]:
    """The scenes of ``analysis`` with frame numbers at the film's rate.

    Raises:
        InputError: the analysis has no scene (nothing to export).
    """
    scenes = analysis.scenes
    if scenes is None or len(scenes) == 0:
        raise InputError(analysis.video.path, "the scene table is empty: nothing to export")
    rate = film_rate(analysis.video.fps)
    origin = analysis.start_s
    shots_of = analysis.shots.groupby("scene")["index"].apply(list)
    marks = []
    for row in scenes.itertuples(index=False):
        first = round((row.start_s - origin) * rate)
        last = round((row.end_s - origin) * rate)
        shares = np.array([getattr(row, name) for name in EMOTIONS], dtype=np.float64)
        emotional = bool(np.isfinite(shares).all())
        marks.append(
            SceneMark(
                index=int(row.index),
                start_s=float(row.start_s),
                end_s=float(row.end_s),
                first_frame=int(first),
                frames=max(int(last - first), 1),
                shots=tuple(int(i) for i in shots_of.get(row.index, [])),
                dominant=row.dominant if emotional else None,
                confidence=round(float(row.confidence), 4) if emotional else None,
                distribution=_shares(shares) if emotional else None,
            )
        )
    return marks


def _shares(values: np.ndarray) -> dict[str, float]:
    return {name: round(float(p), 4) for name, p in zip(EMOTIONS, values / values.sum())}


def film_frames(analysis: Analysis) -> int:
    """The film's length in frames at its rate, from its first frame."""
    return max(round(analysis.duration_s * film_rate(analysis.video.fps)), 1)


def require(module: str, purpose: str):
    """Imports an optional dependency, or fails with how to install it.

    Raises:
        InputError: the package is not installed (the CLI exits 2 with this line).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            None, f"{purpose} needs the Python package {module!r}: {INSTALL_HINT}"
        ) from None


class ExportWriter(ABC):
    """One export format: renders an analysis to the bytes of one file.

    Subclasses set ``format`` (the name on the command line), ``filename`` (what it writes in the
    output folder) and ``description``, and implement :meth:`render`.
    """

    format: ClassVar[str]
    filename: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def render(self, analysis: Analysis) -> bytes:
        """The file's content."""

    def write(self, analysis: Analysis, out_dir: str | os.PathLike) -> Path:
        """Writes ``out_dir/filename`` atomically and returns its path."""
        path = Path(out_dir) / self.filename
        atomic_write(path, self.render(analysis))
        return path
