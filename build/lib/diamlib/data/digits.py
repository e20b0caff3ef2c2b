"""scikit-learn's bundled 8x8 handwritten digits: a small offline classification dataset.

The 1,797 images (values 0..16) are scaled to uint8 0..255. They are split once into a
training and a test set, stratified by class, with :data:`DIGITS_TEST_FRACTION` of each class
in the test set, drawn from ``child_rng(DIGITS_SPLIT_SEED, "digits-split")``. The split does
not depend on any run seed, so every run sees the same test set and the two sets never
overlap.

References
----------
Paper Sec. 6.1 (a small stand-in for its MNIST-family datasets, for CPU runs).
"""
from __future__ import annotations

import numpy as np

from diamlib.data.dataset import ArrayDataset
from diamlib.seeding import child_rng

DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0


def stratified_split(labels: np.ndarray, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train and test sets, keeping each class's proportion.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
    test_fraction : float in (0, 1)
        Fraction of each class put in the test set (rounded to the nearest integer).
    rng : numpy Generator

    Returns
    -------
    train_indices, test_indices : sorted int64 arrays that partition ``0 .. n-1``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = int(round(test_fraction * len(members)))
        test.append(rng.choice(members, size=n_test, replace=False))
    test_indices = np.sort(np.concatenate(test)).astype(np.int64)
    train_indices = np.setdiff1d(np.arange(len(labels)), test_indices).astype(np.int64)
    return train_indices, test_indices


def load_digits_dataset(*, split: str) -> ArrayDataset:
    """One split of the 8x8 digits.

    Returns
    -------
    ArrayDataset with images uint8 (n, 8, 8) and int64 labels (n,); n = 1258 (train) or 539 (test).

    References
    ----------
    Paper Sec. 6.1.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    train, test = stratified_split(labels, DIGITS_TEST_FRACTION, child_rng(DIGITS_SPLIT_SEED, "digits-split"))
    chosen = train if split == "train" else test
    return ArrayDataset(name="digits", images=images[chosen], targets=labels[chosen],
                        task="classification", classes=tuple(str(d) for d in range(10)))
