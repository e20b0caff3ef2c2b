"""The registry: names per task, unknown names and options, and the ArrayDataset checks."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.data import DATASETS, ArrayDataset, dataset_names, load_dataset

PAPER_CLASSIFICATION = {"mnist", "fashion-mnist", "kmnist", "emnist-letters", "emnist-digits", "cifar10", "cifar100"}


def test_names_per_task():
    classification = set(dataset_names("classification"))
    regression = set(dataset_names("regression"))
    assert PAPER_CLASSIFICATION | {"digits"} == classification
    assert regression == {"landmarks-fashion-mnist", "landmarks-digits", "celeba", "lfw-net"}
    assert set(dataset_names()) == classification | regression
    assert {name for name, spec in DATASETS.items() if spec.offline} == {
        "fashion-mnist", "digits", "landmarks-fashion-mnist", "landmarks-digits"}
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        dataset_names("ranking")


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        load_dataset("fashion_mnist", split="train")
    message = str(info.value)
    assert "unknown dataset 'fashion_mnist'" in message and "Did you mean 'fashion-mnist'" in message
    assert all(name in message for name in dataset_names())


def test_bad_split_and_unknown_options():
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("digits", split="valid")
    with pytest.raises(TypeError, match="does not take the option.*canvas_scale.*valid options: none"):
        load_dataset("digits", split="train", canvas_scale=2.0)
    with pytest.raises(TypeError, match="image_size.*valid options: canvas_scale"):
        load_dataset("landmarks-digits", split="train", image_size=64)


def test_array_dataset_properties_and_validation():
    images = np.zeros((4, 5, 6, 3), dtype=np.uint8)
    ds = ArrayDataset("toy", images, np.array([0, 1, 2, 1]), "classification", ("a", "b", "c"))
    assert (ds.n, len(ds), ds.n_outputs, ds.channels, ds.image_shape) == (4, 4, 3, 3, (5, 6, 3))
    reg = ArrayDataset("toy", images[..., 0], np.full((4, 10), 0.5, np.float32), "regression", None)
    assert (reg.n_outputs, reg.channels) == (10, 1)
    with pytest.raises(TypeError, match="uint8"):
        ArrayDataset("toy", images.astype(np.float32), np.zeros(4, np.int64), "classification", ("a", "b"))
    with pytest.raises(ValueError, match="class labels must lie in 0..1"):
        ArrayDataset("toy", images, np.array([0, 1, 2, 0]), "classification", ("a", "b"))
    with pytest.raises(TypeError, match="int64"):
        ArrayDataset("toy", images, np.array([0, 1, 0, 0], np.int32), "classification", ("a", "b"))
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        ArrayDataset("toy", images, np.full((4, 2), 1.5, np.float32), "regression", None)
    with pytest.raises(ValueError, match="task must be one of"):
        ArrayDataset("toy", images, np.zeros(4, np.int64), "ranking", ("a", "b"))
