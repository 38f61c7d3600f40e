"""Exports benchmark: how long the writers take on a feature-length analysis, and how fast clips
and a reel render against the length of what they show.

    .venv/bin/python benchmarks/exports.py          # about a minute on 2 cores

1. Writers: a made-up 2-hour analysis at 23.976 (1500 shots, 300 scenes, a frame scored every
   second) is saved once; each format is then read back and rendered from the saved files.
2. Rendering: ``sample_videos/photos_720p.mp4`` (30 s, 1280x720, 29.97) with a sine sound track
   added (stream copy of the video) and made-up fear scores per true scene; 3 clips and a 10 s
   reel. Reported as seconds of output per wall second (the realtime factor) and CPU seconds.

Writes ``benchmarks/out/exports.json`` and prints a table.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from export_media import film_analysis, one_hot_mix  # noqa: E402 (test media helpers)

from trajectory.export import read_outputs, write_outputs  # noqa: E402
from trajectory.exports import WRITERS  # noqa: E402
from trajectory.exports.ffmpeg_graph import find_ffmpeg  # noqa: E402
from trajectory.exports.render import make_clips, make_reel  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "exports"
SAMPLE = ROOT / "sample_videos" / "photos_720p.mp4"
MOODS = ("fear", "awe", "sadness", "amusement", "excitement")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _timed(action):
    wall, cpu = time.perf_counter(), _cpu_s()
    result = action()
    return result, time.perf_counter() - wall, _cpu_s() - cpu


def _mood(scene_of_shot: np.ndarray, index: int, shot: int) -> np.ndarray:
    scene = int(scene_of_shot[shot])
    return one_hot_mix(MOODS[scene % len(MOODS)], 0.3 + 0.5 * ((scene * 7) % 10) / 10)


def bench_writers() -> list[dict]:
    rate = Fraction(24000, 1001)
    rng = np.random.default_rng(0)
    lengths = rng.integers(48, 230, 1500)
    lengths = np.round(lengths * 172_627 / lengths.sum()).astype(int)  # 2 hours at 23.976
    scenes = np.sort(np.concatenate([[0], rng.choice(np.arange(1, 1500), 299, replace=False)]))
    scene_of_shot = np.searchsorted(scenes, np.arange(1500), side="right") - 1
    mood = lambda i, s: _mood(scene_of_shot, i, s)  # noqa: E731
    analysis = film_analysis(OUT / "long.mp4", rate, lengths, scene_of_shot, mood, 24)
    folder = write_outputs(analysis, OUT / "long")
    saved, read_s, _ = _timed(lambda: read_outputs(folder))
    rows = [{"what": "read_outputs (2 h, 7200 frames)", "wall_s": read_s}]
    for name, writer in WRITERS.items():
        data, wall, cpu = _timed(lambda w=writer: w().render(saved))
        rows.append({"what": f"render {name}", "wall_s": wall, "cpu_s": cpu, "bytes": len(data)})
    return rows


def _sample_with_sound() -> Path:
    import ffmpeg

    target = OUT / "photos_720p_sound.mp4"
    if not target.is_file():
        video = ffmpeg.input(str(SAMPLE)).video
        sound = ffmpeg.input("sine=frequency=440:sample_rate=48000:duration=30.3", f="lavfi")
        command = ffmpeg.output(
            video, sound, str(target), vcodec="copy", acodec="aac", shortest=None
        )
        command.overwrite_output().run(cmd=find_ffmpeg(), quiet=True)
    return target


def bench_rendering() -> list[dict]:
    film = _sample_with_sound()
    truth = json.loads(SAMPLE.with_name("photos_720p.truth.json").read_text())
    frames = [s["end_frame"] - s["start_frame"] for s in truth["shots"]]
    scene_of_shot = np.array([s["scene"] for s in truth["shots"]])
    mood = lambda i, s: _mood(scene_of_shot, i, s)  # noqa: E731
    analysis = film_analysis(film, Fraction(30000, 1001), frames, scene_of_shot, mood, 15)
    folder = write_outputs(analysis, OUT / "sample")
    rows = []
    clips, wall, cpu = _timed(lambda: make_clips(folder, "fear", top=3))
    shown = sum(c.duration_s for c in clips.cuts)
    rows.append(_render_row(f"3 clips, {shown:.1f} s of 720p", shown, wall, cpu))
    reel, wall, cpu = _timed(lambda: make_reel(folder, "fear", seconds=10.0, segment_s=3.0))
    rows.append(_render_row(f"10 s reel, {len(reel.cuts)} segments, 720p", 10.0, wall, cpu))
    return rows


def _render_row(what: str, seconds: float, wall: float, cpu: float) -> dict:
    return {"what": what, "wall_s": wall, "cpu_s": cpu, "realtime_x": seconds / wall}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = bench_writers() + bench_rendering()
    (OUT.parent / "exports.json").write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        extras = ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in row.items()
            if k not in ("what", "wall_s")
        )
        print(f"{row['what']:<40} {row['wall_s']:7.3f} s   {extras}")


if __name__ == "__main__":
    main()
