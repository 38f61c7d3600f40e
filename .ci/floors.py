"""Proves pyproject.toml's dependency floors: helpers for ``make test-floors``.

``make test-floors`` builds a second virtual environment holding the *lowest* versions that
pyproject.toml allows of every dependency except torch/torchvision, and runs the fast tests in
it. torch and torchvision stay at constraints.txt's pinned build, borrowed from the main venv by
symlinks (no second 2 GB download or copy).

    python .ci/floors.py requirements           # "name==floor" lines from pyproject's ">=" floors,
                                                # plus the test extras (pillow at its floor too)
    python .ci/floors.py link-torch VENV        # expose the main venv's torch closure to VENV
    python .ci/floors.py verify                 # (in VENV) installed versions == the floors

The project itself is then installed with ``--no-deps``: pip never resolves torch, so it does not
fetch the CUDA runtime wheels that torch's metadata lists. Needs Python 3.11+ (tomllib).
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BORROWED = ("torch", "torchvision")  # stay at constraints.txt's pinned build
OURS = {"numpy", "pillow"}  # torchvision needs them, but their floors are tested here too
FLOORED_EXTRAS = ("pillow",)  # test extras that train/ uses at run time: held at their floor
FLOOR = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def floors() -> dict[str, str]:
    """{distribution name: lowest allowed version}: non-torch runtime dependencies, pillow."""
    project = _project()
    extras = [r for r in project["optional-dependencies"]["test"] if r.startswith(FLOORED_EXTRAS)]
    found = {}
    for requirement in [*project["dependencies"], *extras]:
        match = FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"pyproject.toml: {requirement!r} states no '>=' floor")
        name, version = match.groups()
        if name.lower() not in BORROWED:
            found[name] = version
    return found


def requirements() -> list[str]:
    """The floors as ``name==version``, then the remaining test extras as pyproject states them."""
    pinned = [f"{name}=={version}" for name, version in floors().items()]
    extras = _project()["optional-dependencies"]["test"]
    return pinned + [r for r in extras if not r.startswith(FLOORED_EXTRAS)]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def torch_closure() -> list[metadata.Distribution]:
    """torch, torchvision and everything they require (markers evaluated here), minus OURS."""
    from packaging.requirements import Requirement

    todo, seen, dists = list(BORROWED), set(), []
    while todo:
        name = _normal(todo.pop())
        if name in seen or name in OURS:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional platform dependency that is not installed
        dists.append(dist)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return dists


def link_torch(venv: Path) -> None:
    """Symlinks the closure's top-level entries into VENV/borrowed and adds it via a .pth file.

    A .pth directory comes after the venv's own site-packages on sys.path, so what pip installs
    in VENV wins; pip still sees torch as installed and does not fetch it.
    """
    borrowed = (venv / "borrowed").resolve()
    borrowed.mkdir(parents=True, exist_ok=True)
    for dist in torch_closure():
        site = Path(dist.locate_file(""))
        tops = {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops - {"__pycache__"}):
            if top.endswith(".pth"):
                continue  # only site directories run .pth files
            source, target = site / top, borrowed / top
            if source.exists() and not target.exists():
                target.symlink_to(source)
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib, "borrowed-torch.pth").write_text(f"{borrowed}\n")
    print(f"linked {len(list(borrowed.iterdir()))} entries of the torch closure into {borrowed}")


def verify() -> None:
    """Fails unless every floor is the installed version; prints what is installed."""
    from packaging.version import Version

    wrong = []
    for name, floor in floors().items():
        installed = metadata.version(name)
        print(f"{name:16s} floor {floor:10s} installed {installed}")
        if Version(installed) != Version(floor):
            wrong.append(f"{name} {installed} (floor {floor})")
    import torch

    print(f"{'torch':16s} pinned build   installed {torch.__version__} from {torch.__file__}")
    if wrong:
        raise SystemExit("not at the floor: " + ", ".join(wrong))


def main(argv: list[str]) -> None:
    if argv[:1] == ["requirements"]:
        print("\n".join(requirements()))
    elif argv[:1] == ["link-torch"] and len(argv) == 2:
        link_torch(Path(argv[1]))
    elif argv[:1] == ["verify"]:
        verify()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
