"""The Ray engine: the catalogue's stages as a Ray Data pipeline on a cluster.

    films to do ──map_batches(scan_rows): CPU tasks, one film each──▶ rows of sampled frames
    rows ──map_batches(ScoringActor): an actor pool, one model load per actor──▶ probabilities
                                                                  and pooled features
    rows on the driver ──▶ score logs; assemble_film as a CPU task ──▶ FilmDone / FilmFailed

Ray Data rebatches the frame rows across films for the scoring actors (GPU actors when the
cluster has GPUs, CPU actors otherwise; see :mod:`trajectory.catalog.ray_stages`) and streams
the results to the driver, where :mod:`trajectory.catalog.ray_rows` files them under their
films. The driver logs each film's scores as they come (so a rerun after a
kill reuses them), and once a film has all its frames and its end row it submits the film's
assembly as a Ray task. The driver stays the only writer of ``catalog.db`` and of the film
folders: :mod:`trajectory.catalog.run` publishes what this engine yields.

Faults: a bad film is caught in its scan task and becomes a ``failed`` row (never retried: the
failure is the data, not a fault). A worker process that dies is retried by Ray, a bounded
number of times (tasks: ``max_retries``; actors: restarted, their pending batches retried).
Whatever is still missing when the stream ends fails its own film only
(``max_errored_blocks`` keeps the rest of the run going).
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from collections.abc import Iterator, Sequence

from trajectory.catalog.ray_rows import TASK_RETRIES, FilmInFlight, lost_reason, take_rows
from trajectory.catalog.ray_stages import (
    ScoringActor,
    describe_checkpoint,
    plan_resources,
    scan_rows,
)
from trajectory.catalog.stages import (
    FilmDone,
    FilmFailed,
    FilmJob,
    FilmResult,
    ProgressCallback,
    Settings,
    assemble_film,
    failure_reason,
)
from trajectory.errors import InputError

RAY_EXTRA = "pip install 'trajectory[ray]'"
NO_RAY_CLIENT = (
    "Ray Data pipelines do not run through Ray Client; run the command on the head node with "
    "--address auto, or submit it with `ray job submit`"
)
ACTOR_RESTARTS = 3  # a scoring actor whose process died is restarted this many times
CPU_BATCH = 8  # frames per model call on a CPU actor unless --batch-size says (GPU: 64)
BLOCK_BYTES = 32 << 20  # scan output blocks: a model gets frames after ~200 at 224 px


def import_ray():
    """Ray with Ray Data, or the one-line error that names the extra to install.

    Raises:
        InputError: Ray (with Ray Data) is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401 (the engine needs Ray Data, not just Ray Core)
    except ImportError:
        raise InputError(None, f"--engine ray needs Ray: {RAY_EXTRA}") from None
    return ray


