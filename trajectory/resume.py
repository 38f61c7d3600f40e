"""An append-only log of scored frames, so an interrupted analysis resumes where it stopped.

Scoring is the slow stage on a CPU (a 2-hour film at 1 fps is 7200 VGG19 passes). Every scored
batch is appended to the log and flushed; a re-run of the same video with the same model and
sampling reads it back and only scores the frames that are missing. Each record holds a frame's
probabilities and the model's pooled features (float32, as computed), since the features join the
shot signatures: a resumed run groups scenes exactly as a clean run does. The log is removed once
the outputs are written.

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

# 1 had no per-record key, 2 no pooled features: their headers differ from this run's key, so
# such logs are not resumed (they are overwritten by the first new record).
LOG_FORMAT = 3


def record_dtype(feature_width: int) -> np.dtype:
    """One record: key digest, time, (8,) probabilities, (feature_width,) pooled features."""
    return np.dtype(
        [
            ("key", "<u8"),
            ("time_us", "<i8"),
            ("probs", "<f4", (len(EMOTIONS),)),
            ("features", "<f4", (feature_width,)),
        ]
    )


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
    """Scored frames on disk: a JSON header line (the run key and the features' width), then
    fixed-size records (:func:`record_dtype`)."""

    def __init__(self, path: str | os.PathLike, key: dict):
        self.path = Path(path)
        self.key = key
        self.digest = key_digest(key)
        self._file = None
        self._dtype: np.dtype | None = None

    def _read(self) -> tuple[int, np.dtype, bytes] | None:
        """(header length in bytes, record dtype, record bytes) of a log of this run, or None."""
        try:
            with open(self.path, "rb") as f:
                header_line = f.readline()
                header = json.loads(header_line.decode("utf-8"))
                width = header.pop("feature_width", None) if isinstance(header, dict) else None
                if header != self.key or not isinstance(width, int) or width < 0:
                    return None
                return len(header_line), record_dtype(width), f.read()
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def load(self) -> dict[int, np.ndarray]:
        """Probabilities logged by an earlier run with the same key: time µs -> (8,) float32."""
        return self.load_with_features()[0]

    def load_with_features(self) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """What an earlier run with the same key logged, keyed by time in µs.

        Returns:
            (probabilities, features): time µs -> (8,) float32 and time µs -> (F,) float32.
            Both empty when there is no log of this run.
        """
        read = self._read()
        if read is None:
            return {}, {}
        _, dtype, data = read
        whole = len(data) // dtype.itemsize  # a record cut by the interruption is dropped
        records = np.frombuffer(data[: whole * dtype.itemsize], dtype=dtype)
        probs = records["probs"].astype(np.float64)
        valid = (
            (records["key"] == self.digest)
            & np.isfinite(probs).all(axis=1)
            & (np.abs(probs.sum(axis=1) - 1.0) < 1e-3)
            & np.isfinite(records["features"]).all(axis=1)
        )
        kept = records[valid]
        times = [int(t) for t in kept["time_us"]]
        return (
            dict(zip(times, kept["probs"].copy())),
            dict(zip(times, kept["features"].copy())),
        )

    def append(
        self, times_s: list[float], probs: np.ndarray, features: np.ndarray | None = None
    ) -> None:
        """Logs (N,) frame times with their (N, 8) probabilities and (N, F) pooled features.

        A log written without features (the catalogue scores without them) has F = 0.
        """
        if features is None:
            features = np.zeros((len(times_s), 0), np.float32)
        if self._file is None:
            self._open(features.shape[1])
        records = np.zeros(len(times_s), dtype=self._dtype)
        records["key"] = self.digest
        records["time_us"] = [time_key(t) for t in times_s]
        records["probs"] = probs
        if features.shape[1]:
            records["features"] = features
        self._file.write(records.tobytes())
        self._file.flush()

    def _open(self, feature_width: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        read = self._read()
        self._dtype = record_dtype(feature_width)
        if read is not None and read[1] == self._dtype:
            # Same run: keep its records, minus one torn by the interruption.
            header, dtype, data = read
            whole = header + len(data) // dtype.itemsize * dtype.itemsize
            self._file = open(self.path, "r+b")  # noqa: SIM115 (kept open across appends)
            self._file.truncate(whole)
            self._file.seek(whole)
        else:
            self._file = open(self.path, "wb")  # noqa: SIM115 (kept open across appends)
            header = {**self.key, "feature_width": feature_width}
            self._file.write(json.dumps(header).encode("utf-8") + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
