"""tags.json, frames.csv, scenes.csv and scene keyframes, written atomically; and read back.

Files are first written into a staging folder beside the output folder and then renamed into
place one by one, so an interrupted or failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from trajectory import __version__, aggregate
from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.results import Analysis
from trajectory.timecode import format_timecode
from trajectory.video import VideoInfo

SCHEMA_VERSION = 1
FRAME_STATS = ("valence", "brightness", "colourfulness", "weight_s")
KEYFRAME_DIR = "keyframes"


def tags_schema() -> dict:
    """The JSON Schema that tags.json follows (shipped as trajectory/schema/tags.schema.json)."""
    text = resources.files("trajectory").joinpath("schema/tags.schema.json").read_text("utf-8")
    return json.loads(text)


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _shares(row) -> dict[str, float] | None:
    values = np.array([row[name] for name in EMOTIONS], dtype=np.float64)
    if not np.isfinite(values).all():
        return None
    return aggregate.as_shares(values / values.sum())


def tags_document(result: Analysis) -> dict:
    """The tags.json content (schema version 1) as plain data."""
    info, film = result.video, result.film
    shots_of = result.shots.groupby("scene")["index"].apply(list)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "trajectory", "version": __version__},
        "video": {
            "file": info.name,
            "title": info.title,
            "duration_s": round(result.duration_s, 3),
            "start_s": round(result.start_s, 6),
            "end_s": round(result.end_s, 6),
            "fps": round(info.fps, 3),
            "width": info.width,
            "height": info.height,
            "rotation": info.rotation * 90,
            "codec": info.codec,
            "frames_decoded": result.frames_decoded,
            "decode_errors": result.decode_errors,
        },
        "model": result.model,
        "sampling": {"fps": result.sampling_fps, "frames_scored": _frames_scored(result)},
        "shot_detection": {"mode": result.shot_detection},
        "emotions": list(EMOTIONS),
        "film": {
            "distribution": film.distribution,
            "dominant": film.dominant,
            "tags": film.tags,
            "tag_min_share": aggregate.TAG_MIN_SHARE,
            "valence": film.valence,
            "arc": film.arc,
        },
        "scenes": [
            {
                "index": int(row.index),
                "start_s": round(row.start_s, 6),
                "end_s": round(row.end_s, 6),
                "shots": [int(i) for i in shots_of[row.index]],
                "distribution": _shares(row._asdict()),
                "dominant": row.dominant if isinstance(row.dominant, str) else None,
                "confidence": _round(row.confidence),
            }
            for row in result.scenes.itertuples(index=False)
        ],
        "shots": [
            {
                "index": int(row.index),
                "start_s": round(row.start_s, 6),
                "end_s": round(row.end_s, 6),
                "scene": int(row.scene),
                "transition": row.transition,
            }
            for row in result.shots.itertuples(index=False)
        ],
    }


def _frames_scored(result: Analysis) -> int:
    return int(np.isfinite(result.frames[list(EMOTIONS)].to_numpy(dtype=float)).all(axis=1).sum())


def frames_table(result: Analysis) -> pd.DataFrame:
    """frames.csv: time_s, shot, scene, the 8 classes, then valence and visual statistics."""
    columns = ["time_s", "shot", "scene", *EMOTIONS, *FRAME_STATS]
    return result.frames[columns].round(6)


def scenes_table(result: Analysis) -> pd.DataFrame:
    """scenes.csv: span in seconds and timecodes, shots, dominant class, confidence, shares."""
    scenes = result.scenes
    table = pd.DataFrame(
        {
            "scene": scenes["index"],
            "start_s": scenes["start_s"].round(6),
            "end_s": scenes["end_s"].round(6),
            "start_tc": scenes["start_s"].map(format_timecode),
            "end_tc": scenes["end_s"].map(format_timecode),
            "first_shot": scenes["first_shot"],
            "last_shot": scenes["last_shot"],
            "dominant": scenes["dominant"],
            "confidence": scenes["confidence"].astype(float).round(4),
        }
    )
    for name in EMOTIONS:
        table[name] = scenes[name].astype(float).round(4)
    return table


def _staging_dir(out_dir: Path) -> Path:
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(out_dir, f"cannot create the output folder ({error.strerror})") from None
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a folder")
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))


def write_outputs(result: Analysis, out_dir: str | os.PathLike, extra: dict | None = None) -> Path:
    """Writes tags.json, frames.csv, scenes.csv and keyframes/ into ``out_dir`` atomically.

    Args:
        extra: more files to publish with them, name -> bytes (the CLI passes report.html).

    Returns:
        The output folder.
    """
    out_dir = Path(out_dir)
    staging = _staging_dir(out_dir)
    try:
        document = tags_document(result)
        (staging / "tags.json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
        frames_table(result).to_csv(staging / "frames.csv", index=False)
        scenes_table(result).to_csv(staging / "scenes.csv", index=False)
        (staging / KEYFRAME_DIR).mkdir()
        for scene, jpeg in result.keyframes.items():
            (staging / KEYFRAME_DIR / f"scene_{scene:04d}.jpg").write_bytes(jpeg)
        for name, data in (extra or {}).items():
            (staging / name).write_bytes(data)
        publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def publish(staging: Path, out_dir: Path) -> None:
    """Moves every file of ``staging`` into ``out_dir`` with atomic renames."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(staging.rglob("*")):
        if source.is_file():
            target = out_dir / source.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)


