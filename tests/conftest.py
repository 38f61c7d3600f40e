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


def pytest_addoption(parser):
    parser.addoption(
        "--one-case-each",
        action="store_true",
        help="only the first case of each parametrized test: every code path once "
        "(make test-floors, which checks the dependencies' oldest versions, not the data)",
    )


def pytest_collection_modifyitems(config, items):
    """Marks browser and Ray tests serial; with ``--one-case-each``, drops repeated cases.

    Browser and Ray tests wait on wall-clock deadlines, so ``make test`` runs them alone: beside
    the rest, which runs on every core (pytest-xdist), Chromium and a local Ray cluster would get
    half a core and could miss their deadlines on a 2-core machine.
    """
    for item in items:
        if item.get_closest_marker("browser") or item.path.name == "test_ray_engine.py":
            item.add_marker(pytest.mark.serial)
    if config.getoption("--one-case-each"):
        seen, kept, dropped = set(), [], []
        for item in items:
            test = (item.path, getattr(item, "originalname", item.name))
            (dropped if test in seen else kept).append(item)
            seen.add(test)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept


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
