"""``trajectory similar``: the films nearest to one film by what they feel like, and when.

Two distances, each in [0, 1], averaged:

- **distribution**: the Jensen-Shannon distance (base 2) between the whole-film distributions
  over the 8 classes: 0 for the same mix of emotions, 1 for mixes with nothing in common.
- **shape**: the root-mean-square difference between the films' valence tracks (valence
  smoothed over 10% of the film, resampled to 64 points on normalised time, so films of any
  length compare), halved since valence lies in [-1, 1]: 0 for the same arc.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError

SHAPE_WEIGHT = 0.5  # the shape distance's share of the combined distance


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (square root of the divergence, base 2) of two distributions."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    return float(np.sqrt(max(0.0, (_kl(p, m) + _kl(q, m)) / 2)))


def _kl(a: np.ndarray, m: np.ndarray) -> float:
    """Kullback-Leibler divergence KL(a || m) in bits; m > 0 wherever a > 0."""
    keep = a > 0
    return float(np.sum(a[keep] * np.log2(a[keep] / m[keep])))


def shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference of two valence tracks (resampled to a common length), halved."""
    n = max(len(a), len(b))
    grid = np.linspace(0.0, 1.0, n)
    a = np.interp(grid, np.linspace(0.0, 1.0, len(a)), a)
    b = np.interp(grid, np.linspace(0.0, 1.0, len(b)), b)
    return float(np.sqrt(np.mean((a - b) ** 2)) / 2)


def find_film(db: sqlite3.Connection, ref: str) -> sqlite3.Row:
    """A finished film by id, unique id prefix, path or title.

    Raises:
        InputError: no such film, or several match.
    """
    lookups = (
        ("f.id = ?", ref),
        ("f.path = ?", ref),
        ("f.title = ?", ref),
        ("f.id LIKE ? ESCAPE '\\'", ref.replace("\\", "\\\\").replace("%", "\\%") + "%"),
    )
    for clause, value in lookups:
        rows = db.execute(f"SELECT * FROM films f WHERE status = 'done' AND {clause}", (value,))
        rows = rows.fetchall()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            ids = ", ".join(r["id"] for r in rows[:5])
            raise InputError(None, f"{ref!r} matches several films ({ids}); give its id")
    raise InputError(None, f"{ref!r}: no finished film with this id, path or title")


def _vectors(row: sqlite3.Row) -> tuple[np.ndarray, np.ndarray] | None:
    if row["valence_track"] is None or row[EMOTIONS[0]] is None:
        return None
    shares = np.array([row[e] for e in EMOTIONS], dtype=float)
    return shares, np.array(json.loads(row["valence_track"]), dtype=float)


def similar(db: sqlite3.Connection, ref: str, k: int = 10) -> list[dict]:
    """The ``k`` finished films nearest to ``ref``, nearest first.

    Raises:
        InputError: ``ref`` is unknown, ambiguous or was analysed without a model.
    """
    target = find_film(db, ref)
    mine = _vectors(target)
    if mine is None:
        raise InputError(None, f"{ref!r} was analysed without an emotion model: nothing to match")
    found = []
    for row in db.execute("SELECT * FROM films WHERE status = 'done' AND id != ?", (target["id"],)):
        theirs = _vectors(row)
        if theirs is None:
            continue
        distribution = js_distance(mine[0], theirs[0])
        shape = shape_distance(mine[1], theirs[1])
        found.append(
            {
                "id": row["id"],
                "title": row["title"],
                "distance": round((1 - SHAPE_WEIGHT) * distribution + SHAPE_WEIGHT * shape, 4),
                "distribution": round(distribution, 4),
                "shape": round(shape, 4),
                "dominant": row["dominant"],
                "arc": row["arc"],
            }
        )
    found.sort(key=lambda r: (r["distance"], r["id"]))
    return found[:k]
