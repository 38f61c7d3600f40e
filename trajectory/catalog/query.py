"""``trajectory query``: films or scenes of a catalogue, filtered and sorted by mood.

Filters are parsed, never pasted into SQL: a column name must be one of the whitelisted names
below (each maps to an SQL expression written here), the operator one of six, and the value is
always a bound parameter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass

from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.timecode import format_timecode

OPERATORS = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "=": "=", "==": "=", "!=": "!="}
FILTER = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|==|!=|=|>|<)\s*(\S.*?)\s*$")

# name -> (SQL expression, numeric?)
FILM_COLUMNS: dict[str, tuple[str, bool]] = {
    "id": ("f.id", False),
    "title": ("f.title", False),
    "path": ("f.path", False),
    "duration": ("f.duration_s", True),
    "dominant": ("f.dominant", False),
    "arc": ("f.arc", False),
    "valence": ("f.valence", True),
    "scenes": ("f.scenes", True),
    "shots": ("f.shots", True),
    **{name: (f"f.{name}", True) for name in EMOTIONS},
}
SCENE_COLUMNS: dict[str, tuple[str, bool]] = {
    "film": ("f.id", False),
    "title": ("f.title", False),
    "scene": ("s.scene", True),
    "start": ("s.start_s", True),
    "end": ("s.end_s", True),
    "duration": ("(s.end_s - s.start_s)", True),
    "dominant": ("s.dominant", False),
    "confidence": ("s.confidence", True),
    **{name: (f"s.{name}", True) for name in EMOTIONS},
}
FILM_OUTPUT = ("id", "title", "duration", "dominant", "arc", "valence", *EMOTIONS)
SCENE_OUTPUT = ("film", "title", "scene", "start", "end", "dominant", "confidence", *EMOTIONS)


@dataclass(frozen=True)
class Filter:
    expression: str  # from the whitelist
    operator: str
    value: float | str


def parse_filter(text: str, columns: dict[str, tuple[str, bool]]) -> Filter:
    """``"sadness >= 0.3"`` -> Filter; raises InputError (one line) when malformed."""
    match = FILTER.match(text)
    if match is None:
        raise InputError(None, f"--where {text!r}: expected COLUMN OP VALUE, e.g. 'fear >= 0.3'")
    name, operator, raw = match.groups()
    if name.lower() not in columns:
        known = ", ".join(columns)
        raise InputError(None, f"--where {text!r}: unknown column {name!r} (one of: {known})")
    expression, numeric = columns[name.lower()]
    if numeric:
        try:
            value: float | str = float(raw)
        except ValueError:
            raise InputError(None, f"--where {text!r}: {raw!r} is not a number") from None
    else:
        value = raw.strip("'\"")
    return Filter(expression, OPERATORS[operator], value)


def parse_sort(text: str, columns: dict[str, tuple[str, bool]]) -> str:
    """``"-fear"`` -> ``"f.fear DESC"``; the column from the whitelist."""
    descending = text.startswith("-")
    name = text.lstrip("+-").lower()
    if name not in columns:
        raise InputError(None, f"--sort {text!r}: unknown column (one of: {', '.join(columns)})")
    return f"{columns[name][0]} {'DESC' if descending else 'ASC'}"


def query(
    db: sqlite3.Connection,
    where: list[str] = (),
    arc: str | None = None,
    min_duration: float | None = None,
    sort: str | None = None,
    limit: int | None = None,
    scenes: bool = False,
) -> list[dict]:
    """Finished films (or their scenes) matching every filter, as plain rows.

    Raises:
        InputError: a malformed filter or sort.
    """
    columns = SCENE_COLUMNS if scenes else FILM_COLUMNS
    output = SCENE_OUTPUT if scenes else FILM_OUTPUT
    filters = [parse_filter(text, columns) for text in where]
    clauses, values = ["f.status = 'done'"], []
    for f in filters:
        clauses.append(f"{f.expression} {f.operator} ?")
        values.append(f.value)
    if arc is not None:
        clauses.append("f.arc = ?")
        values.append(arc)
    if min_duration is not None:
        clauses.append("f.duration_s >= ?")
        values.append(float(min_duration))
    selected = ", ".join(f'{columns[name][0]} AS "{name}"' for name in output)
    source = "films f JOIN scenes s ON s.film_id = f.id" if scenes else "films f"
    default = "f.title, s.scene" if scenes else "f.title, f.id"
    order = parse_sort(sort, columns) + ", " + default if sort else default
    sql = f"SELECT {selected} FROM {source} WHERE {' AND '.join(clauses)} ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT ?"
        values.append(int(limit))
    return [dict(row) for row in db.execute(sql, values)]


def format_rows(rows: list[dict], fmt: str, scenes: bool = False) -> str:
    """``table`` (aligned text, timecodes for scenes), ``csv`` or ``json``."""
    if fmt == "json":
        return json.dumps(rows, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    return _table(rows, scenes)


def _cell(name: str, value) -> str:
    if value is None:
        return "-"
    if name in ("start", "end"):
        return format_timecode(value)
    if name == "duration":
        return format_timecode(value).split(".")[0]
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _table(rows: list[dict], scenes: bool) -> str:
    if not rows:
        return "(no match)"
    names = list(rows[0])
    cells = [[_cell(n, row[n]) for n in names] for row in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
