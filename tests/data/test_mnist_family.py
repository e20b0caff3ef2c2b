"""MNIST-family loaders on tiny IDX fixtures in the real layouts (and the real Fashion-MNIST if installed)."""
from __future__ import annotations

import dataclasses
import string

import numpy as np
import pytest
import torchvision.datasets

from diamlib.data import load_dataset
from diamlib.data.mnist_family import DEBIAN_FASHION_MNIST_DIR, IDX_SOURCES


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly if any torchvision dataset class is constructed (it could download)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("torchvision was called although download=False")
    for name in ("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "CelebA"):
        monkeypatch.setattr(torchvision.datasets, name, forbidden)


def test_mnist_from_torchvision_layout(tmp_path, mnist_like_folder, no_network):
    written = mnist_like_folder(tmp_path / "MNIST" / "raw")
    for split in ("train", "test"):
        ds = load_dataset("mnist", split=split, data_root=tmp_path)
        np.testing.assert_array_equal(ds.images, written[split][0])
        np.testing.assert_array_equal(ds.targets, written[split][1])
        assert ds.targets.dtype == np.int64 and ds.task == "classification"
        assert ds.classes == tuple("0123456789") and ds.n_outputs == 10 and ds.channels == 1


def test_kmnist_gzipped_in_named_folder(tmp_path, mnist_like_folder, no_network):
    written = mnist_like_folder(tmp_path / "kmnist", gz=True)
    ds = load_dataset("kmnist", split="test", data_root=tmp_path)
    assert ds.n == 6 and ds.classes[:3] == ("o", "ki", "su")
    np.testing.assert_array_equal(ds.images, written["test"][0])


def test_emnist_letters_shift_labels_and_transpose_images(tmp_path, mnist_like_folder, no_network):
    written = mnist_like_folder(tmp_path / "EMNIST" / "raw", prefix="emnist-letters-", n_classes=26, first_label=1)
    ds = load_dataset("emnist-letters", split="train", data_root=tmp_path)
    images, labels = written["train"]
    np.testing.assert_array_equal(ds.targets, labels.astype(np.int64) - 1)
    assert ds.targets.min() == 0 and ds.classes == tuple(string.ascii_lowercase)
    np.testing.assert_array_equal(ds.images, images.transpose(0, 2, 1))
    assert ds.images.flags["C_CONTIGUOUS"]


def test_emnist_digits_from_gzip_subfolder(tmp_path, mnist_like_folder, no_network):
    written = mnist_like_folder(tmp_path / "EMNIST" / "raw" / "gzip", prefix="emnist-digits-", gz=True)
    ds = load_dataset("emnist-digits", split="test", data_root=tmp_path)
    np.testing.assert_array_equal(ds.targets, written["test"][1])
    assert ds.n_outputs == 10


def test_labels_outside_the_class_range_are_rejected(tmp_path, mnist_like_folder, no_network):
    mnist_like_folder(tmp_path / "EMNIST" / "raw", prefix="emnist-letters-", n_classes=26, first_label=0)
    with pytest.raises(ValueError, match="expected 1..26; wrong file"):
        load_dataset("emnist-letters", split="train", data_root=tmp_path)


def test_user_files_take_precedence_over_system_copy(tmp_path, mnist_like_folder, no_network):
    written = mnist_like_folder(tmp_path / "FashionMNIST" / "raw")
    ds = load_dataset("fashion-mnist", split="train", data_root=tmp_path)
    assert ds.n == 12 and ds.classes[0] == "T-shirt/top"
    np.testing.assert_array_equal(ds.images, written["train"][0])


def test_missing_files_error_names_files_folders_and_fixes(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("mnist", split="train", data_root=tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "download: true" in message


def test_missing_fashion_mnist_mentions_debian_package(tmp_path, monkeypatch, no_network):
    monkeypatch.setitem(IDX_SOURCES, "fashion-mnist",
                        dataclasses.replace(IDX_SOURCES["fashion-mnist"], system_dirs=(tmp_path / "none",)))
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist", split="test", data_root=tmp_path)


def test_download_goes_through_torchvision_into_data_root(tmp_path, monkeypatch, mnist_like_folder):
    calls = []

    def fake_kmnist(root, train, download):
        calls.append((root, train, download))
        mnist_like_folder(tmp_path / "KMNIST" / "raw", gz=True)

    monkeypatch.setattr(torchvision.datasets, "KMNIST", fake_kmnist)
    ds = load_dataset("kmnist", split="train", data_root=tmp_path, download=True)
    assert calls == [(str(tmp_path), True, True)] and ds.n == 12
    load_dataset("kmnist", split="train", data_root=tmp_path, download=True)
    assert len(calls) == 1  # files present: no second download


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    def offline(root, train, download, split):
        raise OSError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "EMNIST", offline)
    with pytest.raises(RuntimeError, match="downloading into .*EMNIST.*network unreachable"):
        load_dataset("emnist-digits", split="train", data_root=tmp_path, download=True)


@pytest.mark.skipif(not (DEBIAN_FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_debian_package(tmp_path, no_network):
    test = load_dataset("fashion-mnist", split="test", data_root=tmp_path)
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(test.targets), np.full(10, 1000))
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]  # ankle boot, pullover, trouser, trouser, shirt
