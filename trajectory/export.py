"""tags.json, frames.csv, scenes.csv, shots.npz and scene keyframes, written atomically; read back.

Files are first written into a staging folder beside the output folder, which then replaces the
folder as a whole, so an interrupted or failed run never leaves a half-written file behind and a
folder never mixes two runs' files.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from trajectory import __version__, aggregate
from trajectory.emotions import EMOTIONS
from trajectory.errors import InputError
from trajectory.outdir import OutputFolder
from trajectory.results import Analysis
from trajectory.signatures import SIGNATURE_LENGTH, ShotSignatures
from trajectory.timecode import format_timecode
from trajectory.videoinfo import VideoInfo

SCHEMA_VERSION = 1
FRAME_STATS = ("valence", "brightness", "colourfulness", "weight_s")
KEYFRAME_DIR = "keyframes"
SHOTS_NPZ = "shots.npz"  # shot signatures, so `trajectory report` can regroup scenes


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
            "path": os.path.abspath(info.path),
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
            "declared_duration_s": _round(info.duration_s, 6),
            "declared_frames": info.frame_count,
            "truncated": result.truncated,
            "skipped_out_of_order": result.skipped_out_of_order,
            "late_cuts": result.late_cuts,
            "crop": result.crop,
        },
        "model": result.model,
        "sampling": {"fps": result.sampling_fps, "frames_scored": _frames_scored(result)},
        "shot_detection": {"mode": result.shot_detection},
        "emotions": list(EMOTIONS),
        "scene_grouping": result.scene_grouping,
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


def write_outputs(
    result: Analysis,
    out_dir: str | os.PathLike,
    extra: dict | None = None,
    *,
    carry_over: bool = False,
) -> Path:
    """Writes tags.json, frames.csv, scenes.csv and keyframes/ as the whole of ``out_dir``.

    Everything is written into a hidden staging folder beside ``out_dir``, which then replaces
    it (see :mod:`trajectory.outdir`): the folder holds this result's files and nothing else.

    Args:
        extra: more files to publish with them, name -> bytes (the CLI passes report.html).
        carry_over: keep the files of the current folder that this call does not write
            (``trajectory report`` re-renders a run's report and keeps the rest).

    Returns:
        The output folder.

    Raises:
        InputError: ``out_dir`` cannot be written, holds other files, or another run holds it.
    """
    out_dir = Path(out_dir)
    with OutputFolder(out_dir).claim() as folder:
        staging = folder.staging()
        try:
            _write_files(result, staging, extra or {})
            folder.publish(staging, carry_over=carry_over)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _write_files(result: Analysis, staging: Path, extra: dict) -> None:
    document = tags_document(result)
    (staging / "tags.json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    frames_table(result).to_csv(staging / "frames.csv", index=False)
    scenes_table(result).to_csv(staging / "scenes.csv", index=False)
    if result.shot_signatures is not None:
        write_signatures(result.shot_signatures, staging / SHOTS_NPZ)
    (staging / KEYFRAME_DIR).mkdir()
    for scene, jpeg in result.keyframes.items():
        (staging / KEYFRAME_DIR / f"scene_{scene:04d}.jpg").write_bytes(jpeg)
    for name, data in extra.items():
        (staging / name).write_bytes(data)


def write_signatures(signatures: ShotSignatures, path: Path) -> None:
    """shots.npz: ``visual`` (S, L) float32 and, with a model, ``deep`` (S, F) float32.

    Both at full precision, so ``report`` regroups with the distances ``analyze`` used.
    """
    arrays = {"visual": signatures.visual.astype(np.float32)}
    if signatures.deep is not None:
        arrays["deep"] = signatures.deep.astype(np.float32)
    with open(path, "wb") as file:
        np.savez_compressed(file, **arrays)


def read_signatures(path: Path, shots: int) -> ShotSignatures | None:
    """The shot signatures saved beside tags.json, None when absent or of another layout."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            visual = saved["visual"].astype(np.float32)
            deep = saved["deep"].astype(np.float32) if "deep" in saved.files else None
    except (ValueError, OSError, KeyError) as error:
        raise InputError(path, f"unreadable ({error})") from None
    if visual.shape != (shots, SIGNATURE_LENGTH):
        return None  # written by a version with other signature blocks: cannot regroup
    return ShotSignatures(visual, deep)


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
    except (ValueError, OSError) as error:
        raise InputError(tags_path, f"unreadable ({error})") from None
    if not isinstance(tags, dict) or tags.get("schema_version") != SCHEMA_VERSION:
        version = tags.get("schema_version") if isinstance(tags, dict) else None
        raise InputError(tags_path, f"schema_version {version!r} is not supported")
    if not tags.get("shots") or not tags.get("scenes"):
        raise InputError(tags_path, "the scene table is empty (no shots or scenes)")
    try:
        return _analysis_from(out_dir, tags, _read_frames(frames_path, len(tags["shots"])))
    except (KeyError, TypeError, IndexError) as error:  # a field missing or of the wrong type
        problem = f"incomplete or malformed ({type(error).__name__}: {error})"
        raise InputError(tags_path, problem) from None


def _read_frames(path: Path, shot_count: int) -> pd.DataFrame:
    """frames.csv, checked: every column there, numbers where numbers belong, shots that exist.

    Raises:
        InputError: naming the file, the column and the problem.
    """
    try:
        frames = pd.read_csv(path)
    except (ValueError, OSError) as error:
        raise InputError(path, f"unreadable ({error})") from None
    required = ["time_s", "shot", "scene", *EMOTIONS, "brightness", "colourfulness"]
    missing = [c for c in required if c not in frames.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}")
    for column in required:
        values = pd.to_numeric(frames[column], errors="coerce")
        bad = values.isna() & frames[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            value = frames[column].iloc[row]
            raise InputError(path, f"column {column}: {value!r} (line {row + 2}) is not a number")
        frames[column] = values
    if len(frames) == 0 or frames[["time_s", "shot", "scene"]].isna().any().any():
        raise InputError(path, "no rows, or a row without time_s, shot or scene")
    shots = frames["shot"].to_numpy()
    if not ((shots >= 0) & (shots < shot_count) & (shots == np.round(shots))).all():
        raise InputError(path, f"column shot: values outside the {shot_count} shots of tags.json")
    frames["shot"] = frames["shot"].astype(int)
    frames["scene"] = frames["scene"].astype(int)
    return frames


def _analysis_from(out_dir: Path, tags: dict, frames: pd.DataFrame) -> Analysis:
    shots = pd.DataFrame(tags["shots"])
    frames["weight_s"] = aggregate.frame_weights(
        frames["time_s"].to_numpy(),
        frames["shot"].to_numpy(),
        shots["start_s"].to_numpy(),
        shots["end_s"].to_numpy(),
    )
    video = tags["video"]
    info = VideoInfo(
        path=video.get("path") or str(out_dir / video["file"]),
        width=video["width"],
        height=video["height"],
        coded_width=video["width"],
        coded_height=video["height"],
        rotation=video.get("rotation", 0) // 90,
        fps=video["fps"],
        time_base=Fraction(1, 1000),
        start_s=video.get("start_s", shots["start_s"].iloc[0]),
        duration_s=video.get("declared_duration_s", video["duration_s"]),
        frame_count=video.get("declared_frames", video.get("frames_decoded")),
        codec=video.get("codec", ""),
        title=video.get("title"),
    )
    video_crop = video.get("crop")
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
        truncated=bool(video.get("truncated", False)),
        skipped_out_of_order=int(video.get("skipped_out_of_order", 0)),
        late_cuts=int(video.get("late_cuts", 0)),
        crop=video_crop,
        scene_grouping=tags.get("scene_grouping"),
        shot_signatures=read_signatures(out_dir / SHOTS_NPZ, len(shots)),
        shot_detection=tags.get("shot_detection", {}).get("mode", "fast"),
    )
