"""CIFAR loaders on tiny pickled batches in the official python-version layout."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from diamlib.data import load_dataset


def _write_batch(path, data, labels, label_key):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({b"data": data, label_key: labels, b"batch_label": b"x"}, f)


def test_cifar10_batches_are_concatenated_in_order_and_reshaped(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, size=(3, 3072), dtype=np.uint8) for _ in range(5)]
    for i, data in enumerate(batches, 1):
        _write_batch(folder / f"data_batch_{i}", data, [i % 10, (i + 1) % 10, 0], b"labels")
    _write_batch(folder / "test_batch", batches[0][:2], [4, 5], b"labels")
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names, b"num_vis": 3072}, f)

    train = load_dataset("cifar10", split="train", data_root=tmp_path)
    assert train.images.shape == (15, 32, 32, 3) and train.channels == 3
    assert train.targets[:3].tolist() == [1, 2, 0] and train.classes[9] == "truck"
    # channel-major rows: pixel (row 0, col 1) of image 0 in channel c is data[c * 1024 + 1]
    first = batches[0][0]
    np.testing.assert_array_equal(train.images[0, 0, 1], [first[1], first[1024 + 1], first[2048 + 1]])
    test = load_dataset("cifar10", split="test", data_root=tmp_path)
    assert test.n == 2 and test.targets.tolist() == [4, 5]


def test_cifar100_uses_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    data = np.zeros((4, 3072), dtype=np.uint8)
    for split in ("train", "test"):
        path = folder / split
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump({b"data": data, b"fine_labels": [99, 0, 5, 42], b"coarse_labels": [1, 1, 1, 1]}, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(100)],
                     b"coarse_label_names": [b"x"] * 20}, f)
    ds = load_dataset("cifar100", split="test", data_root=tmp_path)
    assert ds.targets.tolist() == [99, 0, 5, 42] and ds.n_outputs == 100 and ds.classes[42] == "c42"


def test_missing_cifar_lists_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("cifar10", split="train", data_root=tmp_path)
    message = str(info.value)
    assert "data_batch_5" in message and "batches.meta" in message
    assert str(tmp_path / "cifar-10-batches-py") in message and "download: true" in message


def test_corrupt_batch_is_reported(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name in ("test", "meta"):
        (folder / name).write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a readable CIFAR batch"):
        load_dataset("cifar100", split="test", data_root=tmp_path)


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_batch_that_would_run_code_is_refused(tmp_path, capsys):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                 "test_batch", "batches.meta"):
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": _RunsCode()}, f)
    with pytest.raises(ValueError, match="refusing to load builtins.print"):
        load_dataset("cifar10", split="test", data_root=tmp_path)
    assert "must never run" not in capsys.readouterr().out
