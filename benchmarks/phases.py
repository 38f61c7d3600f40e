"""The benchmark's phases. Each runs in a fresh process and returns a dict of measurements.

Times are wall-clock (``time.perf_counter``) plus the process's CPU time (all threads), which
is far less disturbed than wall time when other work shares the machine. ``rss_mib`` is the
process's peak resident memory (VmHWM), imports included.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from trajectory.emotions import EMOTIONS
from trajectory.model import EmotionNet, load_checkpoint, normalize
from trajectory.pipeline import analyze
from trajectory.sampling import UniformSampler
from trajectory.scoring import FrameScorer, select_device
from trajectory.shots import ShotDetector, detection_size
from trajectory.video import FrameReader, probe_video


class Clock:
    """Wall and CPU seconds since creation."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def read(self) -> dict:
        return {
            "wall_s": time.perf_counter() - self.wall0,
            "cpu_s": time.process_time() - self.cpu0,
        }


def peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a
    child would inherit its parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def decode(film: str, fps: float, input_size: int = 224) -> dict:
    """The decode floor: analyze's decoding and resizes, without detection or the model."""
    info = probe_video(film)
    size, sampler, frames, sampled = detection_size(info.width, info.height), None, 0, 0
    sampler = UniformSampler(fps, info.start_s)
    clock = Clock()
    for frame in FrameReader(info):
        frame.to_array(*size, fmt="bgr24")
        if sampler.wants(frame.time_s):
            frame.to_array(input_size, input_size, fmt="rgb24")
            sampled += 1
        frames += 1
    result = clock.read()
    return {**result, "frames": frames, "sampled": sampled, "fps": frames / result["wall_s"]}


def inference(checkpoint: str, device: str, batch_sizes: list[int], seconds: float) -> dict:
    """The inference floor: FrameScorer alone on ready uint8 batches, one entry per batch size."""
    model = load_checkpoint(checkpoint)
    torch_device = select_device(device)
    rng = np.random.default_rng(0)
    size = model.preprocessing.input_size
    out = {"device": str(torch_device), "threads": torch.get_num_threads(), "by_batch": {}}
    for batch_size in batch_sizes:
        scorer = FrameScorer(model, torch_device, batch_size)
        images = rng.integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8)
        scorer.score(images)  # warm-up: kernel choice, allocations
        clock, done = Clock(), 0
        while done == 0 or clock.read()["wall_s"] < seconds:
            scorer.score(images)
            done += batch_size
        result = clock.read()
        out["by_batch"][str(batch_size)] = {
            **result,
            "images": done,
            "images_per_s": done / result["wall_s"],
            "cpu_s_per_image": result["cpu_s"] / done,
        }
    return out


def end_to_end(film: str, checkpoint: str | None, fps: float, batch_size: int, device: str) -> dict:
    """``analyze`` as the CLI runs it (checkpoint loading excluded, as it happens once)."""
    model = load_checkpoint(checkpoint) if checkpoint else None
    clock = Clock()
    result = analyze(film, model, fps=fps, batch_size=batch_size, device=device)
    timing = clock.read()
    scored = int(result.frames[EMOTIONS[0]].notna().sum()) if model else 0
    return {
        **timing,
        "film_s": result.duration_s,
        "frames_decoded": result.frames_decoded,
        "images_scored": scored,
        "samples": len(result.frames),
        "shots": len(result.shots),
        "realtime": result.duration_s / timing["wall_s"],
    }


def naive(film: str, checkpoint: str, fps: float, device: str = "cpu") -> dict:
    """What a first script does: decode and convert every frame, score each sample alone.

    Plain PyAV decoding (its default threading), every frame converted to full-size RGB (as
    ``cv2.VideoCapture.read`` would), one sampled frame per 1/fps resized with OpenCV and
    scored alone by the eager fp32 model in the default (NCHW) layout on ``device``; no
    overlap, no shot detection.
    """
    model, torch_device = load_checkpoint(checkpoint), select_device(device)
    net, prep = model.net.eval().to(torch_device), model.preprocessing
    clock, next_t, scored, frames = Clock(), 0.0, 0, 0
    with av.open(film) as container, torch.inference_mode():
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            frames += 1
            if frame.time + 1e-9 >= next_t:
                small = cv2.resize(rgb, (prep.input_size,) * 2, interpolation=cv2.INTER_AREA)
                x = normalize(torch.from_numpy(small)[None].to(torch_device), prep)
                torch.softmax(net(x.contiguous()), dim=1).cpu()
                scored += 1
                next_t += 1.0 / fps
    result = clock.read()
    return {**result, "frames": frames, "images_scored": scored}


def shots(film: str) -> dict:
    """Our shot detection alone: analyze's decode, the detection-size copy, the detectors."""
    info = probe_video(film)
    size, detector = detection_size(info.width, info.height), ShotDetector(info.fps)
    clock = Clock()
    for frame in FrameReader(info):
        detector.process(frame.time_s, frame.to_array(*size, fmt="bgr24"))
    detector.finish()
    return {**clock.read(), "cut_times_s": [c.time_s for c in detector.cuts]}


def scenedetect_cli(film: str, out_dir: Path, exe: str) -> dict:
    """``scenedetect -i FILM detect-adaptive list-scenes`` in a subprocess; cuts from its CSV."""
    csv = out_dir / "scenedetect-scenes.csv"
    command = [
        exe,
        "-i",
        film,
        "-o",
        str(out_dir),
        "detect-adaptive",
        "list-scenes",
        "-q",
        "-s",
        "-f",
        csv.name,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = Clock()
    subprocess.run(command, check=True, capture_output=True)
    wall = clock.read()["wall_s"]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    lines = csv.read_text().splitlines()
    column = lines[0].split(",").index("Start Time (seconds)")
    starts = [float(line.split(",")[column]) for line in lines[1:]]
    return {"wall_s": wall, "cpu_s": cpu, "cut_times_s": starts[1:], "command": " ".join(command)}


def f1(found_s: list[float], true_frames: list[int], fps: float, tolerance: int = 1) -> dict:
    """Precision, recall, F1 of cuts; a found cut matches an unmatched true cut within
    ``tolerance`` frames (greedy, nearest first)."""
    found = sorted(round(t * fps) for t in found_s)
    unmatched, hits = set(true_frames), 0
    for f in found:
        near = [t for t in unmatched if abs(t - f) <= tolerance]
        if near:
            unmatched.remove(min(near, key=lambda t: abs(t - f)))
            hits += 1
    precision = hits / len(found) if found else 1.0
    recall = hits / len(true_frames) if true_frames else 1.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "found": len(found),
        "true": len(true_frames),
        "precision": precision,
        "recall": recall,
        "f1": score,
    }


def make_checkpoint(path: Path) -> Path:
    """A random-init EmotionNet at the real 224 input: weights do not change speed."""
    from trajectory.model import save_checkpoint

    if not path.exists():
        torch.manual_seed(0)
        save_checkpoint(path, EmotionNet(), training={"note": "random init, for benchmarks"})
    return path


PHASES = {
    "decode": decode,
    "inference": inference,
    "analyze": end_to_end,
    "naive": naive,
    "shots": shots,
}


def run_phase(name: str, args: dict, threads: int | None = None) -> None:
    """Entry point of a phase subprocess: prints one JSON line."""
    if threads:
        torch.set_num_threads(threads)
    result = PHASES[name](**args)
    result["rss_mib"] = peak_rss_mib()
    print(json.dumps(result))