class RayEngine:
    """Runs a catalogue on a Ray cluster (see the module docstring).

    Args:
        address: None starts a Ray instance on this machine (or, inside a Ray job, joins its
            cluster); "auto" joins the cluster this machine belongs to; "HOST:PORT" joins the
            cluster of that GCS. Ray Client ("ray://") is refused: Ray Data needs a driver
            on the cluster. When Ray is already initialised in this process, it is used as is.
        decoders: films scanned at once (``--workers``); None: from the cluster's resources.
        scoring_actor: the actor class of the scoring stage (tests pass a subclass).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        decoders: int | None = None,
        scoring_actor: type = ScoringActor,
    ):
        if (address or "").startswith("ray://"):
            raise InputError(None, f"--address {address}: {NO_RAY_CLIENT}")
        self.ray = import_ray()
        self.address = address
        self.decoders = decoders
        self.scoring_actor = scoring_actor
        self.batch_size: int | None = None  # --batch-size, when given
        self.started = False  # this engine started the Ray connection, and ends it
        self._assemble = None  # assemble_film as a Ray remote function, once registered

    def settings(
        self, checkpoint: str | None, fps: float, batch_size: int | None, device: str
    ) -> Settings:
        """The run's Settings; the checkpoint is checked by a Ray task (no torch on the driver).

        Raises:
            InputError: the checkpoint cannot be used.
        """
        if checkpoint is None:
            return Settings(fps=fps, device=device)
        self.batch_size = batch_size
        self.connect()
        task = self.ray.remote(describe_checkpoint).options(num_cpus=1, max_retries=TASK_RETRIES)
        try:
            model, input_size = self.ray.get(task.remote(os.fspath(checkpoint)))
        except self.ray.exceptions.RayTaskError as error:
            raise (error.cause or error) from None
        return Settings(
            fps=fps,
            checkpoint=os.fspath(checkpoint),
            model=model,
            input_size=input_size,
            batch_size=batch_size or CPU_BATCH,
            device=device,
        )

    def run(
        self, jobs: Sequence[FilmJob], settings: Settings, on_progress: ProgressCallback
    ) -> Iterator[FilmResult]:
        """Yields one FilmDone or FilmFailed per job as films finish (Engine protocol)."""
        if not jobs:
            self.close()
            return
        self.connect()
        films = {job.film_id: FilmInFlight(job) for job in jobs}
        assembling: dict = {}  # ObjectRef of an assembly task -> its film
        try:
            # batch_size=None: each block as it comes, so no film's last rows wait for others
            stream = self._pipeline(jobs, settings).iter_batches(
                batch_size=None, batch_format="numpy"
            )
            for batch in stream:
                for film in take_rows(batch, films, settings, on_progress):
                    yield from self._settle(film, settings, assembling)
                yield from self._assembled(assembling, wait=False)
            yield from self._assembled(assembling, wait=True)
            for film_id in list(films):  # its end row or some of its scores were never seen
                film = films.pop(film_id)
                yield FilmFailed(film.job, lost_reason(film))
        finally:
            for film in films.values():
                if film.log is not None:
                    film.log.close()
            self.close()

    def connect(self) -> None:
        """Joins or starts Ray, quietly, unless this process is already connected.

        Raises:
            InputError: no Ray cluster at the address.
        """
        if self.ray.is_initialized():
            return
        starts_here = self.address is None and not os.environ.get("RAY_ADDRESS")
        try:
            self.ray.init(
                address=self.address,
                logging_level=logging.ERROR,
                log_to_driver=False,  # worker output stays in the session logs
                **({"include_dashboard": False} if starts_here else {}),
            )
        except ConnectionError as error:
            raise InputError(None, f"--address {self.address}: {error}") from None
        self.started = True

    def close(self) -> None:
        """Ends the Ray connection if this engine made it."""
        if self.started:
            self.ray.shutdown()
            self.started = False

    def _pipeline(self, jobs: Sequence[FilmJob], settings: Settings):
        """The lazy Dataset: films -> scan tasks -> scoring actors (with a model)."""
        ray = self.ray
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the catalogue draws its own bar
        context.print_on_execution_start = False
        context.max_errored_blocks = len(jobs)  # a lost block fails its films, not the run
        context.target_max_block_size = BLOCK_BYTES
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        plan = plan_resources(ray.cluster_resources(), settings, self.decoders, self.batch_size)
        items = [{"film_id": job.film_id, "job": pickle.dumps(job)} for job in jobs]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        with warnings.catch_warnings():  # retry bounds are plain remote args in Ray 2.x
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = dataset.map_batches(
                scan_rows,
                batch_size=1,
                fn_kwargs={"settings": settings},
                num_cpus=1,
                concurrency=plan.decoders,
                max_retries=TASK_RETRIES,
            )
            if plan.actors:
                dataset = dataset.map_batches(
                    self.scoring_actor,
                    batch_size=plan.settings.batch_size,
                    fn_constructor_kwargs={"settings": plan.settings, "threads": plan.threads},
                    concurrency=plan.actors,
                    num_cpus=plan.cpus_per_actor,
                    num_gpus=plan.gpus_per_actor,
                    max_restarts=ACTOR_RESTARTS,
                    max_task_retries=TASK_RETRIES,
                )
        return dataset

    def _settle(
        self, film: FilmInFlight, settings: Settings, assembling: dict
    ) -> Iterator[FilmResult]:
        """A film whose rows have all come: its failure now, or its assembly as a Ray task."""
        if film.log is not None:
            film.log.close()
        if film.failed is not None:
            yield FilmFailed(film.job, film.failed)
            return
        if self._assemble is None:
            # A short pandas step: it holds no CPU, so it never waits behind the decoders and
            # actors that hold them all.
            task = self.ray.remote(assemble_film)
            self._assemble = task.options(num_cpus=0, max_retries=TASK_RETRIES)
        task = self._assemble.remote(film.scanned, film.probabilities, settings, film.features)
        assembling[task] = film

    def _assembled(self, assembling: dict, wait: bool) -> Iterator[FilmResult]:
        """The films whose assembly finished; with ``wait``, all of them."""
        while assembling:
            done, _ = self.ray.wait(list(assembling), num_returns=1, timeout=None if wait else 0)
            if not done:
                return
            film = assembling.pop(done[0])
            try:
                result: FilmResult = FilmDone(film.job, self.ray.get(done[0]))
            except Exception as error:  # one film's bad data never stops the catalogue
                cause = getattr(error, "cause", None) or error
                result = FilmFailed(film.job, failure_reason(cause))
            yield result
