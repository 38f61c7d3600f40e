"""The unfreezing schedule: exactly the table's parameters train, each stage with a fresh Adam."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from train_fixtures import write_class_folders

import train.trainer
from train.prepare import prepare, read_manifest
from train.recipe import PAPER_STAGES, FitConfig, apply_stage, build_optimizer, select_stages
from train.trainer import RunState, Trainer
from train.utils import Meter, make_runtime
from trajectory.model import EmotionNet

ALL_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)  # VGG19's 16 convolutions


@dataclass(frozen=True)
class Row:
    """One row of the paper's table (DESIGN.md), written out independently of train.recipe."""

    stage: int
    convs: tuple[int, ...]
    lr: float


TABLE = [
    Row(0, (), 1e-5),
    Row(1, (34,), 1e-5),
    Row(2, (34, 32), 1e-6),
    Row(3, (34, 32, 30), 1e-6),
    Row(4, (34, 32, 30, 28), 1e-6),
    Row(5, ALL_CONVS, 1e-6),
]


def expected_names(row: Row) -> set[str]:
    head = {"classifier.1.weight", "classifier.1.bias"}
    return head | {f"features.{i}.{p}" for i in row.convs for p in ("weight", "bias")}


@pytest.fixture(scope="module")
def net() -> EmotionNet:
    torch.manual_seed(0)
    return EmotionNet()


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"stage{r.stage}")
def test_stage_trains_exactly_the_table_parameters(net, row):
    stage = PAPER_STAGES[row.stage]
    returned = apply_stage(net, stage)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == expected_names(row)
    optimizer = build_optimizer(net, stage)
    assert isinstance(optimizer, torch.optim.Adam)
    [group] = optimizer.param_groups
    assert group["lr"] == row.lr
    by_id = {id(p): n for n, p in net.named_parameters()}
    assert sorted(by_id[id(p)] for p in group["params"]) == sorted(expected_names(row))
    assert [id(p) for p in returned] == [id(p) for p in group["params"]]
    assert stage.epochs == 10


def test_paper_defaults():
    config = FitConfig()
    assert (config.batch_size, config.dropout, config.input_size) == (32, 0.5, 224)
    assert (config.hflip, config.rotation, config.backbone) == (True, 10.0, "imagenet")


def test_overrides_and_plain_data_round_trip():
    stages = select_stages([0, 4], [3e-3, 1e-4], [1])
    assert [(s.name, s.lr, s.epochs) for s in stages] == [("head", 3e-3, 1), ("conv5_1", 1e-4, 1)]
    config = FitConfig(stages=stages, input_size=32, backbone="random")
    data = config.to_dict()
    buffer = io.BytesIO()
    torch.save(data, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == data  # plain data, safe to load
    assert FitConfig.from_dict(data) == config
    with pytest.raises(ValueError):
        select_stages([6])
    with pytest.raises(ValueError):
        select_stages([0, 1], lrs=[1e-5, 1e-5, 1e-5])


def test_fit_rebuilds_the_optimizer_per_stage(tmp_path: Path, net, monkeypatch):
    """Through the real Trainer: each stage trains with a new Adam over the table's parameters."""
    write_class_folders(tmp_path / "fi", per_class=2, size=32)
    prepare(tmp_path / "fi", tmp_path / "data", fractions=(0.5, 0.5, 0.0))
    seen = []

    def spy(net, optimizer, loader, *args, **kwargs):
        names = {n for n, p in net.named_parameters() if p.requires_grad}
        seen.append((names, optimizer, optimizer.param_groups[0]["lr"]))
        return {"loss": 1.0, "accuracy": 0.5, "images": 8, "skipped": 0}

    monkeypatch.setattr(train.trainer, "train_one_epoch", spy)
    monkeypatch.setattr(train.trainer, "evaluate", lambda *a: {"loss": 1.0, "accuracy": 0.5})
    stages = select_stages(epochs=[1, 1, 1, 1, 1, 2])
    config = FitConfig(stages=stages, input_size=32, backbone="random")
    runtime = make_runtime("cpu", progress=False)
    manifest = read_manifest(tmp_path / "data")
    Trainer(config, manifest, tmp_path / "run", runtime, net, RunState()).run()
    assert [lr for _, _, lr in seen] == [row.lr for row in TABLE] + [TABLE[-1].lr]
    for (names, _, _), row in zip(seen, TABLE + [TABLE[-1]], strict=True):
        assert names == expected_names(row)
    optimizers = [opt for _, opt, _ in seen]
    assert len({id(o) for o in optimizers[:6]}) == 6  # fresh per stage
    assert optimizers[5] is optimizers[6]  # kept within a stage


def test_meter_counts_in_dtypes_every_device_has():
    # MPS has no float64: counters kept on the device must be float32/int64.
    meter = Meter(torch.device("cpu"))
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    for loss, labels in (
        (torch.tensor(0.5), torch.tensor([0, 1, 1])),
        (torch.tensor(0.25), torch.tensor([0, 0, 0])),
    ):
        meter.update(loss, logits, labels)
    tensors = [v for v in vars(meter).values() if isinstance(v, torch.Tensor)]
    assert tensors and all(t.dtype in (torch.float32, torch.int64) for t in tensors)
    assert meter.result() == {
        "loss": pytest.approx((0.5 * 3 + 0.25 * 3) / 6),
        "accuracy": 4 / 6,
        "images": 6,
    }
