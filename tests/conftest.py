"""Shared fixtures: a tiny real EmotionNet checkpoint and paths to media with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from trajectory.model import EmotionNet, Preprocessing, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
ZOO = ROOT.parent / "shared" / "video-zoo"
SHORT_SAMPLE = SAMPLES / "photos_360p_short.mp4"
HD_SAMPLE = SAMPLES / "photos_1080p.mp4"


def truth_of(video: Path) -> dict:
    return json.loads(video.with_name(video.stem + ".truth.json").read_text())


class CodeRunningPayload:
    """A pickle payload that creates ``marker`` if it is ever unpickled unsafely."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A real VGG19 EmotionNet checkpoint with random weights at 32 px input (cheap on CPU)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "emotionnet-random-32.pt"
    save_checkpoint(path, EmotionNet(), Preprocessing(input_size=32), training={"note": "random"})
    return path


@pytest.fixture(scope="session")
def zoo() -> Path:
    if not ZOO.is_dir():
        pytest.skip("../shared/video-zoo is not present")
    return ZOO


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium for the browser tests (make test installs Debian's package)."""
    from report_helpers import find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium binary (install Debian's chromium package or set CHROMIUM)")
    return binary
