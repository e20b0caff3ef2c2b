"""The frozen supernet feature extractor, built on a randomly initialised supernet (no weights needed)."""
from __future__ import annotations

import numpy as np
import pytest

import diamlib.zoo.pretrained as pretrained
from diamlib.data import load_dataset
from diamlib.zoo.ofa_build import new_supernet
from diamlib.zoo.supernet_features import FEATURE_SUPERNET_WIDTH, load_feature_supernet, supernet_features


@pytest.fixture
def random_supernet(monkeypatch):
    """The ImageNet supernet replaced by an untrained one of the same architecture."""
    net = new_supernet(FEATURE_SUPERNET_WIDTH)
    monkeypatch.setattr(pretrained, "pretrained_supernet", lambda width_mult, weights_dir=None: net)
    return net


def test_largest_subnet_is_frozen_and_gives_1280_features(random_supernet):
    extractor = load_feature_supernet()
    assert not extractor.training
    assert not any(p.requires_grad for p in extractor.parameters())
    images = load_dataset("digits", split="train").images[:6]
    features = supernet_features(images, 32, batch_size=4)
    assert features.shape == (6, 1280) and features.dtype == np.float32
    np.testing.assert_allclose(features, supernet_features(images, 32, batch_size=6), rtol=1e-5, atol=1e-6)


def test_features_need_images():
    with pytest.raises(ValueError, match="batch_size must be positive"):
        supernet_features(np.zeros((2, 8, 8), dtype=np.uint8), 32, batch_size=0)
