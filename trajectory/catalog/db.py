"""catalog.db: the run state and the index, one SQLite file (WAL), written by the driver only.

Schema version 1 (``PRAGMA user_version``); every table reads with plain ``sqlite3`` or
``pandas.read_sql("select * from films", sqlite3.connect("catalog.db"))``:

- ``films``: one row per film id. ``status`` is ``pending`` (to do, or cut off by an
  interruption), ``done`` or ``failed`` (``error`` says why, in one line). ``fingerprint`` is
  the content id (size + first and last MiB), ``model_sha256`` and ``fps`` what it was analysed
  with; then the film's ``dominant`` class, ``tags`` (JSON list), mean ``valence``, ``arc``, the
  8 class shares (NULL without a model), ``valence_track`` (JSON list of TRACK_POINTS values:
  the valence smoothed over 10% of the film, on normalised time), ``keyframe`` (path relative
  to the catalogue), ``scenes``/``shots`` counts and ``analysed_at`` (ISO 8601, UTC).
- ``scenes``: (film_id, scene) -> start_s, end_s, dominant, confidence, the 8 shares.
- ``skipped``: files that are not films (audio only, still images, unreadable), with the reason.

A film's row and its scenes change in one transaction, after its folder is published, so a
killed run leaves either the old state or the new one.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from trajectory.aggregate import ARC_SMOOTHING, smooth_track
from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.results import Analysis

SCHEMA_VERSION = 1
TRACK_POINTS = 64
SHARES = ", ".join(f"{name} REAL" for name in EMOTIONS)
SCHEMA = f"""
CREATE TABLE films (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT,
    duration_s REAL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    error TEXT,
    fingerprint TEXT NOT NULL,
    model_sha256 TEXT,
    fps REAL NOT NULL,
    dominant TEXT,
    tags TEXT,
    valence REAL,
    arc TEXT,
    {SHARES},
    valence_track TEXT,
    keyframe TEXT,
    scenes INTEGER,
    shots INTEGER,
    analysed_at TEXT
);
CREATE INDEX films_path ON films (path);
CREATE TABLE scenes (
    film_id TEXT NOT NULL REFERENCES films (id) ON DELETE CASCADE,
    scene INTEGER NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    dominant TEXT,
    confidence REAL,
    {SHARES},
    PRIMARY KEY (film_id, scene)
);
CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL, seen_at TEXT NOT NULL);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    """Opens catalog.db; creates the schema when writing to a new file.

    Raises:
        InputError: not a catalogue (read-only and missing), or another schema version.
    """
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise InputError(path, "no catalogue here (catalog.db is missing)")
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
        db.execute("PRAGMA foreign_keys = ON")
    db.row_factory = sqlite3.Row
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and not readonly:
        db.executescript(f"BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    elif version != SCHEMA_VERSION:
        db.close()
        raise InputError(path, f"catalogue schema version {version} is not supported")
    return db


class _transaction:
    """``with _transaction(db):`` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection, begin: bool = False):
        self.db, self.begin = db, begin

    def __enter__(self):
        if self.begin:
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, error, trace) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK" if kind else "COMMIT")


def film(db: sqlite3.Connection, film_id: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM films WHERE id = ?", (film_id,)).fetchone()


def ids_at_path(db: sqlite3.Connection, path: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM films WHERE path = ?", (path,))]


def set_pending(db: sqlite3.Connection, films: list, fps: float, model_sha256: str | None) -> None:
    """Marks films to do as pending (new rows, or redone ones with their results cleared)."""
    with _transaction(db, begin=True):
        for f in films:
            db.execute("DELETE FROM films WHERE id = ?", (f.film_id,))  # its scenes go too
            db.execute(
                "INSERT INTO films (id, path, title, duration_s, status, fingerprint,"
                " model_sha256, fps) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (f.film_id, f.path, f.title, f.duration_s, f.fingerprint, model_sha256, fps),
            )


def update_place(db: sqlite3.Connection, films: list) -> None:
    """Finished films found under another path or title: only those columns change."""
    with _transaction(db, begin=True):
        for f in films:
            db.execute(
                "UPDATE films SET path = ?, title = ? WHERE id = ?", (f.path, f.title, f.film_id)
            )


def delete_films(db: sqlite3.Connection, film_ids: list[str]) -> None:
    with _transaction(db, begin=True):
        db.executemany("DELETE FROM films WHERE id = ?", [(i,) for i in film_ids])


def record_skipped(db: sqlite3.Connection, skipped: list) -> None:
    """Replaces the list of skipped files with this run's, dropping paths that are now films."""
    with _transaction(db, begin=True):
        db.execute("DELETE FROM skipped")
        db.executemany(
            "INSERT OR REPLACE INTO skipped (path, reason, seen_at) VALUES (?, ?, ?)",
            [(s.path, s.reason, now()) for s in skipped],
        )


def mark_failed(db: sqlite3.Connection, film_id: str, reason: str) -> None:
    with _transaction(db, begin=True):
        db.execute(
            "UPDATE films SET status = 'failed', error = ?, analysed_at = ? WHERE id = ?",
            (reason, now(), film_id),
        )


def mark_done(db: sqlite3.Connection, film_id: str, result: Analysis, keyframe: str | None) -> None:
    """The film's index row and its scenes, in one transaction."""
    row = film_values(result)
    row.update(keyframe=keyframe, analysed_at=now(), status="done", error=None)
    assignments = ", ".join(f"{name} = ?" for name in row)
    with _transaction(db, begin=True):
        db.execute(f"UPDATE films SET {assignments} WHERE id = ?", [*row.values(), film_id])
        db.execute("DELETE FROM scenes WHERE film_id = ?", (film_id,))
        columns = ["film_id", "scene", "start_s", "end_s", "dominant", "confidence", *EMOTIONS]
        marks = ", ".join("?" * len(columns))
        db.executemany(
            f"INSERT INTO scenes ({', '.join(columns)}) VALUES ({marks})",
            [(film_id, *values) for values in scene_values(result)],
        )


def film_values(result: Analysis) -> dict:
    """The films row of an Analysis (column -> value); column names are this module's own."""
    film = result.film
    shares = film.distribution or {}
    return {
        "duration_s": round(result.duration_s, 3),
        "dominant": film.dominant,
        "tags": json.dumps(film.tags),
        "valence": film.valence,
        "arc": film.arc,
        **{name: shares.get(name) for name in EMOTIONS},
        "valence_track": _track_json(result),
        "scenes": len(result.scenes),
        "shots": len(result.shots),
    }


def scene_values(result: Analysis) -> list[tuple]:
    rows = []
    for scene in result.scenes.itertuples(index=False):
        shares = [_number(getattr(scene, name)) for name in EMOTIONS]
        dominant = scene.dominant if isinstance(scene.dominant, str) else None
        rows.append(
            (int(scene.index), float(scene.start_s), float(scene.end_s), dominant,
             _number(scene.confidence), *shares)
        )  # fmt: skip
    return rows


def valence_track(times: np.ndarray, valences: np.ndarray, points: int = TRACK_POINTS):
    """(points,) valence smoothed over 10% of the film on normalised time; None if unscored."""
    ok = np.isfinite(valences)
    if ok.sum() < 2:
        return None
    times, valences = times[ok], valences[ok]
    span = times[-1] - times[0]
    smooth = smooth_track(times, valences, ARC_SMOOTHING * span)
    return np.interp(np.linspace(times[0], times[-1], points), times, smooth)


def _track_json(result: Analysis) -> str | None:
    frames = result.frames
    track = valence_track(frames["time_s"].to_numpy(), frames["valence"].to_numpy(dtype=float))
    return None if track is None else json.dumps([round(float(v), 4) for v in track])


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None