def read_outputs(out_dir: str | os.PathLike) -> Analysis:
    """Rebuilds an Analysis from a folder written by :func:`write_outputs`, re-aggregating it.

    Raises:
        InputError: the folder does not hold readable trajectory outputs.
    """
    out_dir = Path(out_dir)
    tags_path, frames_path = out_dir / "tags.json", out_dir / "frames.csv"
    for path in (tags_path, frames_path):
        if not path.is_file():
            raise InputError(path, "missing: not a trajectory output folder")
    try:
        tags = json.loads(tags_path.read_text("utf-8"))
        frames = pd.read_csv(frames_path)
    except (ValueError, OSError) as error:
        raise InputError(tags_path, f"unreadable ({error})") from None
    if tags.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            tags_path, f"schema_version {tags.get('schema_version')!r} is not supported"
        )
    shots = pd.DataFrame(tags["shots"])
    frames["weight_s"] = aggregate.frame_weights(
        frames["time_s"].to_numpy(), shots["end_s"].to_numpy()[frames["shot"].to_numpy()]
    )
    video = tags["video"]
    info = VideoInfo(
        path=str(out_dir / video["file"]),
        width=video["width"],
        height=video["height"],
        coded_width=video["width"],
        coded_height=video["height"],
        rotation=video.get("rotation", 0) // 90,
        fps=video["fps"],
        time_base=Fraction(1, 1000),
        start_s=video.get("start_s", shots["start_s"].iloc[0]),
        duration_s=video["duration_s"],
        frame_count=video.get("frames_decoded"),
        codec=video.get("codec", ""),
        title=video.get("title"),
    )
    keyframes = {
        int(path.stem.split("_")[1]): path.read_bytes()
        for path in sorted((out_dir / KEYFRAME_DIR).glob("scene_*.jpg"))
    }
    return Analysis(
        video=info,
        end_s=video.get("end_s", shots["end_s"].iloc[-1]),
        frames_decoded=video.get("frames_decoded", 0),
        decode_errors=video.get("decode_errors", 0),
        model=tags.get("model"),
        sampling_fps=tags["sampling"]["fps"],
        frames=frames,
        shots=shots,
        scenes=aggregate.scene_table(frames, shots),
        film=aggregate.summarize_film(frames),
        keyframes=keyframes,
        shot_detection=tags.get("shot_detection", {}).get("mode", "fast"),
    )
