"""The local engine: decoding in worker processes feeding one scorer in this process.

Workers (``spawn``: a fresh interpreter that never imports torch) take films from a task queue
one at a time and run :func:`~trajectory.catalog.stages.scan_film`, sending its FrameBatches
through one bounded result queue. The calling process scores every batch as it arrives, logs
the scores and pooled features, and assembles each film once its scan ends. A worker starts
its next film as soon as the current one is decoded, so the decoders run ahead across film
boundaries while the model works, and memory stays bounded by the queue.

A film whose decoding raises is a FilmFailed; a worker that dies (a crash inside FFmpeg) fails
its film only and is replaced. Workers exit on their own when the driver is gone (kill -9).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from trajectory.catalog.stages import (
    FilmDone,
    FilmFailed,
    FilmJob,
    FilmResult,
    FrameBatch,
    ProgressCallback,
    ScannedFilm,
    Settings,
    assemble_film,
    failure_reason,
    load_scorer,
    scan_film,
    score_batch,
    score_log_key,
)
from trajectory.errors import UsageError
from trajectory.resume import ScoreLog

log = logging.getLogger("trajectory")

MESSAGES_PER_WORKER = 4  # batches waiting for the model per worker; bounds memory
POLL_S = 0.5  # how often idle loops look for dead workers or a dead driver
PROGRESS_EVERY_S = 0.5  # a worker reports decoded film-seconds at most this often


def default_workers(device: str, cores: int | None = None) -> int:
    """Decode workers when ``--workers`` is not given.

    On a CPU, VGG19 at 1 fps costs about twice the CPU time of decoding 1080p, so a third of
    the cores decode (one worker on 2 cores: it decodes the next film while the model scores
    this one, keeping both cores busy). A GPU scores far faster than one core decodes, so all
    cores but the scorer's decode, up to 16.
    """
    cores = cores or os.cpu_count() or 1
    if device.startswith("cuda"):
        return max(1, min(cores - 1, 16))
    return max(1, cores // 3)


@dataclass
class _Film:
    """A film in flight in the scorer process: its scores and pooled features so far, and its
    open score log."""

    job: FilmJob
    probabilities: dict[int, np.ndarray] = field(default_factory=dict)
    features: dict[int, np.ndarray] = field(default_factory=dict)
    log: ScoreLog | None = None


class LocalEngine:
    """Decoder processes + one in-process scorer (see the module docstring).

    Args:
        workers: decoder processes.
        model: the loaded EmotionModel (the driver already loaded it); None without a model.
    """

    name = "local"

    def __init__(self, workers: int, model=None):
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.model = model

    def run(
        self, jobs: Sequence[FilmJob], settings: Settings, on_progress: ProgressCallback
    ) -> Iterator[FilmResult]:
        if not jobs:
            return
        scorer = load_scorer(settings, self.model) if settings.input_size else None
        pool = _WorkerPool(min(self.workers, len(jobs)), jobs, settings)
        films = {job.film_id: _Film(job) for job in jobs}
        try:
            while films:
                message = pool.next_message()
                if message is None:
                    yield from pool.failures(films)
                    continue
                result = _handle(message, films, scorer, settings, on_progress)
                if result is not None:
                    yield result
        finally:
            pool.close()
            for film in films.values():
                if film.log is not None:
                    film.log.close()


def _handle(message, films, scorer, settings, on_progress) -> FilmResult | None:
    """One worker message: a batch to score, progress, a started, scanned or failed film."""
    kind, _, film_id, payload = message
    film = films.get(film_id)
    if film is None:  # a late message about a film already settled
        return None
    if kind == "progress":
        on_progress(film_id, payload)
    elif kind == "batch":
        _score(film, payload, scorer, settings)
    elif kind == "failed":
        del films[film_id]
        return FilmFailed(film.job, payload)
    elif kind == "scanned":
        del films[film_id]
        if film.log is not None:
            film.log.close()
        try:
            analysis = assemble_film(payload, film.probabilities, settings, film.features)
            return FilmDone(film.job, analysis)
        except Exception as error:  # one film's bad data never stops the catalogue
            return FilmFailed(film.job, failure_reason(error))
    return None


def _score(film: _Film, batch: FrameBatch, scorer, settings: Settings) -> None:
    probs, pooled = score_batch(scorer, batch)
    film.probabilities.update(zip(batch.ids, probs))
    film.features.update(zip(batch.ids, pooled))
    if film.job.score_log:
        if film.log is None:
            film.log = ScoreLog(film.job.score_log, score_log_key(film.job, settings))
        film.log.append(batch.times_s, probs, pooled)


class _WorkerPool:
    """The decoder processes, their task queue and the one result queue they share."""

    def __init__(self, workers: int, jobs: Sequence[FilmJob], settings: Settings):
        self.context = mp.get_context("spawn")
        self.settings = settings
        self.tasks = self.context.Queue()
        self.results = self.context.Queue(maxsize=MESSAGES_PER_WORKER * workers)
        for job in jobs:
            self.tasks.put(job)
        for _ in range(workers):
            self.tasks.put(None)
        self.processes: dict[int, mp.Process] = {}
        self.current: dict[int, str] = {}  # worker -> film it is decoding
        self.next_index = 0
        for _ in range(workers):
            self._start()

    def _start(self) -> None:
        index, self.next_index = self.next_index, self.next_index + 1
        process = self.context.Process(
            target=worker_main,
            args=(index, self.tasks, self.results, self.settings, os.getpid()),
            name=f"trajectory-decode-{index}",
            daemon=True,
        )
        process.start()
        self.processes[index] = process

    def next_message(self):
        """The next worker message, or None after POLL_S without one."""
        try:
            message = self.results.get(timeout=POLL_S)
        except queue.Empty:
            return None
        kind, worker, film_id, _ = message
        if kind == "start":
            self.current[worker] = film_id
        elif kind in ("scanned", "failed"):
            self.current.pop(worker, None)
        return message

    def failures(self, films: dict[str, _Film]) -> Iterator[FilmFailed]:
        """Fails the film of each worker that died and replaces it; fails films nobody holds."""
        for index, process in list(self.processes.items()):
            if process.is_alive() or process.exitcode == 0:
                continue
            del self.processes[index]
            film_id = self.current.pop(index, None)
            reason = f"the decoding process died (exit status {process.exitcode})"
            if film_id in films:
                yield FilmFailed(films.pop(film_id).job, reason)
            self._start()
        if not any(p.is_alive() for p in self.processes.values()) and self.results.empty():
            for film_id in list(films):  # taken by a worker that died before saying so
                yield FilmFailed(films.pop(film_id).job, "lost by a decoding process that died")

    def close(self) -> None:
        for process in self.processes.values():
            if process.is_alive():
                process.terminate()
        for process in self.processes.values():
            process.join(timeout=5)
        self.results.cancel_join_thread()
        self.tasks.cancel_join_thread()


class _Sender:
    """A worker's side of the result queue: gives up when the driver is gone."""

    def __init__(self, index: int, results, parent_pid: int):
        self.index, self.results, self.parent_pid = index, results, parent_pid
        self.pending_s, self.last_report = 0.0, time.monotonic()

    def send(self, kind: str, film_id: str, payload=None) -> None:
        while True:
            try:
                self.results.put((kind, self.index, film_id, payload), timeout=POLL_S)
                return
            except queue.Full:
                if os.getppid() != self.parent_pid:
                    raise SystemExit(0) from None  # the driver was killed: stop decoding

    def progress(self, film_id: str, seconds: float) -> None:
        self.pending_s += seconds
        if time.monotonic() - self.last_report >= PROGRESS_EVERY_S:
            self.flush_progress(film_id)

    def flush_progress(self, film_id: str) -> None:
        if self.pending_s > 0:
            self.send("progress", film_id, self.pending_s)
        self.pending_s, self.last_report = 0.0, time.monotonic()


def worker_main(index: int, tasks, results, settings: Settings, parent_pid: int) -> None:
    """A decoder process: scans films from ``tasks`` until it gets None (or the driver dies)."""
    sender = _Sender(index, results, parent_pid)
    try:
        while (job := _next_task(tasks, parent_pid)) is not None:
            sender.send("start", job.film_id)
            try:
                for item in scan_film(job, settings, sender.progress):
                    if isinstance(item, ScannedFilm):
                        sender.flush_progress(job.film_id)
                        sender.send("scanned", job.film_id, item)
                    else:
                        sender.send("batch", job.film_id, item)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as error:  # one bad film fails that film only
                sender.send("failed", job.film_id, failure_reason(error))
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group; the driver reports it
    finally:
        if os.getppid() != parent_pid:
            # Nobody reads the queue any more (its pipe is still open in the other workers):
            # exit without waiting to flush what is buffered.
            results.cancel_join_thread()


def _next_task(tasks, parent_pid: int) -> FilmJob | None:
    while True:
        try:
            return tasks.get(timeout=POLL_S)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return None
