"""The analysis pipeline: one decode pass feeds shot detection and batched scoring.

A decoder thread reads the film, feeds every frame (small copy) to the shot detector, picks the
sampled frames and ships them in uint8 batches through a bounded queue; the calling thread scores
each batch as it arrives. PyAV and PyTorch both release the GIL, so decoding and inference
overlap, and memory is bounded by the queue, not by the film.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import queue
import sys
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.errors import InputError
from trajectory.model import EmotionModel, load_checkpoint
from trajectory.resume import ScoreLog, run_key, time_key
from trajectory.sampling import RecentFrames, UniformSampler, brightness, colourfulness, thumbnail
from trajectory.scoring import FrameScorer, select_device
from trajectory.shots import ShotDetector, detection_size, group_scenes, shot_signature
from trajectory.video import FrameReader, VideoInfo, probe_video

log = logging.getLogger("trajectory")

LATE_CUT_S = 3.0  # how long after a cut the detectors may still report it
QUEUE_BATCHES = 3  # ready batches waiting for the model; bounds memory


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

    @property
    def start_s(self) -> float:
        return float(self.shots["start_s"].iloc[0])

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class _Sample:
    id: int
    time_s: float
    brightness: float
    colourfulness: float
    signature: np.ndarray


class _Stop(Exception):
    """Raised inside the decoder thread when the caller gave up (interrupt, scoring error)."""


class _Scan:
    """The decoder thread's work: frames -> cuts, samples, keyframes and model batches."""

    def __init__(self, info: VideoInfo, fps: float, input_size: int | None, batch_size: int):
        self.info = info
        self.reader = FrameReader(info)
        self.sampler = UniformSampler(fps, info.start_s)
        self.detector = ShotDetector(info.fps)
        self.recent = RecentFrames(horizon_s=1.0 / fps + LATE_CUT_S + 1.0)
        self.size = detection_size(info.width, info.height)
        self.input_size = input_size
        self.batch_size = batch_size
        self.batches: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
        self.stop = threading.Event()
        self.samples: list[_Sample] = []
        self._times: list[float] = []  # sorted sample times, for "does this shot have one?"
        self._thumbs: dict[int, bytes] = {}  # samples not yet settled into a shot
        self.shot_keyframes: dict[float, bytes] = {}  # shot start -> JPEG thumbnail
        self._open_start = info.start_s  # start of the first shot not yet settled
        self._batch_ids: list[int] = []
        self._batch_images: list[np.ndarray] = []
        self.progress: tqdm | None = None
        self.logged: dict[int, np.ndarray] = {}  # scores from an interrupted run: time µs -> probs
        self.reused: dict[int, np.ndarray] = {}  # sample id -> logged probs used for it

    def run(self) -> None:
        try:
            self._read_all()
            self._put(None)
        except BaseException as error:  # handed to the consumer, which re-raises it
            if not isinstance(error, _Stop):
                self._put(error)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def _read_all(self) -> None:
        position = self.info.start_s
        for frame in self.reader:
            if self.stop.is_set():
                raise _Stop
            small = frame.to_array(*self.size, fmt="bgr24")
            self.detector.process(frame.time_s, small)
            self.recent.add(frame.time_s, small)
            if self.sampler.wants(frame.time_s):
                image = None
                if self.input_size:
                    image = frame.to_array(self.input_size, self.input_size, fmt="rgb24")
                self._add_sample(frame.time_s, small, image)
            self._settle_shots(frame.time_s - LATE_CUT_S, end_s=None)
            if self.progress is not None:
                self.progress.update(max(0.0, frame.time_s - position))
                position = frame.time_s
        if self.reader.frames_read == 0:
            raise InputError(self.info.path, "the video stream has no decodable frame")
        self.detector.finish()
        self._settle_shots(math.inf, end_s=self.reader.end_s)
        self._flush()

    def _add_sample(self, time_s: float, small: np.ndarray, image: np.ndarray | None) -> None:
        sample = _Sample(
            len(self.samples),
            time_s,
            brightness(small),
            colourfulness(small),
            shot_signature(small),
        )
        self.samples.append(sample)
        bisect.insort(self._times, time_s)
        self._thumbs[sample.id] = thumbnail(small)
        if image is not None and time_key(time_s) in self.logged:
            self.reused[sample.id] = self.logged[time_key(time_s)]
        elif image is not None:
            self._batch_ids.append(sample.id)
            self._batch_images.append(image)
            if len(self._batch_ids) >= self.batch_size:
                self._flush()

    def _flush(self) -> None:
        if self._batch_ids:
            self._put((self._batch_ids, np.stack(self._batch_images)))
            self._batch_ids, self._batch_images = [], []

    def _settle_shots(self, upto: float, end_s: float | None) -> None:
        """Gives every shot that ended before ``upto`` a sampled frame and a keyframe.

        A shot is settled once no detector can still report a cut inside it (LATE_CUT_S).
        Only shots after the last settled one are looked at, so this is cheap per frame.
        """
        boundaries = [c.time_s for c in self.detector.cuts_after(self._open_start)]
        if end_s is not None:
            boundaries.append(end_s)
        for end in boundaries:
            if end > upto:
                break
            start, self._open_start = self._open_start, end
            if bisect.bisect_left(self._times, start) == bisect.bisect_left(self._times, end):
                self._sample_short_shot(start, end)
            self._keep_keyframe(start, end)

    def _sample_short_shot(self, start: float, end: float) -> None:
        """Samples the middle frame of a shot that fell between two grid points."""
        frame = self.recent.nearest(start, end)
        if frame is None:
            log.warning("%s: no frame left to score the shot at %.3f s", self.info.path, start)
            return
        image = None
        if self.input_size:
            # Scored from the detection copy: full-size frames are not kept around.
            rgb = np.ascontiguousarray(frame.small_bgr[..., ::-1])
            image = cv2.resize(rgb, (self.input_size,) * 2, interpolation=cv2.INTER_LINEAR)
        self._add_sample(frame.time_s, frame.small_bgr, image)

    def _keep_keyframe(self, start: float, end: float) -> None:
        """Keeps the thumbnail of the shot's sampled frame nearest its middle, drops the rest."""
        inside = [self.samples[i] for i in self._thumbs if start <= self.samples[i].time_s < end]
        if not inside:
            return
        last = max(s.time_s for s in inside)
        middle = (start + min(end, last + 1.0)) / 2
        best = min(inside, key=lambda s: abs(s.time_s - middle))
        self.shot_keyframes[start] = self._thumbs[best.id]
        for s in inside:
            del self._thumbs[s.id]


