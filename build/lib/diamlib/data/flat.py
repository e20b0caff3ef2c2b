"""Flat feature matrices for scikit-learn target models: pixels -> PCA -> standardised.

Models that take a feature vector instead of an image (:mod:`diamlib.zoo.sklearn_models`)
see every image resized to ``resolution`` pixels per side (grayscale, as
:func:`diamlib.data.to_model_input` normalises it), flattened, projected onto the first
``n_components`` principal components of the whole training set, and scaled to unit variance
per component (PCA whitening). The projection is fitted without labels, on the training set
only, and does not depend on the run's seed (a full SVD, no random start), so every seed and
strategy of a dataset sees the same inputs; the test set is transformed with it.

References
----------
Sec. 6.1 of the paper (target models see the same inputs); the inputs are shared by all
strategies like the image inputs of the network models.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from diamlib.data.inputs import to_model_input

__all__ = ["flat_pixels", "pca_inputs"]


def flat_pixels(images: np.ndarray, resolution: int) -> np.ndarray:
    """Images (n, H, W) or (n, H, W, 3) uint8 -> normalised grayscale pixels (n, resolution**2) float64."""
    chunks = [to_model_input(images[start:start + 4096], resolution=resolution, channels=1).reshape(
        min(4096, len(images) - start), -1).numpy() for start in range(0, len(images), 4096)]
    return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros((0, resolution * resolution))


def pca_inputs(train_images: np.ndarray, test_images: np.ndarray, *, resolution: int,
               n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Whitened principal components of the training images, for the training and test images.

    Parameters
    ----------
    train_images, test_images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3)
    resolution : int
        Side the images are resized to before flattening.
    n_components : int
        Principal components kept; at most ``min(n_train, resolution**2)``.

    Returns
    -------
    train_x : ndarray of float32, shape (n_train, n_components)
        Zero mean and unit variance per column.
    test_x : ndarray of float32, shape (n_test, n_components)

    Raises
    ------
    ValueError
        ``n_components`` larger than the training images allow (the message gives the limit).
    """
    train_pixels = flat_pixels(train_images, resolution)
    limit = min(train_pixels.shape)
    if not 1 <= n_components <= limit:
        raise ValueError(
            f"pca_components = {n_components} but {len(train_pixels)} training images of "
            f"{resolution}x{resolution} pixels allow 1 .. {limit}; lower the zoo's pca_components "
            f"or raise train_size / resolution"
        )
    mean = train_pixels.mean(axis=0)
    with threadpool_limits(limits=1):  # one thread, as every worker of the grid
        _, singular_values, components = np.linalg.svd(train_pixels - mean, full_matrices=False)
    components = components[:n_components]
    # a deterministic sign per component (largest loading positive), as sklearn's svd_flip does
    signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    scale = singular_values[:n_components] / np.sqrt(max(len(train_pixels) - 1, 1))
    scale = np.where(scale > 1e-12, scale, 1.0)

    def project(pixels: np.ndarray) -> np.ndarray:
        return (((pixels - mean) @ components.T) / scale).astype(np.float32)

    return project(train_pixels), project(flat_pixels(test_images, resolution))
