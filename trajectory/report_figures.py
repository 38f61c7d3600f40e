"""The report's Plotly figures: drawn series binned in time, the timeline and the film's bars.

What is drawn is downsampled, what is stored (frames.csv) is not: each track has at most
``max_points`` points (bin means over equal spans of time). The timeline's x axis is a date axis
read as HH:MM:SS, so hover and ticks show film time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from trajectory.aggregate import smooth_track
from trajectory.emotions import COLORS, EMOTIONS
from trajectory.results import Analysis
from trajectory.timecode import format_timecode

TOP_CLASSES = 3  # classes named in the hover and the scene table


EPOCH_MS = 946_684_800_000  # 2000-01-01 00:00 UTC, the timeline's time zero


VISUAL_COLORS = {"brightness": "#1F2937", "colourfulness": "#6B7280"}  # never emotion colours


@dataclass
class Tracks:
    """Per-frame series averaged into at most MAX_POINTS bins of equal time span.

    ``times`` (N,) float64 is the mean frame time of each bin in seconds, ``counts`` (N,) the
    number of frames in it, ``values`` name -> (N,) float64 bin means.
    """

    times: np.ndarray
    counts: np.ndarray
    values: dict[str, np.ndarray]


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


def timeline_ms(seconds):
    """Seconds -> the timeline's x: a date axis (read as HH:MM:SS) in milliseconds from EPOCH_MS.

    plotly.js reads numbers of up to 4 digits on a date axis as years, hence the offset.
    """
    ms = np.round(np.asarray(seconds, dtype=np.float64) * 1000).astype(np.int64) + EPOCH_MS
    return ms.tolist()


def _clock(seconds: float) -> str:
    return format_timecode(max(0.0, round(seconds)))[:8]


def _scene_at(result: Analysis, times: np.ndarray) -> np.ndarray:
    starts = result.scenes["start_s"].to_numpy(dtype=np.float64)
    return np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)


def hover_texts(result: Analysis, tracks: Tracks, smoothed: dict, emotional: bool) -> list[str]:
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


FONT = "Inter, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif"


def timeline_figure(result: Analysis, tracks: Tracks, window: float, emotional: bool) -> go.Figure:
    """Rows: emotion tracks (or brightness), valence (or colourfulness), scenes and cuts strip."""
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.035, row_heights=[0.62, 0.26, 0.12]
    )
    x = timeline_ms(tracks.times)
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
        text=hover_texts(result, tracks, smoothed, emotional),
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
            x=timeline_ms((start + end) / 2),
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
            x=timeline_ms(cuts),
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
            zip(
                timeline_ms(result.scenes["start_s"]),
                timeline_ms(result.scenes["end_s"]),
                strict=True,
            )
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
    start, end = timeline_ms(result.start_s), timeline_ms(result.end_s)
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


def distribution_figure(distribution: dict[str, float]) -> go.Figure:
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
