"""Small helpers the benchmark scripts share."""

from __future__ import annotations

import os
from pathlib import Path


def seed_list(text: str) -> list[int]:
    """Seeds from the command line: a range ``A-B`` (inclusive), or ``a,b,c``, or one seed."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(seed) for seed in text.split(",")]


def tree_env(tree: Path) -> dict[str, str]:
    """The environment for a subprocess that must import ``trajectory`` from ``tree``.

    That tree first, then whatever the caller's PYTHONPATH holds (dependencies installed with
    ``pip --target``, as on a lent GPU machine).
    """
    path = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}
