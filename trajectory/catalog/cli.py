"""What the ``trajectory catalog`` command does once its options are parsed."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from trajectory.catalog.engine import LocalEngine, default_workers
from trajectory.catalog.run import run_catalog
from trajectory.catalog.stages import Settings
from trajectory.errors import UsageError
from trajectory.scenes import SceneParams

log = logging.getLogger("trajectory")


def run_from_cli(
    sources: list[Path],
    catalog: Path,
    checkpoint: str | None,
    fps: float,
    workers: int | None,
    batch_size: int | None,
    device: str,
    force: bool,
    quiet: bool,
    engine: str = "local",
    address: str | None = None,
    scene_params: SceneParams | None = None,
) -> int:
    """Runs the catalogue on the local or Ray engine, prints a summary; returns the exit code."""
    model, settings = None, Settings(fps=fps, device=device)
    if catalog.exists() and not catalog.is_dir():
        from trajectory.errors import InputError

        raise InputError(catalog, "exists and is not a folder (--out needs a folder)")
    ray_engine = None
    if address is not None and engine != "ray":
        raise UsageError("--address is for --engine ray")
    if engine == "ray":  # the model is checked and loaded on the cluster, never here
        from trajectory.catalog.ray_engine import RayEngine

        ray_engine = RayEngine(address, decoders=workers)
        settings = ray_engine.settings(checkpoint, fps, batch_size, device)
    elif checkpoint is not None:
        from trajectory.model import load_checkpoint
        from trajectory.scoring import default_batch_size, select_device

        model = load_checkpoint(checkpoint)  # a bad checkpoint fails before any decoding
        torch_device = select_device(device)
        settings = Settings(
            fps=fps,
            checkpoint=str(checkpoint),
            model=model.describe(),
            input_size=model.preprocessing.input_size,
            batch_size=batch_size or default_batch_size(torch_device),
            device=str(torch_device),
        )
    if scene_params is not None:
        settings = dataclasses.replace(settings, scene_params=scene_params)
    runner = ray_engine or LocalEngine(workers or default_workers(settings.device), model)
    summary = run_catalog(sources, catalog, settings, runner, progress=not quiet, force=force)
    if not quiet:
        print(
            f"trajectory: catalogue {catalog}: {len(summary.done)} analysed, "
            f"{len(summary.failed)} failed, {summary.unchanged} already done, "
            f"{summary.skipped} skipped (not films); see {catalog / 'index.html'}",
            file=sys.stderr,
        )
    return summary.exit_code
