"""Every file of the video zoo is analyzed with sane, tiled times, or rejected with one line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ZOO

import trajectory
from trajectory.errors import InputError

REJECTED = {"crunching.mp3": "audio only", "with-attached-pic.mp3": "cover art"}
ZOO_FILES = (
    sorted(
        p
        for p in ZOO.glob("*/*")
        if p.suffix in {".mp4", ".mkv", ".mov", ".webm", ".avi", ".gif", ".mp3"}
    )
    if ZOO.is_dir()
    else []
)


@pytest.mark.parametrize("path", ZOO_FILES, ids=[f"{p.parent.name}/{p.name}" for p in ZOO_FILES])
def test_zoo_file_is_analyzed_or_rejected(zoo, path):
    if path.name in REJECTED:
        with pytest.raises(InputError) as raised:
            trajectory.analyze(path)
        assert REJECTED[path.name] in str(raised.value) and "\n" not in str(raised.value)
        return
    result = trajectory.analyze(path)
    shots, frames = result.shots, result.frames
    assert shots["start_s"].iloc[0] == pytest.approx(result.video.start_s)
    assert np.allclose(shots["start_s"].to_numpy()[1:], shots["end_s"].to_numpy()[:-1])
    assert shots["end_s"].iloc[-1] == pytest.approx(result.end_s)
    assert result.duration_s > 0
    # The container's claim roughly agrees (traffic_camera_vfr declares 34.44 s; its frames end at
    # 34.56 s, the documented length: decoded times win).
    if result.video.duration_s:
        assert result.duration_s == pytest.approx(result.video.duration_s, abs=0.2)
    times = frames["time_s"].to_numpy()
    assert np.all(np.diff(times) > 0) and times[0] == pytest.approx(result.start_s)
    assert set(frames["shot"]) == set(shots["index"]), "every shot has a sampled frame"
