"""One pass over the film's frames: shot cuts, sampled frames, keyframes and model batches.

``FilmScan.run`` is the decoder thread's whole job. Each frame is converted once to a small copy
for the shot detectors and the statistics; sampled frames are also converted at the model's
input size and shipped in uint8 batches through a bounded queue to whoever scores them.
"""

from __future__ import annotations

import bisect
import logging
import math
import queue
import threading
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from trajectory.crop import Crop, cropped_array, detect_crop
from trajectory.errors import InputError
from trajectory.resume import time_key
from trajectory.sampling import RecentFrames, UniformSampler, brightness, colourfulness, thumbnail
from trajectory.shots import Cut, ShotDetector, detection_size
from trajectory.signatures import frame_signature
from trajectory.video import FrameReader, VideoInfo

log = logging.getLogger("trajectory")

LATE_CUT_S = 3.0  # least time after a cut the detectors may still report it (more if they say)
QUEUE_BATCHES = 3  # ready batches waiting for the model; bounds memory


@dataclass
class Sample:
    id: int
    time_s: float
    brightness: float
    colourfulness: float
    signature: np.ndarray  # trajectory.signatures.frame_signature of the small copy


@dataclass
class ScanOutcome:
    """What one pass over the film found; plain data, so it can cross a process boundary."""

    info: VideoInfo
    end_s: float
    frames_read: int
    decode_errors: int
    cuts: list[Cut]
    shot_detection: str  # the detector set: "fast", "learned" or "classic"
    samples: list[Sample]
    shot_keyframes: dict[float, bytes]  # shot start -> JPEG thumbnail
    truncated: bool = False  # decoding ended well before the declared duration or frame count
    skipped_out_of_order: int = 0  # frames dropped because their timestamps went back
    late_cuts: int = 0  # cuts reported after the shot around them was settled
    crop: Crop | None = None  # the picture inside constant black bars, display pixels


class Stopped(Exception):
    """Raised inside the decoder thread when the caller gave up (interrupt, scoring error)."""


