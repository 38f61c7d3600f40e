"""Resume: a fit interrupted mid-stage and resumed ends exactly like an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_fixtures import write_class_folders

import train.trainer
from train.__main__ import main as train_main
from train.prepare import prepare, read_manifest

# A random backbone at 32 px, head then conv5: the smallest run with two stages.
TINY = ["--backbone", "random", "--input-size", "32", "--stages", "0,1"]
# Two stages of two epochs on a tiny set; the interruption hits stage 2, epoch 2, mid-epoch.
FIT = [
    *TINY,
    "--lr",
    "1e-3,1e-4",
    "--epochs",
    "2",
    "--batch-size",
    "8",
    "--seed",
    "5",
    "--device",
    "cpu",
    "--quiet",
]
INTERRUPTED_CALL = 4  # the 4th call of train_one_epoch


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume")
    write_class_folders(root / "fi", per_class=5, size=32, seed=11)
    prepare(root / "fi", root / "data", fractions=(0.6, 0.2, 0.2))
    victim = read_manifest(root / "data").split("train")[0]
    (root / "fi" / victim.path).write_bytes(b"corrupted after prepare")
    return root / "data"


def comparable(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def interrupt_on_call(n: int):
    """A train_one_epoch that raises KeyboardInterrupt after one batch of its n-th call."""
    real, calls = train.trainer.train_one_epoch, []

    def first_batch_then_stop(loader):
        for i, batch in enumerate(loader):
            if i == 1:
                raise KeyboardInterrupt
            yield batch

    def wrapper(net, optimizer, loader, *args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            loader = first_batch_then_stop(loader)
        return real(net, optimizer, loader, *args, **kwargs)

    return wrapper


def test_resume_matches_uninterrupted_run(data: Path, tmp_path: Path, monkeypatch):
    assert train_main(["fit", "--data", str(data), "--out", str(tmp_path / "full"), *FIT]) == 0
    full = torch.load(tmp_path / "full" / "best.pt", weights_only=True)

    out = str(tmp_path / "cut")
    with monkeypatch.context() as patch:
        patch.setattr(train.trainer, "train_one_epoch", interrupt_on_call(INTERRUPTED_CALL))
        assert train_main(["fit", "--data", str(data), "--out", out, *FIT]) == 130
    state = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)
    assert (state["next_stage"], state["next_epoch"]) == (1, 1)  # stage 2, epoch 2 is next
    assert state["optimizer"] is not None and len(state["history"]) == 3
    assert train_main(["fit", "--data", str(data), "--out", out, *FIT]) == 2  # no silent restart
    assert train_main(["fit", "--data", str(data), "--out", out, "--resume", "--quiet"]) == 0
    resumed = torch.load(tmp_path / "cut" / "best.pt", weights_only=True)

    assert len(full["training"]["history"]) == 4
    assert comparable(resumed["training"]["history"]) == comparable(full["training"]["history"])
    assert resumed["training"]["best"] == full["training"]["best"]
    assert resumed["training"]["complete"] is True
    for key, value in full["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=0, atol=0)
    assert all(row["skipped"] == 1 for row in full["training"]["history"])  # bad file skipped


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_gpu_with_mixed_precision(data: Path, tmp_path: Path):
    args = [
        "fit",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "gpu"),
        *TINY,
        "--epochs",
        "1",
        "--device",
        "cuda",
        "--workers",
        "2",
        "--quiet",
    ]
    assert train_main(args) == 0
    training = torch.load(tmp_path / "gpu" / "best.pt", weights_only=True)["training"]
    assert training["runtime"]["amp"] in ("bfloat16", "float16")
    assert training["runtime"]["device"].startswith("cuda")
    assert len(training["history"]) == 2
