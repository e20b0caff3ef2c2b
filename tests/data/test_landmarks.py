"""The embedded landmark task: conventions, where keypoints land, determinism, option checks."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.data import KEYPOINT_FRACTIONS, load_dataset
from diamlib.data.landmarks import (SimilarityTransforms, check_options, embed_landmark_task, keypoints_in_source,
                                    sample_transforms, transform_points, warp_to_canvas)


def _blob(size: int, centre_xy: np.ndarray, sigma: float = 1.2) -> np.ndarray:
    centres = np.arange(size) + 0.5
    gx = np.exp(-0.5 * ((centres - centre_xy[0]) / sigma) ** 2)
    gy = np.exp(-0.5 * ((centres - centre_xy[1]) / sigma) ** 2)
    return np.round(255 * np.outer(gy, gx)).astype(np.uint8)


def _centroid(image: np.ndarray) -> np.ndarray:
    weights = image.astype(np.float64)
    centres = np.arange(image.shape[0]) + 0.5
    return np.array([(weights.sum(0) * centres).sum(), (weights.sum(1) * centres).sum()]) / weights.sum()


def test_identity_transform_reproduces_the_image_and_the_keypoint_fractions():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 12, 12), dtype=np.uint8)
    canvas, targets = embed_landmark_task(images, rng=rng, canvas_scale=1.0, max_rotation_deg=0.0,
                                          scale_range=(1.0, 1.0), max_translation=0.0)
    np.testing.assert_array_equal(canvas, images)
    np.testing.assert_allclose(targets, np.tile(KEYPOINT_FRACTIONS.reshape(-1), (3, 1)), atol=1e-7)


def test_quarter_turn_rotates_clockwise_on_screen():
    image = np.arange(36, dtype=np.uint8).reshape(1, 6, 6)
    quarter = SimilarityTransforms(np.array([np.pi / 2]), np.array([1.0]), np.zeros((1, 2)))
    np.testing.assert_array_equal(warp_to_canvas(image, quarter, 6)[0], np.rot90(image[0], k=-1))
    # the top-left keypoint (1.5, 1.5) goes to the top-right (4.5, 1.5)
    moved = transform_points(keypoints_in_source((6, 6))[:1], quarter, (6, 6), 6)
    np.testing.assert_allclose(moved[0, 0], [4.5, 1.5], atol=1e-12)


@pytest.mark.parametrize("colour", [False, True])
def test_a_bright_spot_at_a_keypoint_lands_on_its_landmark(colour):
    size, per_keypoint = 20, 6
    images = np.stack([_blob(size, point) for point in keypoints_in_source((size, size))
                       for _ in range(per_keypoint)])
    if colour:
        images = np.repeat(images[..., None], 3, axis=-1)
    canvas, targets = embed_landmark_task(images, rng=np.random.default_rng(1), canvas_scale=2.0,
                                          max_rotation_deg=40.0, scale_range=(0.8, 1.2), max_translation=0.1)
    side = canvas.shape[1]
    assert side == 40 and targets.shape == (5 * per_keypoint, 10) and targets.dtype == np.float32
    for i in range(len(images)):
        k = i // per_keypoint
        spot = canvas[i, ..., 0] if colour else canvas[i]
        np.testing.assert_allclose(_centroid(spot), targets[i, 2 * k: 2 * k + 2] * side, atol=0.15)


def test_same_seed_same_arrays_other_seed_other_arrays():
    options = dict(canvas_scale=2.0, max_rotation_deg=30.0, scale_range=(0.7, 1.1), max_translation=0.25)
    first = load_dataset("landmarks-digits", split="test", rng_seed=3, **options)
    again = load_dataset("landmarks-digits", split="test", rng_seed=3, **options)
    other = load_dataset("landmarks-digits", split="test", rng_seed=4, **options)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.targets, again.targets)
    assert not np.array_equal(first.targets, other.targets)
    assert first.images.shape == (539, 16, 16) and first.task == "regression" and first.n_outputs == 10
    assert first.name == "landmarks-digits" and first.classes is None


def test_train_and_test_draw_different_transforms_for_the_same_seed():
    train = load_dataset("landmarks-digits", split="train", rng_seed=0)
    test = load_dataset("landmarks-digits", split="test", rng_seed=0)
    assert not np.allclose(train.targets[:10], test.targets[:10])


def test_keypoints_stay_on_the_canvas_and_ranges_are_respected():
    rng = np.random.default_rng(2)
    transforms = sample_transforms(4000, (28, 28), 56, max_rotation_deg=30.0, scale_range=(0.7, 1.1),
                                   max_translation=0.5, rng=rng)
    points = transform_points(keypoints_in_source((28, 28)), transforms, (28, 28), 56)
    assert points.min() >= -1e-9 and points.max() <= 56 + 1e-9
    assert np.abs(np.rad2deg(transforms.rotation)).max() <= 30.0
    assert transforms.scale.min() >= 0.7 and transforms.scale.max() <= 1.1
    assert np.abs(transforms.translation).max() <= 0.5 * 56
    # translations spread over their allowed range rather than piling up at zero
    assert np.abs(transforms.translation).mean() > 5.0


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="fall off"):
        check_options((28, 28), canvas_scale=1.0, max_rotation_deg=0.0, scale_range=(1.0, 1.5), max_translation=0.0)
    with pytest.raises(ValueError, match="scale_range"):
        check_options((28, 28), canvas_scale=2.0, max_rotation_deg=0.0, scale_range=(1.2, 1.0), max_translation=0.0)
    with pytest.raises(ValueError, match="max_translation"):
        load_dataset("landmarks-digits", split="test", max_translation=0.7)