def analyze(
    video_path: str | os.PathLike,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    fps: float = 1.0,
    batch_size: int = 32,
    device: str = "auto",
    progress: bool = False,
    resume_log: str | os.PathLike | None = None,
) -> Analysis:
    """Decodes ``video_path`` once and returns its shots, scenes and emotion distributions.

    Args:
        model: a loaded EmotionModel, a checkpoint path, or None to skip emotion scoring.
        fps: frames sampled per second of film for scoring.
        batch_size: frames per model call.
        device: "auto" (cuda > mps > cpu), "cpu", "cuda" or "mps".
        progress: show a progress bar on stderr.
        resume_log: a file where scored frames are logged as they are scored; a later call
            with the same video, model and sampling reuses them instead of scoring again.
            The caller removes it once the results are safely written.

    Raises:
        InputError: the video or checkpoint cannot be used.
        ValueError: bad arguments.
    """
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"--fps must be a positive number, got {fps}")
    torch_device = select_device(device)
    info = probe_video(video_path)
    if model is not None and not isinstance(model, EmotionModel):
        model = load_checkpoint(model)
    scorer = FrameScorer(model, torch_device, batch_size) if model is not None else None
    scan = _Scan(info, fps, scorer.input_size if scorer else None, batch_size)
    log_file = None
    if scorer is not None and resume_log is not None:
        key = run_key(info.path, model.sha256 or "", fps, scorer.input_size)
        log_file = ScoreLog(resume_log, key)
        scan.logged = log_file.load()
        if scan.logged:
            log.warning("%s: resuming: %d frames already scored", info.path, len(scan.logged))
    try:
        probabilities = _run(scan, scorer, progress, log_file)
    finally:
        if log_file is not None:
            log_file.close()
    probabilities.update(scan.reused)
    return _assemble(scan, model, fps, probabilities)


