from __future__ import annotations

import pytest

from diamlib.data import load_dataset
from diamlib.data.flat import pca_inputs


@pytest.fixture(scope="session")
def digits_flat():
    """Real digits as 20 whitened principal components: (train_x, train_y, test_x, test_y)."""
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    train_x, test_x = pca_inputs(train.images[:600], test.images[:200], resolution=8, n_components=20)
    return train_x, train.targets[:600], test_x, test.targets[:200]


@pytest.fixture(scope="session")
def landmarks_flat():
    """The landmark-regression task on digits as flat inputs: (train_x, train_y, test_x, test_y)."""
    train, test = load_dataset("landmarks-digits", split="train"), load_dataset("landmarks-digits", split="test")
    train_x, test_x = pca_inputs(train.images[:500], test.images[:150], resolution=16, n_components=20)
    return train_x, train.targets[:500], test_x, test.targets[:150]
