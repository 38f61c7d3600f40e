"""The catalogue's engine seam: the per-film stages and the interface every engine implements.

A catalogue run is split so that any engine (the local process pool, Ray) can schedule it:

    FilmJob ──scan_film (CPU: decode, shots, sampling)──▶ FrameBatch ... FrameBatch, ScannedFilm
    FrameBatch ──score_batch (the one model, batched)──▶ (N, 8) probabilities, (N, F) features
    ScannedFilm + probabilities + features ──assemble_film (CPU)──▶ Analysis
    Analysis ──publish (the driver only: film folder + catalog.db)──▶ done

An engine takes the films to do and yields one :data:`FilmResult` per film, a :class:`FilmDone`
carrying the Analysis or a :class:`FilmFailed` carrying a one-line reason, in any order. It
never writes ``catalog.db`` or a film folder: the driver (:mod:`trajectory.catalog.run`) is the
single writer. Everything that crosses a process boundary here is plain, picklable data, and
nothing in this module imports torch: only :func:`load_scorer` does, in the scoring process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from trajectory.assemble import assemble
from trajectory.errors import InputError
from trajectory.results import Analysis
from trajectory.resume import ScoreLog, time_key
from trajectory.scan import FilmScan, ScanOutcome
from trajectory.scenes import SceneParams
from trajectory.video import probe_video

if TYPE_CHECKING:  # torch: only the scoring process imports it
    from trajectory.model import EmotionModel
    from trajectory.scoring import FrameScorer


@dataclass(frozen=True)
class Settings:
    """What every film of one run is analysed with.

    Attributes:
        fps: frames sampled per second of film.
        checkpoint: the EmotionNet checkpoint path, None without a model (``--no-model``).
        model: the tags.json "model" block (arch, sha256, classes), None without a model.
        input_size: the model's square input size S, None without a model.
        batch_size: frames per model call (and per :class:`FrameBatch`).
        device: where the model runs: "auto", "cpu", "cuda" or "mps".
        scene_params: scene grouping parameters (threshold, penalty, deep weight, ...).
    """

    fps: float
    checkpoint: str | None = None
    model: dict | None = None
    input_size: int | None = None
    batch_size: int = 8
    device: str = "auto"
    scene_params: SceneParams = field(default_factory=SceneParams)

    @property
    def model_sha256(self) -> str | None:
        return self.model["sha256"] if self.model else None


@dataclass(frozen=True)
class FilmJob:
    """One film to analyse.

    Attributes:
        film_id: the catalogue id (folder name under ``films/``).
        path: the video file, on a path every worker sees.
        title: the title shown in the catalogue.
        duration_s: the declared duration (for progress), None when unknown.
        score_log: where this film's scores are logged as they come (resume); None: no log.
    """

    film_id: str
    path: str
    title: str | None = None
    duration_s: float | None = None
    score_log: str | None = None


@dataclass
class FrameBatch:
    """Sampled frames of one film, ready for the model.

    Attributes:
        ids: sample ids, shape (N,).
        times_s: their presentation times, shape (N,) (the score log's key).
        images: (N, S, S, 3) uint8 RGB at the model's input size.
    """

    film_id: str
    ids: list[int]
    times_s: list[float]
    images: np.ndarray


@dataclass
class ScannedFilm:
    """The end of a film's scan: what the decoder pass found, and the scores reused from a log.

    Attributes:
        outcome: cuts, samples, keyframes and reader statistics.
        reused: sample id -> (8,) probabilities read back from the film's score log.
        reused_features: sample id -> (F,) pooled features logged with those probabilities.
    """

    film_id: str
    outcome: ScanOutcome
    reused: dict[int, np.ndarray]
    reused_features: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass
class FilmDone:
    job: FilmJob
    analysis: Analysis


@dataclass
class FilmFailed:
    job: FilmJob
    reason: str  # one line, for the catalogue's error column


FilmResult = FilmDone | FilmFailed
ProgressCallback = Callable[[str, float], None]  # (film id, film seconds just decoded)


class Engine(Protocol):
    """Runs the stages over many films; the driver consumes what it yields."""

    name: str

    def run(
        self, jobs: Sequence[FilmJob], settings: Settings, on_progress: ProgressCallback
    ) -> Iterator[FilmResult]:
        """Yields one FilmDone or FilmFailed per job, in any order, as films finish.

        Must not raise for one bad film (that film is a FilmFailed). Closing the iterator
        (interrupt) must stop the engine's workers.
        """
        ...


def score_log_key(job: FilmJob, settings: Settings) -> dict:
    """What must match for a film's logged scores to be reused: content, model, sampling.

    ``pooled`` sets apart the logs of versions whose catalogue logged no pooled features: a film
    resumed from one would be grouped without them, unlike a clean run, so it is scored again.
    """
    return {
        "film": job.film_id,
        "model_sha256": settings.model_sha256,
        "fps": settings.fps,
        "input_size": settings.input_size,
        "pooled": True,
    }


class _Progress:
    """The ``update(seconds)`` object FilmScan reports to, forwarding to a callback."""

    def __init__(self, film_id: str, callback: ProgressCallback | None):
        self.film_id, self.callback = film_id, callback

    def update(self, seconds: float) -> None:
        if self.callback is not None and seconds > 0:
            self.callback(self.film_id, seconds)


def scan_film(
    job: FilmJob, settings: Settings, on_progress: ProgressCallback | None = None
) -> Iterator[FrameBatch | ScannedFilm]:
    """Stage 1 (CPU): decodes the film once; yields its FrameBatches, then one ScannedFilm.

    Frames whose scores are in the film's score log are not shipped again (``reused``, with
    their logged pooled features). Runs the same decoder as ``analyze`` (:class:`FilmScan`) in
    a helper thread.

    Raises:
        InputError: the file is not a usable video; other errors for broken streams.
    """
    info = probe_video(job.path)
    scan = FilmScan(info, settings.fps, settings.input_size, settings.batch_size)
    logged_features: dict[int, np.ndarray] = {}
    if job.score_log and settings.input_size:
        score_log = ScoreLog(job.score_log, score_log_key(job, settings))
        scan.logged, logged_features = score_log.load_with_features()
    scan.progress = _Progress(job.film_id, on_progress)
    thread = threading.Thread(target=scan.run, name=f"scan-{job.film_id}", daemon=True)
    thread.start()
    try:
        while (item := scan.batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            ids, images = item
            times = [scan.samples[i].time_s for i in ids]
            yield FrameBatch(job.film_id, list(ids), times, images)
    finally:
        scan.stop.set()
        thread.join()
    reused_features = {  # the log keeps features with scores: same scenes as a clean run
        sample_id: logged_features[time_key(scan.samples[sample_id].time_s)]
        for sample_id in scan.reused
    }
    yield ScannedFilm(job.film_id, scan.outcome(), dict(scan.reused), reused_features)


def load_scorer(settings: Settings, model: EmotionModel | None = None) -> FrameScorer:
    """Stage 2 setup: the one model of a scoring process (imports torch).

    Args:
        model: an already loaded model; None loads ``settings.checkpoint``.
    """
    from trajectory.model import load_checkpoint
    from trajectory.scoring import FrameScorer, select_device

    if model is None:
        model = load_checkpoint(settings.checkpoint)
    return FrameScorer(model, select_device(settings.device), settings.batch_size)


def score_batch(scorer: FrameScorer, batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2 (the model): (N, S, S, 3) uint8 -> (N, 8) probabilities, (N, F) pooled features.

    Both float32; the features join the shot signatures, as in ``analyze``.
    """
    return scorer.score_with_features(batch.images)


def assemble_film(
    scanned: ScannedFilm,
    probabilities: dict[int, np.ndarray],
    settings: Settings,
    features: dict[int, np.ndarray] | None = None,
) -> Analysis:
    """Stage 3 (CPU): shot table, scenes, weights and distributions of one scanned film.

    Args:
        probabilities: sample id -> (8,) probabilities scored in stage 2 (reused ones are added).
        features: sample id -> (F,) pooled features scored in stage 2 (reused ones are added).
    """
    merged = {**scanned.reused, **probabilities}
    deep = {**scanned.reused_features, **(features or {})}
    return assemble(
        scanned.outcome,
        settings.model,
        settings.fps,
        merged,
        deep=deep,
        scene_params=settings.scene_params,
    )


def failure_reason(error: BaseException) -> str:
    """One line for the catalogue's error column: the problem, never a traceback."""
    if isinstance(error, InputError):
        return error.problem
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
