"""CATALOG/index.html: one offline page, a row per film, sortable and filterable in the page.

Rows are rendered here (every string from a file or a list file is escaped) and the page's
script only reorders and hides them, so the page is readable without JavaScript and stays small:
keyframes are linked from the film folders, not embedded, and a sparkline is ~30 SVG points.
"""

from __future__ import annotations

import html
import json
import sqlite3
from importlib import resources
from pathlib import Path

from trajectory import __version__
from trajectory.emotions import COLORS, EMOTIONS
from trajectory.files import atomic_write
from trajectory.timecode import format_timecode

PAGE_NAME = "index.html"
SPARK_POINTS = 32
SPARK_W, SPARK_H = 120, 28


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _asset(name: str) -> str:
    return resources.files("trajectory").joinpath(f"report_assets/{name}").read_text("utf-8")


def sparkline(track: list[float] | None) -> str:
    """An inline SVG of a valence track in [-1, 1] (zero line dashed); empty without one."""
    if not track:
        return ""
    step = max(1, len(track) // SPARK_POINTS)
    values = track[::step]
    xs = [i * SPARK_W / max(1, len(values) - 1) for i in range(len(values))]
    ys = [SPARK_H / 2 * (1 - max(-1.0, min(1.0, v))) for v in values]
    points = " ".join(f"{x:.0f},{y:.1f}" for x, y in zip(xs, ys))
    return (
        f'<svg class="spark" width="{SPARK_W}" height="{SPARK_H}" viewBox="0 0 {SPARK_W} '
        f'{SPARK_H}" aria-label="valence over the film"><line x1="0" x2="{SPARK_W}" '
        f'y1="{SPARK_H / 2}" y2="{SPARK_H / 2}"/><polyline points="{points}"/></svg>'
    )


def _chip(name: str, share: float | None = None) -> str:
    colour = COLORS.get(name, "#999")
    extra = f" {share * 100:.0f}%" if share is not None else ""
    return f'<span class="chip"><i style="background:{colour}"></i>{_esc(name)}{extra}</span>'


def film_row(row: sqlite3.Row) -> str:
    """One <tr> of a finished film; data-* attributes carry the sort and filter keys."""
    film_id = row["id"]
    report = f"films/{_esc(film_id)}/report.html"
    tags = json.loads(row["tags"]) if row["tags"] else []
    track = json.loads(row["valence_track"]) if row["valence_track"] else None
    dominant = row["dominant"]
    shares = " ".join(f'data-{e}="{row[e]:.4f}"' for e in EMOTIONS if row[e] is not None)
    image = f'<img loading="lazy" src="{_esc(row["keyframe"])}" alt="">' if row["keyframe"] else ""
    duration = row["duration_s"] or 0.0
    search = " ".join(str(x) for x in (row["title"], row["path"], film_id, *tags) if x)
    return (
        f'<tr data-id="{_esc(film_id)}" data-title="{_esc(row["title"])}" '
        f'data-duration="{duration:.3f}" data-dominant="{_esc(dominant)}" '
        f'data-arc="{_esc(row["arc"])}" data-valence="{row["valence"] or 0:.4f}" {shares} '
        f'data-search="{_esc(search.lower())}">'
        f'<td class="key"><a href="{report}">{image}</a></td>'
        f'<td class="title"><a href="{report}">{_esc(row["title"])}</a>'
        f'<div class="path">{_esc(row["path"])}</div></td>'
        f"<td>{_esc(format_timecode(duration).split('.')[0])}</td>"
        f"<td>{_chip(dominant, row[dominant]) if dominant else '—'}</td>"
        f"<td>{''.join(_chip(t) for t in tags)}</td>"
        f"<td>{_esc(row['arc'] or '—')}</td>"
        f"<td>{sparkline(track)}</td></tr>"
    )


def _problem_rows(db: sqlite3.Connection) -> str:
    failed = db.execute(
        "SELECT path, error FROM films WHERE status = 'failed' ORDER BY path"
    ).fetchall()
    skipped = db.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall()
    rows = [
        f'<tr class="{kind}"><td>{kind}</td><td>{_esc(path)}</td><td>{_esc(reason)}</td></tr>'
        for kind, items in (("failed", failed), ("skipped", skipped))
        for path, reason in items
    ]
    return "\n".join(rows)


def _options(values) -> str:
    return "".join(f'<option value="{_esc(v)}">{_esc(v)}</option>' for v in values)


def render_index(db: sqlite3.Connection) -> str:
    """The catalogue page as a string."""
    films = db.execute("SELECT * FROM films WHERE status = 'done' ORDER BY title, id").fetchall()
    pending = db.execute("SELECT count(*) FROM films WHERE status = 'pending'").fetchone()[0]
    problems = _problem_rows(db)
    arcs = sorted({r["arc"] for r in films if r["arc"]})
    dominants = [e for e in EMOTIONS if any(r["dominant"] == e for r in films)]
    facts = f"{len(films)} films"
    if pending:
        facts += f" · {pending} not finished (run the same command again)"
    return _asset("catalog.html").format(
        css=_asset("catalog.css"),
        facts=_esc(facts),
        dominant_options=_options(dominants),
        arc_options=_options(arcs),
        emotion_options=_options(EMOTIONS),
        rows="\n".join(film_row(r) for r in films),
        problems=problems or '<tr><td colspan="3" class="muted">none</td></tr>',
        version=_esc(__version__),
        js=_asset("catalog.js"),
    )


def write_index(db: sqlite3.Connection, catalog: Path) -> Path:
    """Renders and atomically replaces CATALOG/index.html."""
    path = Path(catalog) / PAGE_NAME
    atomic_write(path, render_index(db).encode("utf-8"))
    return path
