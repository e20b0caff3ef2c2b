"""subsample (stratified for classification) and dataset_summary."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.data import ArrayDataset, dataset_summary, subsample
from diamlib.data.subsets import stratified_counts


def _classification(counts):
    labels = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    images = np.arange(len(labels), dtype=np.uint8)[:, None, None].repeat(2, 1).repeat(2, 2)
    return ArrayDataset("toy", images, labels, "classification", tuple(f"c{i}" for i in range(len(counts))))


def test_stratified_counts_are_proportional_and_exact():
    assert stratified_counts(np.array([50, 30, 20]), 10).tolist() == [5, 3, 2]
    assert stratified_counts(np.array([5, 5, 5]), 4).tolist() == [2, 1, 1]  # tie -> lower class index
    assert stratified_counts(np.array([1, 99]), 100).tolist() == [1, 99]


def test_subsample_is_stratified_ordered_and_reproducible():
    ds = _classification([60, 30, 10])
    sub = subsample(ds, 20, np.random.default_rng(3))
    assert np.bincount(sub.targets).tolist() == [12, 6, 2]
    order = sub.images[:, 0, 0]
    assert np.all(np.diff(order.astype(int)) > 0)  # original order kept, no repeats
    again = subsample(ds, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(sub.images, again.images)
    assert sub.classes == ds.classes and sub.name == "toy"


def test_subsample_regression_and_errors():
    images = np.zeros((10, 3, 3), dtype=np.uint8)
    targets = np.linspace(0, 1, 20, dtype=np.float32).reshape(10, 2)
    ds = ArrayDataset("reg", images, targets, "regression", None)
    sub = subsample(ds, 4, np.random.default_rng(0))
    assert sub.n == 4 and sub.task == "regression"
    assert set(map(tuple, sub.targets)) <= set(map(tuple, targets))
    with pytest.raises(ValueError, match="cannot take 11 examples from a set of 10"):
        subsample(ds, 11, np.random.default_rng(0))
    with pytest.raises(ValueError, match="positive integer"):
        subsample(ds, 0, np.random.default_rng(0))


def test_summary():
    summary = dataset_summary(_classification([3, 1]))
    assert summary == {"name": "toy", "task": "classification", "n": 4, "image_shape": [2, 2], "channels": 1,
                       "n_outputs": 2, "class_counts": {"c0": 3, "c1": 1}}
    targets = np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32)
    reg = dataset_summary(ArrayDataset("r", np.zeros((2, 4, 4, 3), np.uint8), targets, "regression", None))
    assert reg["n_outputs"] == 2 and reg["channels"] == 3
    assert reg["target_min"] == [0.0, 0.25] and reg["target_max"] == [1.0, 0.5] and reg["target_mean"] == [0.5, 0.375]
