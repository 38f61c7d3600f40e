"""The catalogue driver: sources -> films -> what to do -> an engine -> published films + index.

The driver is the only writer of ``catalog.db`` and of the film folders. For each film an engine
finishes it publishes ``films/<id>/`` exactly as ``trajectory analyze`` would (tags.json, CSVs,
keyframes, report.html, through :func:`trajectory.export.write_outputs`), then records the
film's row and scenes in one transaction, then drops the film's score log. A run killed at any
point leaves finished films finished; the rest are redone by the next run, reusing their logs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from trajectory.catalog import db as catalog_db
from trajectory.catalog import sources as film_sources
from trajectory.catalog.stages import (
    Engine,
    FilmDone,
    FilmJob,
    FilmResult,
    Settings,
    failure_reason,
)
from trajectory.errors import InputError
from trajectory.export import KEYFRAME_DIR, write_outputs
from trajectory.results import Analysis

log = logging.getLogger("trajectory")

DB_NAME = "catalog.db"
LOCK_NAME = ".lock"
FILMS_DIR = "films"
WORK_DIR = ".work"  # score logs of films in flight
EXIT_SOME_FAILED = 3  # the run finished, but some films failed (see the films table's error)


@dataclass
class RunSummary:
    """What a run did: counts of films analysed, failed, already done and files skipped."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.failed else 0


