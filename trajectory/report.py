"""The HTML report: one self-contained page (plotly.js embedded once, no network) per film.

Layout: a header (name, duration, model or a plain "no emotion model" notice, the film's
distribution with its tags and arc), the timeline (8 smoothed emotion tracks over coloured scene
bands, a valence track, a strip of scenes and shot cuts), and the scene table with keyframes.
Without a model the timeline shows brightness and colourfulness instead; nothing pretends to be
emotion.

Size budget: what is drawn is downsampled, what is stored (frames.csv) is not. Each track has at
most MAX_POINTS points (bin means over equal spans of time), so a 2-hour film sampled at 1 fps
(7200 frames, 1500 shots, 60 scenes) adds 1.1 MB of data and keyframes to the 4.8 MB of
plotly.js: 5.9 MB in all (tests/test_report.py::test_long_film_report_stays_small holds it
under 1.5 MB beyond plotly.js). The page re-smooths the embedded bins in JavaScript with the
same centred moving average as :func:`smooth_binned`, so the window can be changed in the page.

Everything that comes from the user or the file (file name, title) is HTML-escaped, and JSON
embedded in ``<script>`` has ``<``, ``>`` and ``&`` escaped, so no name can close the script.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from trajectory import __version__
from trajectory.aggregate import smooth_track
from trajectory.emotions import COLORS, EMOTIONS, POSITIVE, valence
from trajectory.pipeline import Analysis
from trajectory.timecode import format_timecode

MAX_POINTS = 2000  # drawn points per track; a 2 h film at 1 fps has 7200 sampled frames
SMOOTHING_FRACTION = 0.02  # default smoothing window: 2% of the film ...
SMOOTHING_MIN_S, SMOOTHING_MAX_S = 5.0, 120.0  # ... clamped to this range (seconds)
SMOOTHING_CHOICES_S = (0.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TOP_CLASSES = 3  # classes named in the hover and the scene table
EPOCH_MS = 946_684_800_000  # 2000-01-01 00:00 UTC, the timeline's time zero
# Containers browsers play from disk: H.264/AAC in MP4, VP8/VP9/AV1 in WebM, Theora in Ogg.
PLAYABLE = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}
VISUAL_COLORS = {"brightness": "#1F2937", "colourfulness": "#6B7280"}  # never emotion colours
ARC_WORDS = {
    "rags-to-riches": "a steady rise",
    "riches-to-rags": "a steady fall",
    "man-in-a-hole": "fall, then rise",
    "icarus": "rise, then fall",
    "cinderella": "rise, fall, rise",
    "oedipus": "fall, rise, fall",
    "flat": "valence hardly moves",
}


@dataclass
class Tracks:
    """Per-frame series averaged into at most MAX_POINTS bins of equal time span.

    ``times`` (N,) float64 is the mean frame time of each bin in seconds, ``counts`` (N,) the
    number of frames in it, ``values`` name -> (N,) float64 bin means.
    """

    times: np.ndarray
    counts: np.ndarray
    values: dict[str, np.ndarray]


def default_smoothing(duration_s: float) -> float:
    """The default smoothing window in seconds: 2% of the film, within [5 s, 120 s], whole."""
    window = SMOOTHING_FRACTION * max(duration_s, 0.0)
    return float(round(min(max(window, SMOOTHING_MIN_S), SMOOTHING_MAX_S)))


def downsample(times: np.ndarray, columns: dict[str, np.ndarray], max_points: int) -> Tracks:
    """Averages (N,) series into at most ``max_points`` bins of equal time span.

    Series with no more than ``max_points`` frames are kept as they are (one frame per bin).
    Empty bins are dropped.
    """
    times = np.asarray(times, dtype=np.float64)
    if max_points < 1:
        raise ValueError(f"max_points must be positive, got {max_points}")
    if len(times) <= max_points:
        bins = np.arange(len(times))
    else:
        edges = np.linspace(times[0], times[-1], max_points + 1)[1:-1]
        bins = np.searchsorted(edges, times, side="right")
    counts = np.bincount(bins, minlength=bins.max() + 1 if len(bins) else 0)
    keep = counts > 0
    return Tracks(
        times=_bin_means(bins, counts, times)[keep],
        counts=counts[keep].astype(np.float64),
        values={name: _bin_means(bins, counts, v)[keep] for name, v in columns.items()},
    )


def _bin_means(bins: np.ndarray, counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    sums = np.bincount(bins, weights=np.asarray(values, dtype=np.float64), minlength=len(counts))
    return sums / np.maximum(counts, 1)


def smooth_binned(tracks: Tracks, values: np.ndarray, window_s: float) -> np.ndarray:
    """Centred moving average over ``window_s`` seconds, each bin weighted by its frame count.

    With one frame per bin this is :func:`trajectory.aggregate.smooth_track`; the page's
    JavaScript computes the same thing when the window is changed.
    """
    total = smooth_track(tracks.times, values * tracks.counts, window_s)
    frames = smooth_track(tracks.times, tracks.counts, window_s)
    return total / frames


def render_report(
    result: Analysis,
    out_dir: str | os.PathLike | None = None,
    smoothing_s: float | None = None,
    max_points: int = MAX_POINTS,
) -> str:
    """Renders the report of ``result`` as one self-contained HTML page.

    Args:
        out_dir: the folder the report will be written to. When the analysed video sits there
            in a format browsers play (MP4, WebM, Ogg), the page embeds a player that seeks to
            the scene clicked in the table. None: no player.
        smoothing_s: the timeline's smoothing window in seconds (0: none); None: about 2% of
            the film (:func:`default_smoothing`).
        max_points: drawn points per track (the stored per-frame data is not touched).

    Returns:
        The page, as a string.
    """
    if smoothing_s is not None and not (smoothing_s >= 0 and math.isfinite(smoothing_s)):
        raise ValueError(f"smoothing must be a non-negative number of seconds, got {smoothing_s}")
    window = default_smoothing(result.duration_s) if smoothing_s is None else float(smoothing_s)
    emotional = result.film.distribution is not None
    tracks = _tracks(result, emotional, max_points)
    figures = {"timeline": _timeline_figure(result, tracks, window, emotional)}
    if emotional:
        figures["distribution"] = _distribution_figure(result.film.distribution)
    payload = {
        "figures": {name: fig.to_plotly_json() for name, fig in figures.items()},
        "tracks": _tracks_payload(tracks),
        "scenes": {"start": [round(float(s), 3) for s in result.scenes["start_s"]]},
        "mode": "emotion" if emotional else "visual",
        "window_s": window,
        "epoch_ms": EPOCH_MS,
    }
    title = result.video.title or result.video.name
    body = "\n".join(
        [
            _header_html(result, emotional),
            _timeline_html(result, window, emotional),
            _scenes_html(result, emotional, _player_html(result, out_dir)),
            f"<footer>Generated by trajectory {html.escape(__version__)}. "
            "Self-contained: opens offline, nothing is fetched.</footer>",
        ]
    )
    return _asset("page.html").format(
        title=html.escape(title),
        css=_asset("report.css"),
        plotlyjs=get_plotlyjs(),
        body=body,
        data=script_json(payload),
        js=_asset("report.js"),
    )


def script_json(value) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>`` and ``&`` become unicode escapes."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, cls=_Encoder)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return super().default(o)


# -- data ---------------------------------------------------------------------------------------


def _tracks(result: Analysis, emotional: bool, max_points: int) -> Tracks:
    """The drawn series: 8 classes and valence, or brightness (%) and colourfulness.

    Frames without a value (unscored) are left out rather than drawn as gaps.
    """
    names = list(EMOTIONS) if emotional else list(VISUAL_COLORS)
    values = result.frames[names].to_numpy(dtype=np.float64)
    known = np.isfinite(values).all(axis=1)
    values = values[known]
    columns = {name: values[:, i] for i, name in enumerate(names)}
    if emotional:
        columns["valence"] = valence(values)
    else:
        columns["brightness"] = columns["brightness"] * 100  # percent of full white
    times = result.frames["time_s"].to_numpy(dtype=np.float64)[known]
    return downsample(times, columns, max_points)


def _tracks_payload(tracks: Tracks) -> dict:
    return {
        "t": np.round(tracks.times, 3),
        "n": tracks.counts.astype(int),
        "values": {name: np.round(v, 4) for name, v in tracks.values.items()},
    }


def _ms(seconds):
    """Seconds -> the timeline's x: a date axis (read as HH:MM:SS) in milliseconds from EPOCH_MS.

    plotly.js reads numbers of up to 4 digits on a date axis as years, hence the offset.
    """
    ms = np.round(np.asarray(seconds, dtype=np.float64) * 1000).astype(np.int64) + EPOCH_MS
    return ms.tolist()


def _clock(seconds: float) -> str:
    return format_timecode(max(0.0, round(seconds)))[:8]


def _duration_words(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _scene_at(result: Analysis, times: np.ndarray) -> np.ndarray:
    starts = result.scenes["start_s"].to_numpy(dtype=np.float64)
    return np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)


def _hover_texts(result: Analysis, tracks: Tracks, smoothed: dict, emotional: bool) -> list[str]:
    """Per drawn point: its scene and the top classes (or the visual statistics), as HTML."""
    scene = result.scenes["index"].to_numpy()[_scene_at(result, tracks.times)]
    texts = []
    for i, s in enumerate(scene):
        if emotional:
            shares = sorted(((smoothed[e][i], e) for e in EMOTIONS), reverse=True)[:TOP_CLASSES]
            parts = [f"{name} {share * 100:.0f}%" for share, name in shares]
        else:
            parts = [
                f"brightness {smoothed['brightness'][i]:.0f}%",
                f"colourfulness {smoothed['colourfulness'][i]:.0f}",
            ]
        texts.append(f"scene {int(s)}<br>" + "<br>".join(parts))
    return texts


# -- figures ------------------------------------------------------------------------------------

FONT = "Inter, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif"


def _timeline_figure(result: Analysis, tracks: Tracks, window: float, emotional: bool) -> go.Figure:
    """Rows: emotion tracks (or brightness), valence (or colourfulness), scenes and cuts strip."""
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.035, row_heights=[0.62, 0.26, 0.12]
    )
    x = _ms(tracks.times)
    smoothed = {name: smooth_binned(tracks, v, window) for name, v in tracks.values.items()}
    if emotional:
        for name in EMOTIONS:
            fig.add_trace(_line(x, smoothed[name], name, COLORS[name], legend=True), row=1, col=1)
        fig.add_trace(_line(x, smoothed["valence"], "valence", "#374151", fill=True), row=2, col=1)
        rows = ("share of frames", "valence")
        limit = max(0.25, 1.15 * float(np.nanmax(np.abs(smoothed["valence"]), initial=0.0)))
    else:
        for row, (name, color) in enumerate(VISUAL_COLORS.items(), start=1):
            fig.add_trace(_line(x, smoothed[name], name, color, legend=True), row=row, col=1)
        rows = ("brightness %", "colourfulness")
        limit = None
    hover = go.Scatter(
        x=x,
        y=[0.0] * len(x),
        mode="markers",
        marker={"size": 1, "opacity": 0},
        name="hover",
        showlegend=False,
        text=_hover_texts(result, tracks, smoothed, emotional),
        hovertemplate="%{text}<extra></extra>",
    )
    fig.add_trace(hover, row=1, col=1)
    _add_strip(fig, result, emotional)
    _add_bands(fig, result, emotional)
    _style_timeline(fig, result, rows, limit)
    return fig


def _line(x, y, name: str, color: str, legend: bool = False, fill: bool = False) -> go.Scatter:
    line = go.Scatter(
        x=x,
        y=np.round(y, 4).tolist(),
        mode="lines",
        name=name,
        showlegend=legend,
        line={"color": color, "width": 1.8},
        hoverinfo="skip",
    )
    if fill:  # the valence track: its own hover, since the strip's label covers emotions only
        line.update(
            fill="tozeroy",
            fillcolor="rgba(55,65,81,0.12)",
            hoverinfo=None,
            hovertemplate="valence %{y:+.2f}<extra></extra>",
        )
    if name == "amusement":  # Okabe-Ito yellow is faint on white: a little wider
        line.update(line={"width": 2.2})
    return line


def _scene_colors(result: Analysis, emotional: bool) -> list[str]:
    if not emotional:
        return ["#9CA3AF" if i % 2 else "#D1D5DB" for i in range(len(result.scenes))]
    return [
        COLORS.get(d, "#D1D5DB") if isinstance(d, str) else "#D1D5DB"
        for d in result.scenes["dominant"]
    ]


def _add_strip(fig: go.Figure, result: Analysis, emotional: bool) -> None:
    """Row 3: one bar per scene (colour = dominant class) above a tick at every shot cut."""
    scenes = result.scenes
    start, end = scenes["start_s"].to_numpy(float), scenes["end_s"].to_numpy(float)
    labels = []
    for row in scenes.itertuples(index=False):
        label = f"scene {row.index}<br>{_clock(row.start_s)}–{_clock(row.end_s)}"
        if emotional and isinstance(row.dominant, str):
            label += f"<br>{row.dominant} {row.confidence * 100:.0f}%"
        labels.append(label)
    fig.add_trace(
        go.Bar(
            x=_ms((start + end) / 2),
            y=[0.6] * len(scenes),
            base=0.4,
            name="scenes",
            width=np.round((end - start) * 1000).tolist(),
            marker={
                "color": _scene_colors(result, emotional),
                "line": {"color": "white", "width": 1},
            },
            showlegend=False,
            text=labels,
            textposition="none",
            hovertemplate="%{text}<extra></extra>",
        ),
        row=3,
        col=1,
    )
    cuts = result.shots["start_s"].to_numpy(float)[1:]
    fig.add_trace(
        go.Scatter(
            x=_ms(cuts),
            y=[0.18] * len(cuts),
            mode="markers",
            name="shot cuts",
            showlegend=False,
            marker={
                "symbol": "line-ns",
                "size": 9,
                "line": {"width": 1, "color": "rgba(17,24,39,0.7)"},
            },
            hovertemplate="cut %{x|%H:%M:%S.%L}<extra></extra>",
        ),
        row=3,
        col=1,
    )


def _add_bands(fig: go.Figure, result: Analysis, emotional: bool) -> None:
    """Faint scene bands behind the two track rows (colour = the scene's dominant class)."""
    colors = _scene_colors(result, emotional)
    opacity = 0.13 if emotional else 0.35
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": yref,
            "x0": x0,
            "x1": x1,
            "y0": 0,
            "y1": 1,
            "fillcolor": colors[i],
            "opacity": opacity,
            "line": {"width": 0},
            "layer": "below",
        }
        for i, (x0, x1) in enumerate(
            zip(_ms(result.scenes["start_s"]), _ms(result.scenes["end_s"]), strict=True)
        )
        if emotional or i % 2  # without a model: alternate grey and white, no meaning
        for yref in ("y domain", "y2 domain")
    ]
    fig.update_layout(shapes=shapes)  # at once: add_shape() is quadratic in the shape count


