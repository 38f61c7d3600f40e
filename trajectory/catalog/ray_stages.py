"""The Ray engine's worker side: the catalogue's stages as Ray Data UDFs, and how many of each.

:func:`scan_rows` runs :func:`~trajectory.catalog.stages.scan_film` (the decoder ``analyze``
uses) in a CPU task and yields one row per sampled frame (film id, sample id, time, an
(S, S, 3) uint8 image), then one end row per film: ``scanned`` with the pickled ScannedFilm,
or ``failed`` with the one-line reason. :class:`ScoringActor` loads the model once per actor
and scores the frame rows of each batch Ray Data hands it (probabilities and pooled features).
Nothing here imports torch except the actor, in its own process.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from trajectory.catalog.stages import (
    FilmJob,
    FrameBatch,
    Settings,
    failure_reason,
    load_scorer,
    scan_film,
)
from trajectory.emotions import EMOTIONS
from trajectory.errors import UsageError

FRAME, SCANNED, FAILED = "frame", "scanned", "failed"  # the kinds of rows the scan stage yields
GPU_BATCH = 64  # frames per model call on a GPU actor (the driver may have no GPU to ask)
CPUS_PER_CPU_ACTOR = 4  # one model copy (~0.6 GB) per 4 scoring CPUs on CPU-only clusters


@dataclass(frozen=True)
class Resources:
    """How the pipeline uses the cluster.

    Attributes:
        decoders: scan tasks running at once (one CPU each).
        actors: scoring actors (one model each).
        gpus_per_actor: 1 on a cluster with GPUs, else 0 (CPU actors).
        cpus_per_actor: CPUs each scoring actor holds.
        threads: torch threads of a CPU actor; None on GPU actors.
        settings: the settings the actors load the model with (batch size for the device).
    """

    decoders: int
    actors: int
    gpus_per_actor: int
    cpus_per_actor: int
    threads: int | None
    settings: Settings


def plan_resources(
    cluster: dict[str, float],
    settings: Settings,
    decoders: int | None = None,
    gpu_batch: int | None = None,
) -> Resources:
    """Splits the cluster's CPUs (and GPUs) between decoding and scoring.

    With GPUs, one actor per GPU and every CPU but theirs decodes (1080p decoding at 1 fps
    keeps a GPU busy only with many cores, see README "Ray"). On CPUs only, VGG19 costs about
    twice the CPU time of decoding, so a third of the CPUs decode, as the local engine does;
    the rest score, one actor per CPUS_PER_CPU_ACTOR of them, each running one torch thread
    more than it holds CPUs so that the decoders' waits are not idle cores.

    Args:
        cluster: ``ray.cluster_resources()``, e.g. {"CPU": 32.0, "GPU": 2.0}.
        decoders: scan tasks at once (``--workers``); None: as above.
        gpu_batch: frames per model call on a GPU actor (``--batch-size``); None: GPU_BATCH.

    Raises:
        ValueError: ``--device cuda`` on a cluster without GPUs.
    """
    cpus = max(1, int(cluster.get("CPU", 1)))
    gpus = int(cluster.get("GPU", 0))
    if not settings.input_size:  # no model: every CPU decodes
        return Resources(decoders or cpus, 0, 0, 0, None, settings)
    if settings.device.startswith("cuda") and not gpus:
        raise UsageError("--device cuda was asked for, but the Ray cluster has no GPU")
    if gpus and settings.device in ("auto", "cuda"):
        scorer = replace(settings, device="cuda", batch_size=gpu_batch or GPU_BATCH)
        return Resources(decoders or max(1, cpus - gpus), gpus, 1, 1, None, scorer)
    decoders = decoders or max(1, cpus // 3)
    scoring_cpus = max(1, cpus - decoders)
    actors = max(1, scoring_cpus // CPUS_PER_CPU_ACTOR)
    cpus_per_actor = max(1, scoring_cpus // actors)
    scorer = replace(settings, device="cpu")
    return Resources(decoders, actors, 0, cpus_per_actor, cpus_per_actor + 1, scorer)


def scan_rows(jobs: dict[str, np.ndarray], settings: Settings) -> Iterator[dict[str, np.ndarray]]:
    """Stage 1 as a Ray Data UDF: each job's FrameBatches as frame rows, then its end row.

    Args:
        jobs: a batch of the films dataset: ``job`` holds pickled FilmJobs.

    Yields:
        batches with columns film_id, kind, sample, time_s, payload and, with a model, image
        (N, S, S, 3) uint8. An end row's ``sample`` is -1 and its image is blank.
    """
    for pickled in jobs["job"]:
        job: FilmJob = pickle.loads(pickled)
        try:
            for item in scan_film(job, settings):
                if isinstance(item, FrameBatch):
                    yield _frame_rows(item)
                else:
                    yield _end_row(job.film_id, SCANNED, pickle.dumps(item), settings)
        except Exception as error:  # a bad film is data: recorded, never retried
            reason = failure_reason(error).encode("utf-8")
            yield _end_row(job.film_id, FAILED, reason, settings)


def _frame_rows(batch: FrameBatch) -> dict[str, np.ndarray]:
    count = len(batch.ids)
    return {
        "film_id": np.array([batch.film_id] * count, dtype=object),
        "kind": np.array([FRAME] * count, dtype=object),
        "sample": np.asarray(batch.ids, dtype=np.int64),
        "time_s": np.asarray(batch.times_s, dtype=np.float64),
        "payload": np.array([b""] * count, dtype=object),
        "image": batch.images,
    }


def _end_row(film_id: str, kind: str, payload: bytes, settings: Settings) -> dict[str, np.ndarray]:
    row = {
        "film_id": np.array([film_id], dtype=object),
        "kind": np.array([kind], dtype=object),
        "sample": np.array([-1], dtype=np.int64),
        "time_s": np.array([np.nan]),
        "payload": np.array([payload], dtype=object),
    }
    if settings.input_size:  # every row of the stream has the same columns
        row["image"] = np.zeros((1, settings.input_size, settings.input_size, 3), np.uint8)
    return row


class ScoringActor:
    """Stage 2 as a Ray Data actor: loads the model once, scores the frame rows of each batch.

    Args:
        settings: the run's settings (checkpoint path, device, batch size).
        threads: torch threads on a CPU actor (Ray gives a worker one thread per CPU it holds).
    """

    def __init__(self, settings: Settings, threads: int | None = None):
        self.scorer = load_scorer(settings)
        if threads and self.scorer.device.type == "cpu":
            import torch

            torch.set_num_threads(threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """(B,) rows in, the same rows out without ``image``, with ``probs`` (B, 8) and
        ``features`` (B, F) float32 (the pooled features that join the shot signatures).

        Rows that are not frames pass through with NaN probabilities and features.
        """
        frames = batch["kind"] == FRAME
        probs = np.full((len(frames), len(EMOTIONS)), np.nan, dtype=np.float32)
        features = np.full((len(frames), self.scorer.feature_width), np.nan, dtype=np.float32)
        if frames.any():
            images = np.ascontiguousarray(batch["image"][frames])
            probs[frames], features[frames] = self.scorer.score_with_features(images)
        out = {name: column for name, column in batch.items() if name != "image"}
        out["probs"] = probs
        out["features"] = features
        return out


def describe_checkpoint(path: str) -> tuple[dict, int]:
    """The checkpoint's tags.json "model" block and input size, checked by loading it.

    Runs as a Ray task, so that the driver never imports torch.

    Raises:
        InputError: the checkpoint cannot be used.
    """
    from trajectory.model import load_checkpoint

    model = load_checkpoint(path)
    return model.describe(), model.preprocessing.input_size
