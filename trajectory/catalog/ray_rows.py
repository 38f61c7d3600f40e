"""The Ray engine's driver side of the stream: result rows filed under the films they belong to.

Rows come from the scoring stage in any order and any grouping: frame rows carry a sample id,
its (8,) probabilities and (F,) pooled features, an end row carries the film's pickled
ScannedFilm (or its failure). A film has ended when its end row came and every sample it did
not reuse from its score log has its score; duplicates (a batch retried after an actor died)
count once.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

import numpy as np

from trajectory.catalog.ray_stages import FAILED, FRAME, SCANNED
from trajectory.catalog.stages import (
    FilmJob,
    ProgressCallback,
    ScannedFilm,
    Settings,
    score_log_key,
)
from trajectory.resume import ScoreLog

TASK_RETRIES = 3  # a scan or assembly task whose worker died is run again this many times


@dataclass
class FilmInFlight:
    """A film in flight on the driver: the scores and features received so far and how its
    scan ended."""

    job: FilmJob
    probabilities: dict[int, np.ndarray] = field(default_factory=dict)
    features: dict[int, np.ndarray] = field(default_factory=dict)
    expected: set[int] | None = None  # sample ids to be scored, once its end row came
    scanned: ScannedFilm | None = None
    failed: str | None = None
    reported_s: float = 0.0  # film-seconds reported to the progress callback
    log: ScoreLog | None = None

    @property
    def ended(self) -> bool:
        """Its end row came and every sample it did not reuse from its score log is scored.

        Counted by id, not by number: a scan retried after its worker died ships only the
        frames the first attempt's scores (already logged) do not cover.
        """
        return self.expected is not None and self.expected <= self.probabilities.keys()


def take_rows(
    batch: dict[str, np.ndarray],
    films: dict[str, FilmInFlight],
    settings: Settings,
    on_progress: ProgressCallback,
) -> list[FilmInFlight]:
    """Files a batch of result rows under their films; returns (and forgets) films now ended.

    Frame rows add their scores and features to the film and its score log (a frame scored
    twice, after a retry, counts once); an end row says how the film's scan ended. Rows of
    films no longer in ``films`` (late rows of a retried task) are ignored.

    Args:
        batch: columns film_id, kind, sample, time_s, payload (B,) and, with a model, probs
            (B, 8) and features (B, F).
    """
    for film_id in dict.fromkeys(batch["film_id"]):
        film = films.get(film_id)
        if film is None:
            continue
        mine = batch["film_id"] == film_id
        kinds = batch["kind"][mine]
        frames = kinds == FRAME
        if frames.any():
            _add_scores(
                film,
                batch["sample"][mine][frames],
                batch["time_s"][mine][frames],
                (batch["probs"][mine][frames], batch["features"][mine][frames]),
                settings,
            )
            _report(film, float(batch["time_s"][mine][frames].max()), on_progress)
        for kind, payload in zip(kinds[~frames], batch["payload"][mine][~frames]):
            if kind == SCANNED:
                film.scanned = pickle.loads(payload)
                samples = {sample.id for sample in film.scanned.outcome.samples}
                film.expected = (
                    samples - film.scanned.reused.keys() if settings.input_size else set()
                )
            elif kind == FAILED:
                film.failed = bytes(payload).decode("utf-8")
    ended = [film for film in films.values() if film.ended or film.failed is not None]
    for film in ended:
        del films[film.job.film_id]
    return ended


def _add_scores(
    film: FilmInFlight,
    samples: np.ndarray,
    times_s: np.ndarray,
    scored: tuple[np.ndarray, np.ndarray],
    settings: Settings,
) -> None:
    """Keeps the scores of frames not seen before; logs them when the film has a score log.

    Args:
        samples, times_s: (N,) sample ids and times; scored: (N, 8) probabilities and (N, F)
            pooled features.
    """
    probs, features = scored
    new = [i for i, sample in enumerate(samples) if int(sample) not in film.probabilities]
    for i in new:
        film.probabilities[int(samples[i])] = probs[i]
        film.features[int(samples[i])] = features[i]
    if new and film.job.score_log:
        if film.log is None:
            film.log = ScoreLog(film.job.score_log, score_log_key(film.job, settings))
        film.log.append([float(times_s[i]) for i in new], probs[new], features[new])


def _report(film: FilmInFlight, time_s: float, on_progress: ProgressCallback) -> None:
    """Reports the film-seconds its scored frames have reached since the last report."""
    if time_s > film.reported_s:
        on_progress(film.job.film_id, time_s - film.reported_s)
        film.reported_s = time_s


def lost_reason(film: FilmInFlight) -> str:
    """Why a film never ended: its scan's end row, or some of its scores, never came."""
    if film.expected is None:
        return f"lost: the Ray worker decoding it died more than {TASK_RETRIES} times"
    missing = len(film.expected - film.probabilities.keys())
    return f"lost: {missing} frame scores never came back from the Ray scoring actors"
