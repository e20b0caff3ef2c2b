"""Training-protocol options: cosine schedule, Nesterov, weight decay groups, label smoothing,
augmentation, and their validation in a profile."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from diamlib.config import ConfigError
from diamlib.data.augment import augment_batch, random_resized_boxes
from diamlib.data.inputs import normalisation, to_model_input
from diamlib.experiment.setup import profile_from_dict
from diamlib.training.networks import (ModelInputs, RoundData, _loss_function, learning_rate, make_optimizer,
                                       train_model_round)
from diamlib.training.params import TrainingParams
from diamlib.zoo import wrap_module


def _tiny_model(n_outputs: int = 2):
    backbone = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return wrap_module("tiny", backbone, 4, n_outputs)


def _separable_round(n: int = 80, seed: int = 0) -> RoundData:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 2, size=n)
    images = (np.where(targets[:, None, None] == 1, 200, 40) + rng.integers(0, 40, (n, 12, 12))).astype(np.uint8)
    inputs = ModelInputs(images, 12)
    half = n // 2
    return RoundData(inputs, targets.astype(np.int64), inputs, targets.astype(np.int64),
                     np.arange(half), np.arange(half, n), "classification")


# --------------------------------------------------------------------------- schedule
def test_cosine_schedule_starts_at_lr_halves_midway_and_decays_towards_zero():
    training = TrainingParams(lr=0.1, lr_schedule="cosine")
    assert learning_rate(training, 0, 100) == pytest.approx(0.1)
    assert learning_rate(training, 50, 100) == pytest.approx(0.05)
    assert learning_rate(training, 99, 100) == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.99)))
    rates = [learning_rate(training, s, 100) for s in range(100)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_constant_schedule_keeps_lr():
    training = TrainingParams(lr=0.02)
    assert {learning_rate(training, s, 10) for s in range(10)} == {0.02}


# --------------------------------------------------------------------------- optimiser
def test_weight_decay_spares_norm_and_bias_only_when_asked():
    model = _tiny_model()
    n_params = len(list(model.parameters()))
    plain = make_optimizer(model, TrainingParams(weight_decay=3e-5))
    assert len(plain.param_groups) == 1 and len(plain.param_groups[0]["params"]) == n_params

    authors = make_optimizer(model, TrainingParams(weight_decay=3e-5, decay_norm_and_bias=False, nesterov=True))
    decay, no_decay = authors.param_groups
    assert decay["weight_decay"] == 3e-5 and no_decay["weight_decay"] == 0.0
    conv, bn, head = model.backbone[0], model.backbone[1], model.head
    assert {id(p) for p in decay["params"]} == {id(conv.weight), id(head.weight)}
    assert {id(p) for p in no_decay["params"]} == {id(conv.bias), id(bn.weight), id(bn.bias), id(head.bias)}
    assert all(group["nesterov"] for group in authors.param_groups)


def test_nesterov_without_momentum_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="nesterov: true needs momentum > 0"):
        TrainingParams(nesterov=True, momentum=0.0)


# --------------------------------------------------------------------------- loss
def test_label_smoothing_changes_the_classification_loss_as_defined():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    target = torch.tensor([0])
    log_p = torch.log_softmax(logits, dim=1)[0]
    expected = -(0.9 * log_p[0] + 0.1 * log_p.mean())
    assert _loss_function("classification", 0.1)(logits, target).item() == pytest.approx(expected.item(), rel=1e-6)
    assert _loss_function("classification")(logits, target).item() == pytest.approx(-log_p[0].item(), rel=1e-6)


# --------------------------------------------------------------------------- augmentation
def test_crop_boxes_fit_the_image_and_cover_8_to_100_percent():
    boxes = random_resized_boxes(2000, 28, 28, np.random.default_rng(0))
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 28).all() and (boxes[:, 3] <= 28).all()
    area = widths * heights / 28**2
    assert area.min() >= 0.05 and area.max() <= 1.0 and 0.4 < area.mean() < 0.7
    assert (widths / heights).min() >= 0.6 and (widths / heights).max() <= 1.7


def test_augmentation_is_reproducible_from_the_generator_and_leaves_inputs_unchanged():
    images = np.random.default_rng(1).integers(0, 256, (6, 16, 16), dtype=np.uint8)
    x = to_model_input(images, resolution=16)
    before = x.clone()
    a = augment_batch(x, np.random.default_rng(5))
    b = augment_batch(x, np.random.default_rng(5))
    c = augment_batch(x, np.random.default_rng(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(x, before) and a.shape == x.shape
    mean, std = normalisation(3)
    pixels = a * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5  # still images in [0, 1] before normalisation


def test_full_box_without_flip_and_unit_factors_is_the_identity():
    images = np.random.default_rng(2).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)
    x = to_model_input(images, resolution=8)

    class FixedDraws:  # whole-image box, no flip, brightness and saturation factors 1
        def uniform(self, low, high, size):
            return np.ones(size) if low < 1 < high else np.full(size, 1.0 if high > 0.5 else 0.0)

        def random(self, size):
            return np.zeros(size) if isinstance(size, tuple) else np.ones(size)

    boxes = random_resized_boxes(1, 8, 8, FixedDraws())
    assert boxes.tolist() == [[0.0, 0.0, 8.0, 8.0]]
    assert torch.allclose(augment_batch(x, FixedDraws()), x, atol=1e-5)


# --------------------------------------------------------------------------- a round
def test_authors_protocol_trains_a_separable_task_reproducibly():
    training = TrainingParams(epochs=6, batch_size=10, lr=0.1, lr_schedule="cosine", nesterov=True,
                              weight_decay=3e-5, decay_norm_and_bias=False, label_smoothing=0.1,
                              augmentation="authors")
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        results.append(train_model_round(_tiny_model(), _separable_round(), training, rng=np.random.default_rng(3)))
    assert results[0].metrics["accuracy"] > 0.85
    assert np.array_equal(results[0].evidence.snapshot_predictions, results[1].evidence.snapshot_predictions)
    assert np.array_equal(results[0].evidence.pool_probs, results[1].evidence.pool_probs)


def test_default_protocol_is_unchanged_plain_sgd():
    """Defaults reproduce plain SGD: one group, no Nesterov, constant lr, no augmentation draws."""
    data = _separable_round()
    torch.manual_seed(0)
    model = _tiny_model()
    reference = _tiny_model()
    reference.load_state_dict(model.state_dict())
    training = TrainingParams(epochs=2, batch_size=10, lr=0.1, momentum=0.9)
    rng = np.random.default_rng(4)
    train_model_round(model, data, training, rng=rng)
    # the same steps by hand with torch.optim.SGD over model.parameters()
    from diamlib.training.networks import even_batches
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    hand_rng = np.random.default_rng(4)
    targets = torch.from_numpy(data.train_targets)
    for _ in range(2):
        reference.train()
        for indices in even_batches(data.labeled[hand_rng.permutation(len(data.labeled))], 10):
            optimizer.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(reference(data.train_inputs.batch(indices)),
                                        targets[torch.from_numpy(indices)]).backward()
            optimizer.step()
    assert torch.equal(model.head.weight, reference.head.weight)
    assert rng.random() == hand_rng.random()


# --------------------------------------------------------------------------- validation
def _profile(training: dict, task: str = "classification") -> dict:
    section = {"datasets": ["digits"], "zoo": "smoke3", "initial_labels": 20, "query_size": 10, "rounds": 1,
               "strategies": ["random"], "training": training}
    return {"name": "t", task: section}


@pytest.mark.parametrize("training, message", [
    ({"lr_schedule": "step"}, "lr_schedule"),
    ({"augmentation": "autoaugment"}, "augmentation"),
    ({"label_smoothing": 1.0}, "label_smoothing"),
])
def test_profile_rejects_bad_protocol_values_by_name(training, message):
    with pytest.raises(ConfigError, match=message):
        profile_from_dict(_profile(training))


def test_regression_refuses_augmentation_and_label_smoothing():
    with pytest.raises(ConfigError, match="augmentation must be 'none'"):
        profile_from_dict(_profile({"augmentation": "authors"}, "regression"))
    with pytest.raises(ConfigError, match="label_smoothing applies to cross-entropy only"):
        profile_from_dict(_profile({"label_smoothing": 0.1}, "regression"))
