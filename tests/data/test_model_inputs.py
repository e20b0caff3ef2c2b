"""to_model_input: shapes, scaling, ImageNet normalisation, resizing, channel handling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from diamlib.data import to_model_input
from diamlib.data.inputs import GRAY_MEAN, GRAY_STD, IMAGENET_MEAN, IMAGENET_STD


def test_grayscale_is_replicated_and_normalised_per_channel():
    images = torch.full((2, 4, 4), 255, dtype=torch.uint8)
    images[1] = 0
    x = to_model_input(images, resolution=4)
    assert x.shape == (2, 3, 4, 4) and x.dtype == torch.float32
    for c in range(3):
        assert torch.allclose(x[0, c], torch.tensor((1.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]))
        assert torch.allclose(x[1, c], torch.tensor(-IMAGENET_MEAN[c] / IMAGENET_STD[c]))


def test_colour_keeps_channel_order():
    images = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    images[..., 0] = 255  # pure red
    x = to_model_input(torch.from_numpy(images), resolution=2)
    expected = [(1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], -IMAGENET_MEAN[1] / IMAGENET_STD[1],
                -IMAGENET_MEAN[2] / IMAGENET_STD[2]]
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), expected, rtol=1e-6)


def test_resize_is_bilinear_and_preserves_constant_images():
    images = torch.full((3, 28, 28), 128, dtype=torch.uint8)
    x = to_model_input(images, resolution=16)
    assert x.shape == (3, 3, 16, 16)
    assert torch.allclose(x[:, 0], torch.tensor((128 / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]), atol=1e-6)
    # a left-dark / right-bright image stays so after upsampling
    half = torch.zeros(1, 8, 8, dtype=torch.uint8)
    half[:, :, 4:] = 255
    up = to_model_input(half, resolution=32)
    assert up[0, 0, :, 0].max() < up[0, 0, :, -1].min()


def test_one_channel_output():
    gray = to_model_input(torch.full((1, 5, 5), 255, dtype=torch.uint8), resolution=5, channels=1)
    assert gray.shape == (1, 1, 5, 5)
    assert torch.allclose(gray, torch.tensor((1 - GRAY_MEAN) / GRAY_STD))
    colour = to_model_input(torch.full((1, 5, 5, 3), 255, dtype=torch.uint8), resolution=5, channels=1)
    assert torch.allclose(colour, gray)


def test_empty_batch_and_bad_inputs():
    assert to_model_input(torch.zeros(0, 8, 8, dtype=torch.uint8), resolution=4).shape == (0, 3, 4, 4)
    with pytest.raises(TypeError, match="uint8"):
        to_model_input(torch.zeros(1, 4, 4), resolution=4)
    with pytest.raises(ValueError, match="shape"):
        to_model_input(torch.zeros(1, 4, 4, 2, dtype=torch.uint8), resolution=4)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        to_model_input(torch.zeros(1, 4, 4, dtype=torch.uint8), resolution=4, channels=2)
