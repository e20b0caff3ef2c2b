"""An embedded landmark-regression task built from real images, runnable offline.

Each source image (e.g. a Fashion-MNIST item) is placed on a larger, black canvas under a
random similarity transform (rotation, isotropic scale, translation). The regression target
is where five fixed keypoints of the source frame land on the canvas, as
``(x1, y1, ..., x5, y5)`` divided by the canvas size, so every value lies in [0, 1]. The
keypoints mimic the five facial landmarks of CelebA and LFW-NET, in the same order:
"left eye" (1/4, 1/4), "right eye" (3/4, 1/4), "nose" (1/2, 1/2), "left mouth corner"
(1/4, 3/4) and "right mouth corner" (3/4, 3/4), as fractions of the source width and height.

Coordinates are continuous: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``, so its
centre is ``(j + 0.5, i + 0.5)``; a keypoint at fraction ``f`` of a width ``w`` sits at ``f * w``.
The forward map of source point ``p`` is ``q = c_canvas + t + s R(theta) (p - c_source)``.
The translation ``t`` of each image is drawn uniformly from ``[-max_translation, max_translation]``
times the canvas size, narrowed where needed so that all five keypoints stay on the canvas.

References
----------
Paper Sec. 6.6 (deep regression for facial landmark detection); this task is an offline
stand-in with the same output layout (5 landmarks, 10 outputs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

#: Keypoints as (x, y) fractions of the source frame, in landmark order.
KEYPOINT_FRACTIONS = np.array(
    [[0.25, 0.25], [0.75, 0.25], [0.50, 0.50], [0.25, 0.75], [0.75, 0.75]], dtype=np.float64
)
KEYPOINT_NAMES = ("left eye", "right eye", "nose", "left mouth corner", "right mouth corner")

#: Defaults of the task's options (also the fields of the profile's ``landmarks`` section).
DEFAULT_OPTIONS = {"canvas_scale": 2.0, "max_rotation_deg": 30.0, "scale_range": (0.7, 1.1),
                   "max_translation": 0.25}
_WARP_BATCH = 1024


@dataclass(frozen=True)
class SimilarityTransforms:
    """One similarity transform per image.

    Attributes
    ----------
    rotation : ndarray, shape (n,), radians
    scale : ndarray, shape (n,)
    translation : ndarray, shape (n, 2), canvas pixels (x, y), relative to the canvas centre
    """

    rotation: np.ndarray
    scale: np.ndarray
    translation: np.ndarray

    def linear(self) -> np.ndarray:
        """The matrices ``s R(theta)``, shape (n, 2, 2), acting on (x, y) column vectors."""
        cos, sin = np.cos(self.rotation), np.sin(self.rotation)
        rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
        return self.scale[:, None, None] * rot


def canvas_size_for(source_hw: tuple[int, int], canvas_scale: float) -> int:
    """Side length of the square canvas: ``round(canvas_scale * max(H, W))``."""
    return int(round(canvas_scale * max(source_hw)))


def keypoints_in_source(source_hw: tuple[int, int]) -> np.ndarray:
    """The five keypoints in continuous source coordinates, shape (5, 2) as (x, y)."""
    height, width = source_hw
    return KEYPOINT_FRACTIONS * np.array([width, height], dtype=np.float64)


def check_options(source_hw: tuple[int, int], *, canvas_scale: float, max_rotation_deg: float,
                  scale_range: tuple[float, float], max_translation: float) -> None:
    """Raise ValueError if the options are out of range or the keypoints cannot fit the canvas."""
    if not 1.0 <= canvas_scale <= 8.0:
        raise ValueError(f"canvas_scale must lie in [1, 8], got {canvas_scale}")
    if not 0.0 <= max_rotation_deg <= 180.0:
        raise ValueError(f"max_rotation_deg must lie in [0, 180], got {max_rotation_deg}")
    if len(scale_range) != 2 or not 0.0 < scale_range[0] <= scale_range[1]:
        raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range}")
    if not 0.0 <= max_translation <= 0.5:
        raise ValueError(f"max_translation (a fraction of the canvas) must lie in [0, 0.5], got {max_translation}")
    canvas = canvas_size_for(source_hw, canvas_scale)
    offsets = keypoints_in_source(source_hw) - np.array(source_hw[::-1]) / 2.0
    radius = scale_range[1] * np.linalg.norm(offsets, axis=1).max()
    if radius > canvas / 2.0:
        raise ValueError(
            f"with scale up to {scale_range[1]} the keypoints can fall off a {canvas}-pixel canvas; "
            f"raise canvas_scale or lower the upper end of scale_range"
        )


def sample_transforms(n: int, source_hw: tuple[int, int], canvas: int, *, max_rotation_deg: float,
                      scale_range: tuple[float, float], max_translation: float,
                      rng: np.random.Generator) -> SimilarityTransforms:
    """Draw ``n`` similarity transforms that keep all keypoints on the canvas.

    Parameters
    ----------
    n : number of images
    source_hw : (H, W) of the source images
    canvas : canvas side length in pixels
    max_rotation_deg : rotation drawn uniformly from [-max, max] degrees
    scale_range : scale drawn uniformly from [low, high]
    max_translation : translation per axis drawn uniformly from [-max, max] * canvas, narrowed
        so that every keypoint lands inside ``[0, canvas]``
    rng : numpy Generator

    Returns
    -------
    SimilarityTransforms with arrays of length n.
    """
    rotation = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg, size=n))
    scale = rng.uniform(scale_range[0], scale_range[1], size=n)
    unit = rng.uniform(0.0, 1.0, size=(n, 2))
    untranslated = SimilarityTransforms(rotation, scale, np.zeros((n, 2)))
    offsets = keypoints_in_source(source_hw) - np.array(source_hw[::-1]) / 2.0     # (5, 2)
    moved = np.einsum("nij,kj->nki", untranslated.linear(), offsets)              # (n, 5, 2)
    limit = max_translation * canvas
    low = np.maximum(-limit, -canvas / 2.0 - moved.min(axis=1))
    high = np.minimum(limit, canvas / 2.0 - moved.max(axis=1))
    high = np.maximum(high, low)
    return SimilarityTransforms(rotation, scale, low + unit * (high - low))


def transform_points(points: np.ndarray, transforms: SimilarityTransforms, source_hw: tuple[int, int],
                     canvas: int) -> np.ndarray:
    """Map source points onto the canvas, one transform per image.

    Parameters
    ----------
    points : ndarray, shape (k, 2), continuous source (x, y)
    transforms : SimilarityTransforms of length n
    source_hw : (H, W)
    canvas : canvas side length

    Returns
    -------
    ndarray, shape (n, k, 2): continuous canvas (x, y).
    """
    centre = np.array(source_hw[::-1], dtype=np.float64) / 2.0
    moved = np.einsum("nij,kj->nki", transforms.linear(), points - centre)
    return moved + canvas / 2.0 + transforms.translation[:, None, :]


def warp_to_canvas(images: np.ndarray, transforms: SimilarityTransforms, canvas: int) -> np.ndarray:
    """Render each image on a black canvas under its transform (bilinear sampling).

    Parameters
    ----------
    images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3)
    transforms : SimilarityTransforms of length n
    canvas : canvas side length

    Returns
    -------
    ndarray of uint8, shape (n, canvas, canvas) or (n, canvas, canvas, 3).
    """
    colour = images.ndim == 4
    height, width = images.shape[1:3]
    inverse = np.linalg.inv(transforms.linear())                                   # (n, 2, 2)
    centre = np.array([width, height], dtype=np.float64) / 2.0
    shift = centre - np.einsum("nij,nj->ni", inverse, canvas / 2.0 + transforms.translation)
    to_unit = np.array([2.0 / width, 2.0 / height])
    matrix = torch.from_numpy((to_unit[None, :, None] * inverse).astype(np.float32))       # (n, 2, 2)
    offset = torch.from_numpy((to_unit * shift - 1.0).astype(np.float32))                  # (n, 2)
    centres = torch.arange(canvas, dtype=torch.float32) + 0.5
    grid_y, grid_x = torch.meshgrid(centres, centres, indexing="ij")
    query = torch.stack([grid_x, grid_y], dim=-1)                                           # (C, C, 2)
    out = np.empty((len(images), canvas, canvas, *((3,) if colour else ())), dtype=np.uint8)
    for start in range(0, len(images), _WARP_BATCH):
        stop = min(start + _WARP_BATCH, len(images))
        batch = torch.from_numpy(images[start:stop]).float()
        batch = batch.permute(0, 3, 1, 2) if colour else batch[:, None]
        grid = torch.einsum("bij,yxj->byxi", matrix[start:stop], query) + offset[start:stop, None, None, :]
        warped = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        warped = warped.round_().clamp_(0, 255).to(torch.uint8)
        out[start:stop] = (warped.permute(0, 2, 3, 1) if colour else warped[:, 0]).numpy()
    return out


def embed_landmark_task(images: np.ndarray, *, rng: np.random.Generator, canvas_scale: float = 2.0,
                        max_rotation_deg: float = 30.0, scale_range: tuple[float, float] = (0.7, 1.1),
                        max_translation: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Turn images into the landmark-regression task.

    Parameters
    ----------
    images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3)
    rng : numpy Generator (draws the transforms)
    canvas_scale : canvas side = ``round(canvas_scale * max(H, W))``
    max_rotation_deg, scale_range, max_translation : ranges of the random similarity transform
        (see :func:`sample_transforms`)

    Returns
    -------
    canvas_images : ndarray of uint8, shape (n, C, C) or (n, C, C, 3)
    targets : ndarray of float32, shape (n, 10), ``(x1, y1, ..., x5, y5) / C`` in [0, 1]

    References
    ----------
    Paper Sec. 6.6 (five-landmark regression, 10 outputs).
    """
    source_hw = (int(images.shape[1]), int(images.shape[2]))
    scale_range = (float(scale_range[0]), float(scale_range[1]))
    check_options(source_hw, canvas_scale=canvas_scale, max_rotation_deg=max_rotation_deg,
                  scale_range=scale_range, max_translation=max_translation)
    canvas = canvas_size_for(source_hw, canvas_scale)
    transforms = sample_transforms(len(images), source_hw, canvas, max_rotation_deg=max_rotation_deg,
                                   scale_range=scale_range, max_translation=max_translation, rng=rng)
    points = transform_points(keypoints_in_source(source_hw), transforms, source_hw, canvas)
    targets = np.clip(points.reshape(len(images), -1) / canvas, 0.0, 1.0).astype(np.float32)
    return warp_to_canvas(images, transforms, canvas), targets

