"""An append-only log of scored frames, so an interrupted analysis resumes where it stopped.

Scoring is the slow stage on a CPU (a 2-hour film at 1 fps is 7200 VGG19 passes). Every scored
batch is appended to the log and flushed; a re-run of the same video with the same model and
sampling reads it back and only scores the frames that are missing. The log is removed once the
outputs are written.

Only one run writes a log at a time (the output folder's lock, :mod:`trajectory.outdir`), and a
log is trusted only as far as it proves itself: the header must carry this run's key, and every
record carries the key's digest, so a record written under another model, sampling or input
size (or a zero-filled hole) is dropped, never mixed in.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from trajectory.emotions import EMOTIONS

LOG_FORMAT = 2  # 1 had no per-record key; such logs are discarded
_RECORD = np.dtype(
    [("key", "<u8"), ("time_us", "<i8"), ("probs", "<f4", (len(EMOTIONS),))]
)  # 48 bytes


def run_key(video_path: str, model_sha256: str, fps: float, input_size: int) -> dict:
    """What must match for logged scores to be reused: the file, the model and the sampling."""
    stat = os.stat(video_path)
    return {
        "format": LOG_FORMAT,
        "video": os.path.abspath(video_path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "model_sha256": model_sha256,
        "fps": fps,
        "input_size": input_size,
    }


def key_digest(key: dict) -> int:
    """A non-zero 64-bit digest of the run key, stored in every record."""
    data = json.dumps(key, sort_keys=True).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "little") or 1


def time_key(time_s: float) -> int:
    return round(time_s * 1_000_000)


class ScoreLog:
    """Scored frames on disk: a JSON header line with the run key, then fixed-size records."""

    def __init__(self, path: str | os.PathLike, key: dict):
        self.path = Path(path)
        self.key = key
        self.digest = key_digest(key)
        self._file = None

    def load(self) -> dict[int, np.ndarray]:
        """Scores logged by an earlier run with the same key: time in µs -> probabilities."""
        try:
            with open(self.path, "rb") as f:
                header = f.readline()
                if json.loads(header.decode("utf-8")) != self.key:
                    return {}
                data = f.read()
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        whole = len(data) // _RECORD.itemsize  # a record cut by the interruption is dropped
        records = np.frombuffer(data[: whole * _RECORD.itemsize], dtype=_RECORD)
        probs = records["probs"].astype(np.float64)
        valid = (
            (records["key"] == self.digest)
            & np.isfinite(probs).all(axis=1)
            & (np.abs(probs.sum(axis=1) - 1.0) < 1e-3)
        )
        return {int(r["time_us"]): r["probs"].copy() for r in records[valid]}

    def append(self, times_s: list[float], probs: np.ndarray) -> None:
        if self._file is None:
            self._open()
        records = np.zeros(len(times_s), dtype=_RECORD)
        records["key"] = self.digest
        records["time_us"] = [time_key(t) for t in times_s]
        records["probs"] = probs
        self._file.write(records.tobytes())
        self._file.flush()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.load():  # same run: keep its records, minus one torn by the interruption
            with open(self.path, "rb") as f:
                header = len(f.readline())
            size = self.path.stat().st_size
            whole = header + (size - header) // _RECORD.itemsize * _RECORD.itemsize
            self._file = open(self.path, "r+b")  # noqa: SIM115 (kept open across appends)
            self._file.truncate(whole)
            self._file.seek(whole)
        else:
            self._file = open(self.path, "wb")  # noqa: SIM115 (kept open across appends)
            self._file.write(json.dumps(self.key).encode("utf-8") + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