def _style_timeline(fig: go.Figure, result: Analysis, rows: tuple[str, str], limit: float | None):
    """Axes and layout; ``limit`` is the valence row's half range (None: no valence row)."""
    fig.update_layout(
        template="simple_white",
        height=560,
        margin={"l": 64, "r": 16, "t": 8, "b": 36},
        font={"family": FONT, "size": 12, "color": "#1F2937"},
        hovermode="x unified",
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.01,
            "x": 0,
            "font": {"size": 12},
            "itemclick": "toggle",
            "itemdoubleclick": "toggleothers",
        },
        hoverlabel={"font": {"family": FONT, "size": 12}, "bgcolor": "rgba(255,255,255,0.95)"},
        bargap=0,
        dragmode="zoom",
        uirevision="timeline",
    )
    start, end = _ms(result.start_s), _ms(result.end_s)
    fig.update_xaxes(
        type="date",
        tickformat="%H:%M:%S",
        hoverformat="%H:%M:%S",
        range=[start, end],
        showgrid=False,
        ticks="outside",
        showspikes=True,
        spikemode="across",
        spikethickness=1,
        spikecolor="#6B7280",
        spikedash="solid",
    )
    fig.update_yaxes(showgrid=True, gridcolor="#EEF0F3", zeroline=False, ticks="", title_standoff=6)
    fig.update_yaxes(
        title_text=rows[0], row=1, col=1, rangemode="tozero", tickformat=".0%" if limit else None
    )
    if limit:
        fig.update_yaxes(
            title_text=rows[1],
            row=2,
            col=1,
            range=[-limit, limit],
            zeroline=True,
            zerolinecolor="#9CA3AF",
            tickformat="+.1f",
        )
    else:
        fig.update_yaxes(title_text=rows[1], row=2, col=1, rangemode="tozero")
    fig.update_yaxes(
        title_text="shots",
        row=3,
        col=1,
        range=[0, 1],
        showticklabels=False,
        showgrid=False,
        fixedrange=True,
    )


