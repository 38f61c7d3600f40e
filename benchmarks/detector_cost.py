"""CPU cost of each ``fast`` shot detector per frame, and every film's cuts (to diff two versions).

The film is decoded first, exactly as ``analyze`` feeds the detectors (crop, ~256 px BGR copies
with their presentation times); then a ``ShotDetector`` runs over those frames with OpenCV
single-threaded, as in ``FilmScan``, and each detector's ``process_frame`` is timed in process
CPU time::

    .venv/bin/python benchmarks/detector_cost.py \
        benchmarks/out/structure/photo-1080p24-v1-seed11.mp4
    .venv/bin/python benchmarks/detector_cost.py --cuts benchmarks/out/structure/*.mp4 > cuts.json

``--cuts`` prints each film's cut times and kinds as JSON instead: run it on two versions (from
their source trees, ``PYTHONPATH=tree``) and diff the outputs; a change meant only to save time
must leave them identical.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from trajectory.crop import cropped_array, detect_crop
from trajectory.shots import ShotDetector, detection_size
from trajectory.video import FrameReader, probe_video


def detection_frames(path: Path) -> tuple[list[float], list[np.ndarray], float]:
    """(presentation times, small BGR frames, nominal fps) as ``FilmScan`` feeds the detectors."""
    info = probe_video(path)
    crop = detect_crop(info)
    size = detection_size(*((crop.width, crop.height) if crop else (info.width, info.height)))
    times, frames = [], []
    for frame in FrameReader(info):
        frames.append(cropped_array(frame, crop, info, *size, fmt="bgr24"))
        times.append(frame.time_s)
    return times, frames, info.fps


def run(times: list[float], frames: list[np.ndarray], fps: float) -> tuple[list, dict[str, float]]:
    """(cuts, CPU seconds spent in each detector's ``process_frame``) of one pass."""
    shots = ShotDetector(fps)
    spent = {type(d).__name__: 0.0 for d in shots._detectors}
    for detector in shots._detectors:
        detector.process_frame = _Timed(detector.process_frame, type(detector).__name__, spent)
    for time_s, frame in zip(times, frames):
        shots.process(time_s, frame)
    shots.finish()
    return [(round(c.time_s, 6), c.kind) for c in shots.cuts], spent


class _Timed:
    """A detector's ``process_frame`` that adds the CPU time of each call to ``spent[name]``."""

    def __init__(self, process_frame, name: str, spent: dict[str, float]):
        self.process_frame, self.name, self.spent = process_frame, name, spent

    def __call__(self, time_s: float, frame: np.ndarray) -> list:
        start = time.process_time()
        found = self.process_frame(time_s, frame)
        self.spent[self.name] += time.process_time() - start
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("films", type=Path, nargs="+")
    parser.add_argument("--cuts", action="store_true", help="print every film's cuts as JSON")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is kept)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    cuts_of = {}
    for film in args.films:
        times, frames, fps = detection_frames(film)
        if args.cuts:
            cuts_of[film.name] = run(times, frames, fps)[0]
            continue
        passes = [run(times, frames, fps)[1] for _ in range(args.repeat)]
        best = {name: min(p[name] for p in passes) for name in passes[0]}
        row = ", ".join(f"{name} {1000 * s / len(times):.3f}" for name, s in best.items())
        print(f"{film.name} ({len(times)} frames), CPU ms a frame, best of {args.repeat}: {row}")
    if args.cuts:
        print(json.dumps(cuts_of, indent=0))


if __name__ == "__main__":
    main()
