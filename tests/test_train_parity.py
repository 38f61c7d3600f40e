"""Preprocessing parity: a picture reaches the model the same way in ``analyze`` and in training.

The same picture goes down both paths:

* ``analyze``: encoded losslessly as a video frame (FFV1, RGB), decoded by trajectory.video,
  squashed by the scan's model-input conversion, normalised by ``FrameScorer``;
* ``train evaluate``: saved as a PNG, listed in a manifest, loaded by ``train.data`` and
  normalised by ``train.engine.to_input``.

Both must hand the network the same tensor (up to 1/255 per value, before normalisation) and
get the same probabilities. Before training used swscale's area filter, PIL's bilinear resize
put the two up to 16/255 apart.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image
from train_fixtures import pattern_image

import trajectory
import trajectory.scoring
from train.data import ManifestDataset, collate
from train.engine import predict, to_input
from train.layouts import Item
from train.utils import make_runtime
from trajectory.emotions import EMOTIONS
from trajectory.model import EmotionModel, EmotionNet, Preprocessing

LEVEL = 1 / 255  # one uint8 step, in the [0, 1] scale before mean/std


def _lossless_video(path: Path, picture: np.ndarray, frames: int = 6) -> None:
    """A short FFV1 video (RGB, lossless) showing ``picture`` in every frame."""
    height, width = picture.shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = width, height, "bgr0"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _model(size: int) -> EmotionModel:
    """A random EmotionNet whose top class clearly wins, so "same prediction" means something."""
    torch.manual_seed(0)
    net = EmotionNet().eval()
    with torch.no_grad():
        net.classifier[1].bias[EMOTIONS.index("sadness")] += 3.0
    return EmotionModel(net, EMOTIONS, Preprocessing(input_size=size), sha256="0" * 64)


def _analyze_input(video: Path, model: EmotionModel, monkeypatch) -> tuple[torch.Tensor, dict]:
    """Runs analyze; returns the first normalised batch FrameScorer made and the frames table."""
    seen: list[torch.Tensor] = []
    normalize = trajectory.scoring.normalize

    def recording_normalize(images, preprocessing):
        x = normalize(images, preprocessing)
        seen.append(x.detach().clone())
        return x

    monkeypatch.setattr(trajectory.scoring, "normalize", recording_normalize)
    analysis = trajectory.analyze(video, model=model, fps=1.0, device="cpu")
    assert seen, "analyze never normalised a batch"
    return seen[0][:1], analysis.frames


def _train_input(tmp: Path, picture: np.ndarray, model: EmotionModel):
    """The evaluate path: PNG -> ManifestDataset -> to_input; plus predict's probabilities."""
    Image.fromarray(picture).save(tmp / "picture.png")
    size = model.preprocessing.input_size
    dataset = ManifestDataset(tmp, [Item("picture.png", "sadness", "test")], size)
    runtime = make_runtime("cpu", progress=False)
    x, _ = to_input(collate([dataset[(0, 0)]]), model.preprocessing, runtime)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=1, sampler=[(0, 0)], collate_fn=collate
    )
    _, _, probs = predict(model.net, loader, model.preprocessing, runtime)
    return x, probs[0].numpy()


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [(320, 240, 32), (640, 360, 64)],  # 10x and 7.5x/5.6x: integer and fractional squash ratios
)
def test_analyze_and_evaluate_feed_the_model_the_same_input(
    tmp_path: Path, monkeypatch, width: int, height: int, size: int
):
    picture = pattern_image("contentment", width, height, np.random.default_rng(3))
    _lossless_video(tmp_path / "picture.mkv", picture)
    model = _model(size)
    video_x, frames = _analyze_input(tmp_path / "picture.mkv", model, monkeypatch)
    train_x, train_probs = _train_input(tmp_path, picture, model)

    assert video_x.shape == train_x.shape == (1, 3, size, size)
    std = torch.tensor(model.preprocessing.std).view(1, 3, 1, 1)
    pixel_gap = ((video_x - train_x) * std).abs()  # back in [0, 1] units
    assert pixel_gap.max().item() <= LEVEL + 1e-6, f"max gap {pixel_gap.max().item() * 255:.1f}/255"

    video_probs = frames[list(EMOTIONS)].to_numpy()[0]
    assert np.abs(video_probs - train_probs).max() < 1e-3
    top = np.sort(train_probs)[::-1]
    assert top[0] - top[1] > 0.1  # a clear winner, so the argmax cannot be a kernel coin toss
    assert EMOTIONS[int(video_probs.argmax())] == EMOTIONS[int(train_probs.argmax())]