def _distribution_figure(distribution: dict[str, float]) -> go.Figure:
    order = sorted(EMOTIONS, key=lambda e: distribution[e])  # largest at the top
    fig = go.Figure(
        go.Bar(
            x=[distribution[e] for e in order],
            y=list(order),
            orientation="h",
            marker={
                "color": [COLORS[e] for e in order],
                "line": {"color": "#374151", "width": 0.6},
            },
            text=[f"{distribution[e] * 100:.1f}%" for e in order],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        template="simple_white",
        height=240,
        margin={"l": 88, "r": 48, "t": 4, "b": 24},
        font={"family": FONT, "size": 12, "color": "#1F2937"},
        bargap=0.28,
        showlegend=False,
    )
    fig.update_xaxes(
        tickformat=".0%", showgrid=True, gridcolor="#EEF0F3", rangemode="tozero", fixedrange=True
    )
    fig.update_yaxes(ticks="", fixedrange=True)
    return fig


# -- HTML ---------------------------------------------------------------------------------------


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _header_html(result: Analysis, emotional: bool) -> str:
    info, film = result.video, result.film
    title = info.title or info.name
    facts = [
        _esc(info.name) if info.title else None,
        _duration_words(result.duration_s)
        + (f" ({format_timecode(result.duration_s)})" if result.duration_s >= 60 else ""),
        f"{info.width}×{info.height}",
        f"{info.fps:.3g} fps" if info.fps else None,
        _esc(info.codec) if info.codec else None,
        f"{len(result.shots)} shots",
        f"{len(result.scenes)} scenes",
    ]
    meta = " · ".join(f"<span>{f}</span>" for f in facts if f)
    if emotional:
        model = result.model or {}
        sha = str(model.get("sha256") or "")[:12]
        scored = int(np.isfinite(result.frames[list(EMOTIONS)].to_numpy(float)).all(axis=1).sum())
        source = (
            f'<p class="model">Emotion model: <b>{_esc(model.get("arch", "unknown"))}</b>'
            + (f" · checkpoint sha256 <code>{_esc(sha)}…</code>" if sha else "")
            + f" · {scored} frames scored at {result.sampling_fps:g} fps</p>"
        )
        right = _film_summary_html(film)
    else:
        source = (
            '<p class="notice" id="no-model"><b>No emotion model was used.</b> This report '
            "shows shots, scenes and visual statistics only; nothing in it is an emotion "
            "estimate.</p>"
        )
        right = _visual_summary_html(result)
    return (
        f'<header id="film"><div class="film-info"><p class="eyebrow">trajectory report</p>'
        f'<h1 id="film-title">{_esc(title)}</h1><p class="meta">{meta}</p>{source}</div>'
        f'<div class="film-summary">{right}</div></header>'
    )


def _chip(name: str, extra: str = "") -> str:
    return f'<span class="chip"><i style="background:{COLORS[name]}"></i>{_esc(name)}{extra}</span>'


def _film_summary_html(film) -> str:
    tags = "".join(_chip(t, f" {film.distribution[t] * 100:.0f}%") for t in film.tags)
    arc = _esc(film.arc) if film.arc else "—"
    words = ARC_WORDS.get(film.arc or "")
    arc_words = f' <span class="muted">({_esc(words)})</span>' if words else ""
    positive = ", ".join(e for e in EMOTIONS if e in POSITIVE)
    return (
        '<div class="summary-grid">'
        f'<div><p class="label">Tags</p><p id="film-tags">{tags}</p></div>'
        f'<div><p class="label">Arc</p><p id="film-arc">{arc}{arc_words}</p></div>'
        f'<div><p class="label" title="P({positive}) minus P(the other four)">Valence</p>'
        f"<p>{film.valence:+.2f}</p></div></div>"
        '<p class="label">Whole film</p><div id="distribution-plot" class="plot"></div>'
    )


def _visual_summary_html(result: Analysis) -> str:
    lengths = (result.shots["end_s"] - result.shots["start_s"]).to_numpy(float)
    stats = [
        ("Shots", f"{len(result.shots)}"),
        ("Scenes", f"{len(result.scenes)}"),
        ("Median shot", f"{np.median(lengths):.1f} s" if len(lengths) else "—"),
        ("Mean brightness", f"{result.frames['brightness'].mean() * 100:.0f}%"),
    ]
    cells = "".join(f'<div><p class="label">{k}</p><p class="stat">{v}</p></div>' for k, v in stats)
    return f'<div class="summary-grid stats">{cells}</div>'


def _timeline_html(result: Analysis, window: float, emotional: bool) -> str:
    choices = sorted({*SMOOTHING_CHOICES_S, window})
    choices = [c for c in choices if c <= max(result.duration_s, SMOOTHING_MIN_S) or c == window]
    options = "".join(
        f'<option value="{c:g}"{" selected" if c == window else ""}>'
        f"{'off' if c == 0 else f'{c:g} s'}</option>"
        for c in choices
    )
    heading = "Emotional trajectory" if emotional else "Visual statistics over time"
    what = (
        "share of each emotion in the sampled frames"
        if emotional
        else "mean brightness and colourfulness of the sampled frames"
    )
    return (
        f'<section id="timeline"><div class="section-head"><h2>{heading}</h2>'
        '<div class="controls"><label for="smoothing">Smoothing</label>'
        f'<select id="smoothing">{options}</select>'
        '<button type="button" id="whole-film">Whole film</button></div></div>'
        f'<p class="note" id="smoothing-note">{_smoothing_words(window)}</p>'
        f'<div id="timeline-plot" class="plot"></div>'
        f'<p class="note">Tracks: {what}. Bands and the strip below: scenes'
        f"{', coloured by their dominant emotion' if emotional else ''}; ticks: shot cuts. "
        "Drag to zoom, double-click to reset; click a legend entry to hide a track.</p></section>"
    )


def _smoothing_words(window: float) -> str:
    if window <= 0:
        return "Not smoothed: every drawn point is a sampled frame (or a short bin of them)."
    return f"Smoothed with a centred moving average over {window:g} s."


def _keyframe_html(result: Analysis, scene: int) -> str:
    jpeg = result.keyframes.get(scene)
    if not jpeg:
        return '<div class="thumb missing">no frame</div>'
    uri = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    return f'<img class="thumb" alt="scene {scene} keyframe" src="{uri}">'


def _top_html(row) -> str:
    shares = sorted(((getattr(row, e), e) for e in EMOTIONS), reverse=True)[:TOP_CLASSES]
    items = "".join(
        f'<div class="top"><span class="top-name">{name}</span><span class="track">'
        f'<span class="bar" style="width:{share * 100:.1f}%;background:{COLORS[name]}"></span>'
        f'</span><span class="pct">{share * 100:.0f}%</span></div>'
        for share, name in shares
    )
    return f'<td class="tops"><div>{items}</div></td>'


def _scene_row(result: Analysis, row, emotional: bool, shots: int, visual: tuple) -> str:
    cells = [
        f'<td class="num">{row.index}</td>',
        f"<td>{_keyframe_html(result, int(row.index))}</td>",
        f'<td class="tc">{format_timecode(row.start_s)}</td>',
        f'<td class="tc">{format_timecode(row.end_s)}</td>',
        f'<td class="num">{_duration_words(row.end_s - row.start_s)}</td>',
        f'<td class="num">{shots}</td>',
    ]
    if emotional and isinstance(row.dominant, str):
        cells.append(
            f'<td>{_chip(row.dominant)}<span class="conf">{row.confidence * 100:.0f}%</span></td>'
        )
        cells.append(_top_html(row))
    elif emotional:
        cells += ["<td>—</td>", "<td>—</td>"]
    else:
        cells += [f'<td class="num">{visual[0]:.0f}%</td>', f'<td class="num">{visual[1]:.0f}</td>']
    return (
        f'<tr data-scene="{row.index}" data-start="{row.start_s:.3f}" '
        f'data-end="{row.end_s:.3f}" tabindex="0">{"".join(cells)}</tr>'
    )


def _scenes_html(result: Analysis, emotional: bool, player: str) -> str:
    heads = ["#", "Keyframe", "Start", "End", "Length", "Shots"]
    heads += ["Dominant", "Top three"] if emotional else ["Brightness", "Colourfulness"]
    shots = result.shots.groupby("scene")["index"].count()
    visual = result.frames.groupby("scene")[["brightness", "colourfulness"]].mean()
    rows = []
    for row in result.scenes.itertuples(index=False):
        stats = (math.nan, math.nan)
        if row.index in visual.index:
            means = visual.loc[row.index]
            stats = (means["brightness"] * 100, means["colourfulness"])
        rows.append(_scene_row(result, row, emotional, int(shots.get(row.index, 0)), stats))
    head = "".join(f"<th>{h}</th>" for h in heads)
    table = (
        f'<div class="table-wrap"><table id="scene-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    layout = "scenes-layout with-player" if player else "scenes-layout"
    return (
        '<section id="scenes"><div class="section-head"><h2>Scenes</h2>'
        '<p class="note">Click a scene to show it on the timeline'
        f"{' and in the player' if player else ''}.</p></div>"
        f'<div class="{layout}">{table}{player}</div></section>'
    )


def _player_html(result: Analysis, out_dir: str | os.PathLike | None) -> str:
    """A <video> for the analysed file when it sits beside the report in a playable format."""
    name = result.video.name
    kind = PLAYABLE.get(Path(name).suffix.lower())
    if out_dir is None or kind is None or not (Path(out_dir) / name).is_file():
        return ""
    return (
        f'<div class="player"><video id="player" controls preload="metadata">'
        f'<source src="{_esc(quote(name))}" type="{kind}"></video>'
        f'<p class="note">{_esc(name)}</p></div>'
    )


def _asset(name: str) -> str:
    """The page template, stylesheet and script live beside this module as package data."""
    return resources.files("trajectory").joinpath("report_assets", name).read_text("utf-8")
