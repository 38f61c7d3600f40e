"""Self-contained HTML pages of an evaluation: confusion heat map and error analysis.

The pages are plain HTML and CSS with thumbnails embedded as data URIs: they open offline and
can be mailed or archived as one file each.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from trajectory.emotions import EMOTIONS

STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table.cm{border-collapse:collapse}table.cm td,table.cm th{border:1px solid #ccc;padding:.4em .6em;
text-align:center;font-size:.9em}table.cm th{background:#f4f4f4}
.ex{display:inline-block;margin:.3em;width:170px;vertical-align:top;font-size:.75em}
.ex img{max-width:160px;max-height:160px;display:block}
</style>"""


def _shade(share: float) -> str:
    """White -> blue (#0072B2) for a share in [0, 1]; text turns white on dark cells."""
    rgb = [round(255 + (c - 255) * share) for c in (0x00, 0x72, 0xB2)]
    text = "#fff" if share > 0.5 else "#222"
    return f"background:rgb({rgb[0]},{rgb[1]},{rgb[2]});color:{text}"


def confusion_table(matrix: np.ndarray) -> str:
    """The confusion matrix as an HTML table shaded by each row's share (recall on the diagonal)."""
    head = "".join(f"<th>{e}</th>" for e in EMOTIONS)
    rows = []
    for i, true in enumerate(EMOTIONS):
        total = max(int(matrix[i].sum()), 1)
        cells = "".join(
            f'<td style="{_shade(n / total)}" title="{true} as {pred}">{n}<br>'
            f"<small>{n / total:.0%}</small></td>"
            for pred, n in zip(EMOTIONS, matrix[i].tolist(), strict=True)
        )
        rows.append(f"<tr><th>{true}</th>{cells}<td>{int(matrix[i].sum())}</td></tr>")
    return (
        f'<table class="cm"><tr><th>true \\ predicted</th>{head}<th>support</th></tr>'
        f"{''.join(rows)}</table>"
    )


def confusion_html(matrix: np.ndarray, metrics: dict) -> str:
    """A page with the heat map and the per-class precision/recall/F1."""
    per_class = "".join(
        f"<tr><th>{c}</th><td>{m['precision']:.3f}</td><td>{m['recall']:.3f}</td>"
        f"<td>{m['f1']:.3f}</td><td>{m['support']}</td></tr>"
        for c, m in metrics["per_class"].items()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Confusion matrix</title>{STYLE}"
        f"</head><body><h1>Confusion matrix ({metrics['split']} split)</h1>"
        f"<p>Accuracy <b>{metrics['accuracy']:.1%}</b> on {metrics['images']} images "
        f"(the paper reports 60.1%); macro F1 {metrics['macro_f1']:.3f}.</p>"
        f"{confusion_table(matrix)}<h2>Per class</h2><table class='cm'><tr><th></th>"
        f"<th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{per_class}</table>"
        "</body></html>"
    )


def is_grayscale(path: Path) -> bool:
    """Whether an image is black and white (its colour channels agree almost everywhere)."""
    try:
        with Image.open(path) as image:
            if image.mode in ("L", "LA", "1", "I", "I;16", "F"):
                return True
            rgb = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.int16)
    except Exception:  # noqa: BLE001 - unreadable: not counted as black and white
        return False
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return float(np.percentile(spread, 95)) < 12


def find_confusions(rows: list[dict], root: Path, top: int = 6) -> list[dict]:
    """The ``top`` most frequent (true, predicted) mistakes with the paper's section 5 tallies.

    Each result has the pair, its count, how many had a non-unanimous vote (some disagreed) or a
    strongly divided one (a margin of one vote), how many are black and white, and the mistaken
    images, most confident first.
    """
    mistakes = [r for r in rows if r["label"] != r["predicted"]]
    pairs = Counter((r["label"], r["predicted"]) for r in mistakes)
    found = []
    for (true, pred), count in pairs.most_common(top):
        members = sorted(
            (r for r in mistakes if (r["label"], r["predicted"]) == (true, pred)),
            key=lambda r: -r["confidence"],
        )
        voted = [r for r in members if r["agree"] is not None and r["disagree"] is not None]
        found.append(
            {
                "true": true,
                "predicted": pred,
                "count": count,
                "votes_known": len(voted),
                "non_unanimous": sum(r["disagree"] > 0 for r in voted),
                "divided": sum(r["agree"] - r["disagree"] <= 1 for r in voted),
                "grayscale": sum(is_grayscale(root / r["path"]) for r in members),
                "examples": members,
            }
        )
    return found


def thumbnail_uri(path: Path, side: int = 160) -> str | None:
    """A JPEG data URI of the image scaled to fit ``side`` pixels, or None if unreadable."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((side, side))
    except Exception:  # noqa: BLE001 - unreadable example: shown without a picture
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _example(row: dict, root: Path) -> str:
    uri = thumbnail_uri(root / row["path"])
    img = f'<img src="{uri}" alt="">' if uri else "<i>(unreadable)</i>"
    votes = "" if row["agree"] is None else f"<br>votes {row['agree']} agree / {row['disagree']} no"
    return (
        f'<div class="ex">{img}{html.escape(Path(row["path"]).name)}<br>'
        f"{row['predicted']} {row['confidence']:.0%}{votes}</div>"
    )


def errors_html(
    confusions: list[dict], matrix: np.ndarray, metrics: dict, root: Path, examples: int
) -> str:
    """The error-analysis page: per confusion, its tallies and the most confident examples."""
    parts = []
    for c in confusions:
        votes = ""
        if c["votes_known"]:
            votes = (
                f" {c['non_unanimous']} of the {c['votes_known']} with votes were not "
                f"unanimous and {c['divided']} strongly divided (3-2)."
            )
        support = int(matrix[EMOTIONS.index(c["true"])].sum())
        shown = "".join(_example(r, root) for r in c["examples"][:examples])
        parts.append(
            f"<h2>{c['true'].capitalize()} misclassified as {c['predicted']}</h2>"
            f"<p>{c['count']} images ({c['count'] / max(support, 1):.0%} of {c['true']}).{votes} "
            f"{c['grayscale']} are black and white. Most confident mistakes first:</p>{shown}"
        )
    body = "".join(parts) or "<p>No misclassified images.</p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Error analysis</title>{STYLE}"
        f"</head><body><h1>Error analysis ({metrics['split']} split)</h1>"
        f"<p>Accuracy {metrics['accuracy']:.1%} on {metrics['images']} images. The most frequent "
        f"confusions, as in section 5 of Sreenivas &amp; Zhao.</p>{confusion_table(matrix)}{body}"
        "</body></html>"
    )
