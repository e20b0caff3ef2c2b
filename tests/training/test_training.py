"""One training round: soft-version-space snapshots, batching, BatchNorm recalibration."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from diamlib.evidence import snapshot_epochs
from diamlib.training.networks import (ModelInputs, PassSettings, RoundData, TargetScaling, evaluation_metrics,
                                       even_batches, recalibrate_batchnorm, start_at_labeled_mean, train_model_round)
from diamlib.training.params import TrainingParams
from diamlib.zoo import wrap_module


@pytest.mark.parametrize("epochs, expected", [(1, [1]), (2, [1, 2]), (5, [2, 3, 4, 5]), (20, list(range(10, 21)))])
def test_snapshot_epochs_are_the_later_half(epochs, expected):
    assert list(snapshot_epochs(epochs)) == expected


@pytest.mark.parametrize("n, batch", [(450, 32), (33, 32), (3, 2), (128, 128), (2, 64)])
def test_even_batches_cover_everything_without_runts(n, batch):
    batches = even_batches(np.arange(n), batch)
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(n))
    sizes = [len(b) for b in batches]
    assert min(sizes) >= 2 and max(sizes) - min(sizes) <= 1 and max(sizes) <= max(batch, 2 * min(sizes))


def _tiny_model(n_outputs: int):
    backbone = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return wrap_module("tiny", backbone, 4, n_outputs)


def test_recalibration_sets_exact_labeled_statistics():
    torch.manual_seed(0)
    model = _tiny_model(3)
    images = np.random.default_rng(0).integers(0, 256, size=(40, 8, 8), dtype=np.uint8)
    inputs = ModelInputs(images, 8)
    labeled = np.arange(40)
    recalibrate_batchnorm(model, inputs, labeled, batch_size=40, passes=PassSettings.of("cpu"))
    with torch.no_grad():
        conv_out = model.backbone[0](inputs.batch(labeled))
    bn = model.backbone[1]
    assert torch.allclose(bn.running_mean, conv_out.mean(dim=(0, 2, 3)), atol=1e-5)
    assert bn.momentum == 0.1 and not model.training


def test_regression_head_starts_at_the_labeled_mean():
    model = _tiny_model(2)
    targets = np.array([[0.2, 0.8], [0.4, 0.6]], dtype=np.float32)
    start_at_labeled_mean(model, targets)
    assert np.allclose(model.head.bias.detach().numpy(), [0.3, 0.7])


def test_target_scaling_folded_into_the_head_predicts_in_the_targets_units():
    torch.manual_seed(0)
    model = _tiny_model(2).eval()
    targets = np.array([[10.0, -3.0], [14.0, -1.0], [12.0, -2.0]], dtype=np.float32)
    scaling = TargetScaling.of(targets)
    assert np.allclose(scaling.standardise(targets).mean(axis=0), 0, atol=1e-6)
    assert np.allclose(scaling.standardise(targets).std(axis=0), 1, atol=1e-6)
    x = torch.rand(5, 3, 8, 8)
    with torch.no_grad():
        standardised = model(x).numpy()
        scaling.fold_into_head(model)
        folded = model(x).numpy()
    assert np.allclose(folded, standardised * scaling.std + scaling.mean, atol=1e-5)


def test_regression_round_does_not_depend_on_the_targets_units():
    """Trained on standardised targets, a round on ``1000 y + 5`` predicts ``1000 x`` (its prediction on ``y``) + 5."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 8, 8), dtype=np.uint8)
    targets = (images.reshape(60, -1)[:, :2] / 255.0).astype(np.float32)
    inputs = ModelInputs(images, 8)
    outputs = []
    for scale, shift in ((1.0, 0.0), (1000.0, 5.0)):
        data = RoundData(inputs, scale * targets + shift, inputs, scale * targets + shift, np.arange(40),
                         np.arange(40, 60), "regression")
        torch.manual_seed(0)
        result = train_model_round(_tiny_model(2), data, TrainingParams(epochs=3, batch_size=10, lr=0.05),
                                   rng=np.random.default_rng(1), evidence=["pool_outputs"])
        outputs.append(result.evidence.pool_outputs)
    assert np.allclose(outputs[1], 1000.0 * outputs[0] + 5.0, rtol=1e-3, atol=1e-2)


def test_metrics_by_task():
    outputs = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert evaluation_metrics("classification", outputs, np.array([1, 1])) == {"accuracy": 0.5}
    got = evaluation_metrics("regression", np.array([[0.5, 0.5]]), np.array([[0.0, 1.0]]))
    assert got == pytest.approx({"mse": 0.25, "mae": 0.5})


def test_round_returns_snapshots_features_and_learns_a_separable_task():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 2, size=120)
    images = np.where(targets[:, None, None] == 1, 220, 30).astype(np.uint8) + rng.integers(0, 30, (120, 8, 8)).astype(np.uint8)
    inputs = ModelInputs(images, 8)
    labeled, pool = np.arange(60), np.arange(60, 120)
    data = RoundData(inputs, targets.astype(np.int64), inputs, targets.astype(np.int64), labeled, pool, "classification")
    torch.manual_seed(0)
    result = train_model_round(_tiny_model(2), data, TrainingParams(epochs=6, batch_size=16, lr=0.1),
                               rng=np.random.default_rng(1))
    evidence = result.evidence
    assert evidence.snapshot_predictions.shape == (len(snapshot_epochs(6)), 60)
    assert evidence.pool_features.shape == (60, 4) and evidence.labeled_features.shape == (60, 4)
    assert np.allclose(evidence.pool_probs.sum(axis=1), 1, atol=1e-5)
    assert result.metrics["accuracy"] > 0.9
    stages = result.stage_seconds()
    assert all(stages[s] > 0 for s in ("training", "snapshots", "final_pass", "test"))
    assert stages["evidence"] == stages["snapshots"] + stages["final_pass"]
    assert result.eval_batch_size == 512


def test_a_round_computes_only_the_evidence_asked_for_and_the_same_model():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 2, size=60)
    images = (np.where(targets[:, None, None] == 1, 200, 40) + rng.integers(0, 40, (60, 8, 8))).astype(np.uint8)
    inputs = ModelInputs(images, 8)
    data = RoundData(inputs, targets.astype(np.int64), inputs, targets.astype(np.int64),
                     np.arange(30), np.arange(30, 60), "classification")
    results = {}
    for name, asked in {"all": None, "probs": {"pool_probs"}, "nothing": set()}.items():
        torch.manual_seed(0)
        results[name] = train_model_round(_tiny_model(2), data, TrainingParams(epochs=4, batch_size=10, lr=0.1),
                                          rng=np.random.default_rng(1), evidence=asked)
    full, probs, nothing = results["all"].evidence, results["probs"].evidence, results["nothing"].evidence
    assert full.snapshot_predictions is not None and full.labeled_features is not None
    assert probs.snapshot_predictions is None and probs.pool_features is None and probs.labeled_features is None
    assert np.array_equal(probs.pool_probs, full.pool_probs)
    assert all(getattr(nothing, f) is None for f in ("pool_probs", "pool_features", "labeled_features",
                                                      "snapshot_predictions", "pool_outputs"))
    assert results["all"].metrics == results["probs"].metrics == results["nothing"].metrics
    with pytest.raises(ValueError, match="unknown evidence"):
        train_model_round(_tiny_model(2), data, TrainingParams(epochs=1), rng=np.random.default_rng(1),
                          evidence={"gradients"})
