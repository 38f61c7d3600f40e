"""trajectory: what a film feels like, scene by scene.

Library use::

    import trajectory
    result = trajectory.analyze("movie.mp4", model="emotionnet.pt", fps=1.0)
    result.scenes[["start_s", "end_s", "dominant", "confidence"]]
    trajectory.write_outputs(result, "trajectory-out/movie")
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public names, resolved on first use so that `trajectory --version` or a bad path on the command
# line answers without importing torch (seconds of start-up).
_EXPORTS = {
    "Analysis": "trajectory.results",
    "analyze": "trajectory.pipeline",
    "EMOTIONS": "trajectory.emotions",
    "InputError": "trajectory.errors",
    "read_outputs": "trajectory.export",
    "write_outputs": "trajectory.export",
    "EmotionModel": "trajectory.model",
    "load_checkpoint": "trajectory.model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'trajectory' has no attribute {name!r}")