def _run(scan: _Scan, scorer, progress: bool, log_file: ScoreLog | None) -> dict[int, np.ndarray]:
    total = _film_length(scan.info)
    bar = tqdm(
        total=total,
        unit="s",
        unit_scale=False,
        disable=not progress,
        leave=False,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,  # logs get a line every 10 s, not 10/s
        desc=f"analyze {scan.info.name}",
        bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} s film [{elapsed}<{remaining}]",
    )
    scan.progress = bar
    thread = threading.Thread(target=scan.run, name="trajectory-decode", daemon=True)
    thread.start()
    probabilities: dict[int, np.ndarray] = {}
    try:
        while True:
            item = scan.batches.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            ids, images = item
            scores = scorer.score(images)
            probabilities.update(zip(ids, scores))
            if log_file is not None:
                log_file.append([scan.samples[i].time_s for i in ids], scores)
    finally:
        scan.stop.set()
        thread.join()
        bar.close()
    return probabilities


def _film_length(info: VideoInfo) -> float | None:
    return round(info.duration_s, 1) if info.duration_s else None


def _assemble(scan: _Scan, model, fps: float, probabilities: dict[int, np.ndarray]) -> Analysis:
    info, reader = scan.info, scan.reader
    end_s = reader.end_s
    shots = _shot_table(scan, end_s)
    samples = sorted(scan.samples, key=lambda s: s.time_s)
    times = np.array([s.time_s for s in samples])
    shot_of = np.searchsorted(shots["start_s"].to_numpy(), times, side="right") - 1
    signatures = np.stack([s.signature for s in samples])
    shot_signatures = np.stack(
        [
            signatures[shot_of == i].mean(axis=0)
            if (shot_of == i).any()
            else np.zeros(signatures.shape[1])
            for i in range(len(shots))
        ]
    )
    shots["scene"] = group_scenes(
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
        shot_signatures,
        (shots["transition"] == "fade").to_numpy(),
    )
    frames = pd.DataFrame(
        {"time_s": times, "shot": shot_of, "scene": shots["scene"].to_numpy()[shot_of]}
    )
    probs = np.array([probabilities.get(s.id, np.full(len(EMOTIONS), np.nan)) for s in samples])
    probs = probs.reshape(len(samples), len(EMOTIONS))
    for i, name in enumerate(EMOTIONS):
        frames[name] = probs[:, i]
    frames["valence"] = valence(probs)
    frames["brightness"] = [s.brightness for s in samples]
    frames["colourfulness"] = [s.colourfulness for s in samples]
    frames.insert(1, "weight_s", aggregate.frame_weights(times, shots["end_s"].to_numpy()[shot_of]))
    scenes = aggregate.scene_table(frames, shots)
    return Analysis(
        video=info,
        end_s=end_s,
        frames_decoded=reader.frames_read,
        decode_errors=reader.decode_errors,
        model=model.describe() if model is not None else None,
        sampling_fps=fps,
        frames=frames,
        shots=shots,
        scenes=scenes,
        film=aggregate.summarize_film(frames),
        keyframes=_scene_keyframes(scan.shot_keyframes, shots),
    )


def _shot_table(scan: _Scan, end_s: float) -> pd.DataFrame:
    cuts = scan.detector.cuts
    starts = [scan.info.start_s] + [c.time_s for c in cuts]
    return pd.DataFrame(
        {
            "index": np.arange(len(starts)),
            "start_s": starts,
            "end_s": starts[1:] + [end_s],
            "transition": ["start"] + [c.kind for c in cuts],
        }
    )


def _scene_keyframes(shot_keyframes: dict[float, bytes], shots: pd.DataFrame) -> dict[int, bytes]:
    """Each scene's keyframe: the keyframe of its longest shot that has one."""
    keyframes = {}
    by_length = shots.assign(length=shots["end_s"] - shots["start_s"]).sort_values(
        "length", ascending=False
    )
    for row in by_length.itertuples():
        if row.scene not in keyframes and row.start_s in shot_keyframes:
            keyframes[int(row.scene)] = shot_keyframes[row.start_s]
    return keyframes