class FilmScan:
    """The decoder thread's work: frames -> cuts, samples, keyframes and model batches."""

    def __init__(
        self,
        info: VideoInfo,
        fps: float,
        input_size: int | None,
        batch_size: int,
        *,
        shots: str = "fast",
        device: str = "cpu",
    ):
        self.info = info
        self.reader = FrameReader(info)
        self.sampler = UniformSampler(fps, info.start_s)
        self.detector = ShotDetector(info.fps, mode=shots, device=device)
        # A shot settles once no detector can still report a cut inside it.
        self.late_cut_s = max(LATE_CUT_S, self.detector.latency_s + 0.5)
        self.recent = RecentFrames(horizon_s=1.0 / fps + self.late_cut_s + 1.0)
        # Letterbox/pillarbox bars are dropped before anything looks at the picture.
        self.crop = detect_crop(info)
        picture = (self.crop.width, self.crop.height) if self.crop else (info.width, info.height)
        self.size = detection_size(*picture)
        self.input_size = input_size
        self.batch_size = batch_size
        self.batches: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
        self.stop = threading.Event()
        self.samples: list[Sample] = []
        self._times: list[float] = []  # sorted sample times, for "does this shot have one?"
        self._thumbs: dict[int, bytes] = {}  # samples not yet settled into a shot
        self.shot_keyframes: dict[float, bytes] = {}  # shot start -> JPEG thumbnail
        self._open_start = info.start_s  # start of the first shot not yet settled
        self._batch_ids: list[int] = []
        self._batch_images: list[np.ndarray] = []
        self.progress: tqdm | None = None
        self.logged: dict[int, np.ndarray] = {}  # scores from an interrupted run: time µs -> probs
        self.reused: dict[int, np.ndarray] = {}  # sample id -> logged probs used for it
        self.late_cuts = 0

    def outcome(self) -> ScanOutcome:
        """The scan's findings, once :meth:`run` has finished."""
        return ScanOutcome(
            info=self.info,
            end_s=self.reader.end_s,
            frames_read=self.reader.frames_read,
            decode_errors=self.reader.decode_errors,
            cuts=self.detector.cuts,
            shot_detection=self.detector.mode,
            samples=list(self.samples),
            shot_keyframes=dict(self.shot_keyframes),
            truncated=self.reader.truncated,
            skipped_out_of_order=self.reader.skipped_out_of_order,
            late_cuts=self.late_cuts,
            crop=self.crop,
        )

    def run(self) -> None:
        # The detectors make dozens of OpenCV calls a frame on images of a few thousand pixels,
        # where handing rows to OpenCV's thread pool costs more CPU than it saves (README). The
        # setting is process-wide: the earlier one is restored when the pass ends.
        cv2_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            self._read_all()
            self._put(None)
        except BaseException as error:  # handed to the consumer, which re-raises it
            if not isinstance(error, Stopped):
                self._put(error)
        finally:
            cv2.setNumThreads(cv2_threads)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise Stopped

    def _read_all(self) -> None:
        position = self.info.start_s
        for frame in self.reader:
            if self.stop.is_set():
                raise Stopped
            small = cropped_array(frame, self.crop, self.info, *self.size, fmt="bgr24")
            self.recent.add(frame.time_s, small)
            self._settle_late_cuts(self.detector.process(frame.time_s, small))
            if self.sampler.wants(frame.time_s):
                image = None
                if self.input_size:
                    side = self.input_size
                    image = cropped_array(frame, self.crop, self.info, side, side, fmt="rgb24")
                self._add_sample(frame.time_s, small, image)
            self._settle_shots(frame.time_s - self.late_cut_s, end_s=None)
            if self.progress is not None:
                self.progress.update(max(0.0, frame.time_s - position))
                position = frame.time_s
        if self.reader.frames_read == 0:
            raise InputError(self.info.path, "the video stream has no decodable frame")
        self._settle_late_cuts(self.detector.finish())
        self._settle_shots(math.inf, end_s=self.reader.end_s)
        self._flush()

    def _add_sample(self, time_s: float, small: np.ndarray, image: np.ndarray | None) -> None:
        sample = Sample(
            len(self.samples),
            time_s,
            brightness(small),
            colourfulness(small),
            frame_signature(small),
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

        A shot is settled once no detector can still report a cut inside it (late_cut_s).
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

    def _settle_late_cuts(self, found: list[Cut]) -> None:
        """Gives the shots around a cut reported after its shot was settled a sample and keyframe.

        Detectors may report a cut more than LATE_CUT_S after it (a fade's cut is placed
        back in the black once the fade-in ends). The two shots it leaves are sampled and given
        keyframes from the recent-frames buffer; what that buffer no longer holds is warned about.
        """
        for cut in found:
            if cut.time_s >= self._open_start:
                continue  # not settled yet: _settle_shots handles it
            self.late_cuts += 1
            later = [c.time_s for c in self.detector.cuts_after(cut.time_s)]
            end = min([*later, self._open_start])
            earlier = [c.time_s for c in self.detector.cuts if c.time_s < cut.time_s]
            start = max([self.info.start_s, *earlier])
            for span in ((start, cut.time_s), (cut.time_s, end)):
                self._resettle(*span)

    def _resettle(self, start: float, end: float) -> None:
        """Makes sure the settled shot [start, end) has a sampled frame and a keyframe."""
        if bisect.bisect_left(self._times, start) == bisect.bisect_left(self._times, end):
            self._sample_short_shot(start, end)
        if start not in self.shot_keyframes:
            frame = self.recent.nearest(start, end)
            if frame is None:
                log.warning("%s: no keyframe left for the shot at %.3f s", self.info.path, start)
            else:
                self.shot_keyframes[start] = thumbnail(frame.small_bgr)
        for sample_id in [i for i in self._thumbs if start <= self.samples[i].time_s < end]:
            del self._thumbs[sample_id]  # settled: its keyframe is chosen

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
