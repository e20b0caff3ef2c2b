"""Training-time augmentation of network inputs, drawn from a seeded generator.

The authors' training script (``train_net.py`` of their public code, OFA's ImageNet data
provider with ``resize_scale=0.08`` and ``distort_color="tf"``) augments every training batch
with a random resized crop, a horizontal flip and a colour jitter (brightness 32/255,
saturation 0.5). :func:`augment_batch` applies the same three operations to a batch of
already normalised inputs, drawing every random number from one ``numpy.random.Generator``
so that a run's training is reproducible from its seed alone (no global torch RNG).

References
----------
Sec. 6.1 of the paper (training of the target models); OFA's ImageNet training transforms.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torchvision.ops import roi_align

from diamlib.data.inputs import LUMA_WEIGHTS, normalisation, to_device

#: Random resized crop: fraction of the image area and aspect-ratio range (torchvision's).
CROP_AREA = (0.08, 1.0)
CROP_ASPECT = (3 / 4, 4 / 3)
CROP_ATTEMPTS = 10
#: Colour jitter of OFA's "tf" setting: brightness +-32/255 (as a factor), saturation +-0.5.
BRIGHTNESS = 32 / 255
SATURATION = 0.5


def random_resized_boxes(n: int, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Crop boxes of the random resized crop, one per image.

    For each image, up to ``CROP_ATTEMPTS`` (area fraction, log aspect ratio) pairs are drawn
    uniformly; the first whose box fits is placed uniformly at random, otherwise the whole
    image is kept (torchvision's ``RandomResizedCrop`` rule for a square image).

    Parameters
    ----------
    n : int
        Number of images.
    height, width : int
        Image size in pixels.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float64, shape (n, 4)
        ``x0, y0, x1, y1`` in pixel coordinates (``x1 - x0`` = crop width).
    """
    area = height * width
    fractions = rng.uniform(*CROP_AREA, size=(n, CROP_ATTEMPTS))
    log_aspects = rng.uniform(math.log(CROP_ASPECT[0]), math.log(CROP_ASPECT[1]), size=(n, CROP_ATTEMPTS))
    aspects = np.exp(log_aspects)
    widths = np.rint(np.sqrt(area * fractions * aspects))
    heights = np.rint(np.sqrt(area * fractions / aspects))
    fits = (widths > 0) & (widths <= width) & (heights > 0) & (heights <= height)
    first = np.argmax(fits, axis=1)
    any_fit = fits.any(axis=1)
    rows = np.arange(n)
    w = np.where(any_fit, widths[rows, first], width)
    h = np.where(any_fit, heights[rows, first], height)
    positions = rng.random((n, 2))
    x0 = np.floor(positions[:, 0] * (width - w + 1))
    y0 = np.floor(positions[:, 1] * (height - h + 1))
    return np.stack([x0, y0, x0 + w, y0 + h], axis=1)


def augment_batch(inputs: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The authors' training augmentation of one batch of normalised inputs.

    Random resized crop (resized back to the input size by bilinear sampling at pixel
    centres), horizontal flip with
    probability 1/2, then brightness (factor uniform in ``1 +- 32/255``) and saturation
    (factor uniform in ``1 +- 0.5``; no effect on grey images) on the un-normalised
    ``[0, 1]`` values, clipped to ``[0, 1]`` and normalised again.

    Parameters
    ----------
    inputs : float tensor, shape (b, c, r, r), c in {1, 3}
        Output of :func:`diamlib.data.inputs.to_model_input`.
    rng : numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    float tensor, same shape as ``inputs`` (a new tensor; ``inputs`` is unchanged).
    """
    if inputs.ndim != 4 or inputs.shape[1] not in (1, 3):
        raise ValueError(f"augment_batch expects (b, 1 or 3, h, w) inputs, got {tuple(inputs.shape)}")
    n, channels, height, width = inputs.shape
    if n == 0:
        return inputs.clone()
    device = inputs.device
    boxes = torch.from_numpy(random_resized_boxes(n, height, width, rng)).to(inputs.dtype)
    rois = to_device(torch.cat([torch.arange(n, dtype=inputs.dtype)[:, None], boxes], dim=1), device)
    x = roi_align(inputs, rois, output_size=(height, width), spatial_scale=1.0, sampling_ratio=1, aligned=True)
    flip = to_device(rng.random(n) < 0.5, device)
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    mean, std = (to_device(t.to(inputs.dtype), device) for t in normalisation(channels))
    x = x * std + mean
    brightness = to_device(rng.uniform(1 - BRIGHTNESS, 1 + BRIGHTNESS, n), device).to(x.dtype)
    x = (x * brightness[:, None, None, None]).clamp(0.0, 1.0)
    saturation = to_device(rng.uniform(1 - SATURATION, 1 + SATURATION, n), device).to(x.dtype)
    if channels == 3:
        grey = (x * to_device(torch.tensor(LUMA_WEIGHTS, dtype=x.dtype), device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        x = (grey + saturation[:, None, None, None] * (x - grey)).clamp(0.0, 1.0)
    return ((x - mean) / std).contiguous()
