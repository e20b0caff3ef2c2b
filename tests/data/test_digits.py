"""The bundled 8x8 digits: scaling, a fixed stratified split, no overlap."""
from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from diamlib.data import load_dataset
from diamlib.data.digits import stratified_split


def test_digits_split_sizes_scaling_and_classes():
    train = load_dataset("digits", split="train")
    test = load_dataset("digits", split="test")
    assert (train.n, test.n) == (1258, 539)
    assert train.images.shape[1:] == (8, 8) and train.images.dtype == np.uint8
    assert train.images.max() == 255 and train.images.min() == 0
    assert train.classes == tuple(str(d) for d in range(10))
    # 30% of every class in the test set (rounded)
    full_counts = np.bincount(load_digits().target)
    np.testing.assert_array_equal(np.bincount(test.targets), np.round(0.3 * full_counts).astype(int))


def test_digits_split_is_fixed_disjoint_and_covers_everything():
    bunch = load_digits()
    scaled = np.round(bunch.images * 255 / 16).astype(np.uint8).reshape(len(bunch.images), -1)
    train = load_dataset("digits", split="train", rng_seed=5)
    test = load_dataset("digits", split="test", rng_seed=9)
    again = load_dataset("digits", split="test")
    np.testing.assert_array_equal(test.images, again.images)  # rng_seed does not move the split
    rows = {row.tobytes(): i for i, row in enumerate(scaled)}
    train_ids = {rows[im.reshape(-1).tobytes()] for im in train.images}
    test_ids = {rows[im.reshape(-1).tobytes()] for im in test.images}
    assert not train_ids & test_ids
    assert len(train_ids | test_ids) == len({r.tobytes() for r in scaled})


def test_stratified_split_partitions_indices():
    labels = np.array([0] * 10 + [1] * 5)
    train, test = stratified_split(labels, 0.4, np.random.default_rng(0))
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(15))
    assert np.bincount(labels[test]).tolist() == [4, 2]
