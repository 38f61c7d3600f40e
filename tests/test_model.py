"""EmotionNet checkpoints: round trip, preprocessing from the file, refusal of bad files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from conftest import CodeRunningPayload

from trajectory.errors import InputError
from trajectory.model import EmotionNet, Preprocessing, load_checkpoint, save_checkpoint
from trajectory.scoring import FrameScorer, default_batch_size, inference_dtype


def test_checkpoint_round_trip_keeps_weights_and_preprocessing(tiny_checkpoint):
    model = load_checkpoint(tiny_checkpoint)
    assert model.preprocessing == Preprocessing(input_size=32)
    assert model.classes[0] == "amusement" and len(model.classes) == 8
    assert len(model.sha256) == 64
    assert model.training == {"note": "random"}
    head = model.net.classifier[1]
    assert head.in_features == 512 * 7 * 7 and head.out_features == 8


def test_scorer_returns_probabilities_in_batches(tiny_checkpoint):
    scorer = FrameScorer(load_checkpoint(tiny_checkpoint), torch.device("cpu"), batch_size=4)
    images = np.random.default_rng(0).integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    probs = scorer.score(images)
    assert probs.shape == (10, 8) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # Batching must not change results: one-by-one equals chunked.
    single = np.concatenate([scorer.score(images[i : i + 1]) for i in range(10)])
    assert np.allclose(single, probs, atol=1e-5)


def test_default_batch_is_small_on_cpu_large_on_gpu(tiny_checkpoint):
    # CPU: per-image cost is flat in the batch size, so small batches start the model sooner
    # and keep peak memory down; GPU: large batches keep it busy.
    assert FrameScorer(load_checkpoint(tiny_checkpoint), torch.device("cpu")).batch_size == 8
    assert default_batch_size(torch.device("cuda")) == 64
    assert default_batch_size(torch.device("mps")) == 32


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "trajectory.emotionnet", "payload": CodeRunningPayload(marker)}, path)
    with pytest.raises(InputError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_raw_pickle_file_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(CodeRunningPayload(tmp_path / "pwned")))
    with pytest.raises(InputError):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_wrong_class_count_is_refused(tmp_path):
    path = tmp_path / "seven.pt"
    net = EmotionNet(num_classes=7)
    save_checkpoint(path, net, Preprocessing(input_size=32))
    payload = torch.load(path, weights_only=True)
    payload["classes"] = payload["classes"][:7]
    torch.save(payload, path)
    with pytest.raises(InputError, match="class list"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda p: p.update(format="something.else"), "not a trajectory EmotionNet checkpoint"),
        (lambda p: p.update(arch="resnet50"), "architecture"),
        (lambda p: p.update(version=99), "version"),
        (lambda p: p["state_dict"].pop("classifier.1.weight"), "weights do not fit"),
    ],
    ids=["format", "arch", "version", "missing-weights"],
)
def test_foreign_checkpoints_are_refused(tmp_path, tiny_checkpoint, change, problem):
    payload = torch.load(tiny_checkpoint, weights_only=True)
    change(payload)
    path = tmp_path / "other.pt"
    torch.save(payload, path)
    with pytest.raises(InputError, match=problem):
        load_checkpoint(path)


def test_truncated_checkpoint_is_refused(tmp_path, tiny_checkpoint):
    path = tmp_path / "cut.pt"
    path.write_bytes(tiny_checkpoint.read_bytes()[:100_000])
    with pytest.raises(InputError, match="not a readable"):
        load_checkpoint(path)


def test_model_identity_depends_on_what_decides_outputs_only(tmp_path):
    torch.manual_seed(0)
    net = EmotionNet()
    save_checkpoint(tmp_path / "a.pt", net, Preprocessing(input_size=32), training={"x": 1})
    base = load_checkpoint(tmp_path / "a.pt")
    # Same weights with metrics added, saved channels-last: same identity, another file hash.
    net.to(memory_format=torch.channels_last)
    save_checkpoint(tmp_path / "b.pt", net, Preprocessing(input_size=32), training={"test": {}})
    same = load_checkpoint(tmp_path / "b.pt")
    assert same.sha256 == base.sha256 and same.file_sha256 != base.file_sha256
    # Other preprocessing, or one weight nudged: another model.
    save_checkpoint(tmp_path / "c.pt", net, Preprocessing(input_size=64))
    with torch.no_grad():
        net.classifier[1].bias[0] += 1e-3
    save_checkpoint(tmp_path / "d.pt", net, Preprocessing(input_size=32))
    others = {load_checkpoint(tmp_path / p).sha256 for p in ("c.pt", "d.pt")}
    assert base.sha256 not in others and len(others) == 2


@pytest.mark.parametrize(("bf16", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_inference_falls_back_to_fp16_without_bf16(monkeypatch, bf16, expected):
    # T4 and V100 have no bf16: autocast must not ask for it there.
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert inference_dtype(torch.device("cuda")) == expected
    assert inference_dtype(torch.device("cuda:1")) == expected
    assert inference_dtype(torch.device("cpu")) is None
    assert inference_dtype(torch.device("mps")) is None