@contextlib.contextmanager
def catalog_lock(catalog: Path) -> Iterator[None]:
    """Holds an exclusive fcntl lock on the catalogue; a second run is refused at once."""
    catalog.mkdir(parents=True, exist_ok=True)
    with open(catalog / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(catalog, "another trajectory catalog run is using it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def plan(db, films: list, settings: Settings, force: bool, catalog: Path) -> list:
    """Films to (re)do; updates finished films that only moved, drops superseded rows.

    A film is redone when it is new, not finished, analysed with another model or --fps, its
    folder is gone, its scenes were grouped with other parameters (tags.json), or ``force``.
    A row whose path now holds other content is superseded.
    """
    todo, moved = [], []
    current = {f.film_id for f in films}
    for f in films:
        row = catalog_db.film(db, f.film_id)
        fresh = (
            row is not None
            and row["status"] == "done"
            and row["fingerprint"] == f.fingerprint
            and row["model_sha256"] == settings.model_sha256
            and row["fps"] == settings.fps
            and _grouped_alike(catalog / FILMS_DIR / f.film_id / "tags.json", settings)
        )
        if force or not fresh:
            todo.append(f)
        elif (row["path"], row["title"]) != (f.path, f.title):
            moved.append(f)
    stale = {i for f in films for i in catalog_db.ids_at_path(db, f.path) if i not in current}
    catalog_db.delete_films(db, sorted(stale))
    for film_id in stale:
        shutil.rmtree(catalog / FILMS_DIR / film_id, ignore_errors=True)
    catalog_db.update_place(db, moved)
    catalog_db.set_pending(db, todo, settings.fps, settings.model_sha256)
    return todo


def _grouped_alike(tags_path: Path, settings: Settings) -> bool:
    """Whether the published tags.json exists and its scenes were grouped as this run groups."""
    try:
        saved = json.loads(tags_path.read_text(encoding="utf-8")).get("scene_grouping") or {}
    except (OSError, ValueError, AttributeError):
        return False
    # With a model every film has pooled features, so the weight recorded is the weight used.
    wanted = settings.scene_params.as_dict(deep_features=settings.input_size is not None)
    return {key: saved.get(key) for key in wanted} == wanted


def publish(result: Analysis, folder: Path) -> str | None:
    """Writes the film's folder as ``trajectory analyze`` does; returns its page keyframe."""
    from trajectory.report import render_report

    html = render_report(result, out_dir=folder)
    # A redone film's folder is replaced as a whole: nothing of the earlier run stays mixed in.
    write_outputs(result, folder, extra={"report.html": html.encode("utf-8")})
    if not result.keyframes:
        return None
    lengths = (result.scenes["end_s"] - result.scenes["start_s"]).to_numpy()
    order = [int(result.scenes["index"].iloc[i]) for i in lengths.argsort()[::-1]]
    scene = next(s for s in order if s in result.keyframes)
    return f"{FILMS_DIR}/{folder.name}/{KEYFRAME_DIR}/scene_{scene:04d}.jpg"


class Progress:
    """One bar over the film-seconds of the whole run, and a line per finished film."""

    def __init__(self, jobs: list[FilmJob], enabled: bool):
        self.expected = {j.film_id: j.duration_s or 0.0 for j in jobs}
        self.credited = dict.fromkeys(self.expected, 0.0)
        self.bar = tqdm(
            total=round(sum(self.expected.values()), 1),
            disable=not enabled,
            unit="s",
            desc="catalog",
            mininterval=0.5 if sys.stderr.isatty() else 10.0,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s of film [{elapsed}<{remaining}]",
        )

    def advance(self, film_id: str, seconds: float) -> None:
        room = self.expected.get(film_id, 0.0) - self.credited.get(film_id, 0.0)
        step = max(0.0, min(seconds, room))
        self.credited[film_id] = self.credited.get(film_id, 0.0) + step
        self.bar.update(step)

    def finished(self, film_id: str, line: str) -> None:
        self.advance(film_id, float("inf"))
        self.bar.write(line, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def run_catalog(
    sources: list,
    catalog: Path,
    settings: Settings,
    engine: Engine,
    *,
    force: bool = False,
    progress: bool = True,
) -> RunSummary:
    """Analyses every film of ``sources`` not already in ``catalog``; see the module docstring.

    Raises:
        InputError: a source is missing, or another run holds the catalogue.
    """
    catalog = Path(catalog)
    candidates = film_sources.expand(sources)
    with catalog_lock(catalog):
        inside = os.path.realpath(catalog) + os.sep
        candidates = [c for c in candidates if not os.path.realpath(c.path).startswith(inside)]
        films, skipped = film_sources.identify_all(candidates)
        db = catalog_db.connect(catalog / DB_NAME)
        try:
            catalog_db.record_skipped(db, skipped)
            todo = plan(db, films, settings, force, catalog)
            summary = RunSummary(unchanged=len(films) - len(todo), skipped=len(skipped))
            jobs = [_job(f, catalog, settings) for f in todo]
            _execute(db, engine, jobs, settings, catalog, summary, progress)
        finally:
            from trajectory.catalog.page import write_index

            write_index(db, catalog)
            db.close()
    return summary


def _job(film, catalog: Path, settings: Settings) -> FilmJob:
    log_path = catalog / WORK_DIR / f"{film.film_id}.scores" if settings.input_size else None
    score_log = str(log_path) if log_path else None
    return FilmJob(film.film_id, film.path, film.title, film.duration_s, score_log)


def _execute(db, engine, jobs, settings, catalog, summary, progress) -> None:
    bar = Progress(jobs, progress)
    try:
        with contextlib.closing(engine.run(jobs, settings, bar.advance)) as results:
            for result in results:
                _record(db, result, catalog, summary, bar)
    finally:
        bar.close()


def _record(db, result: FilmResult, catalog: Path, summary: RunSummary, bar: Progress) -> None:
    """Publishes a finished film (folder, then its row) or records a failure."""
    job = result.job
    if isinstance(result, FilmDone):
        try:
            keyframe = publish(result.analysis, catalog / FILMS_DIR / job.film_id)
        except Exception as error:  # one film's outputs never stop the catalogue
            reason = failure_reason(error)
            catalog_db.mark_failed(db, job.film_id, reason)
            summary.failed.append(job.film_id)
            bar.finished(job.film_id, f"trajectory: failed {job.path}: {reason}")
            return
        catalog_db.mark_done(db, job.film_id, result.analysis, keyframe)
        if job.score_log:
            Path(job.score_log).unlink(missing_ok=True)
        summary.done.append(job.film_id)
        film = result.analysis.film
        mood = f"{film.dominant}, {film.arc}" if film.dominant else "no model"
        line = f"trajectory: done {job.path} -> {FILMS_DIR}/{job.film_id} ({mood})"
        bar.finished(job.film_id, line)
    else:
        catalog_db.mark_failed(db, job.film_id, result.reason)
        summary.failed.append(job.film_id)
        bar.finished(job.film_id, f"trajectory: failed {job.path}: {result.reason}")
