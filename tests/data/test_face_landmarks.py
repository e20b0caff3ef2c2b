"""CelebA and LFW-NET readers on tiny fixtures written in the real folder layouts and formats."""
from __future__ import annotations

import numpy as np
import pytest
import torchvision.datasets
from PIL import Image

from diamlib.data import load_dataset
from diamlib.data.celeba import LANDMARK_COLUMNS

CELEBA_LANDMARKS = {  # pixel coordinates in a 40 x 50 (width x height) aligned image
    "000001.jpg": [10, 20, 30, 20, 20, 30, 12, 40, 28, 40],
    "000002.jpg": [0, 0, 40, 50, 20, 25, 1, 2, 3, 4],
    "000003.jpg": [8, 18, 32, 19, 21, 29, 11, 41, 29, 39],
    "000004.jpg": [9, 19, 31, 21, 20, 31, 13, 42, 27, 41],
    "000005.jpg": [11, 21, 29, 22, 19, 28, 14, 39, 26, 38],
    "000006.jpg": [12, 22, 28, 23, 18, 27, 15, 38, 25, 37],
}
CELEBA_PARTITION = {"000001.jpg": 0, "000002.jpg": 2, "000003.jpg": 0, "000004.jpg": 1, "000005.jpg": 2,
                    "000006.jpg": 0}


def _colour(index: int) -> tuple[int, int, int]:
    return (40 * index, 100, 200 - 20 * index)


def write_celeba(root):
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    for i, name in enumerate(sorted(CELEBA_LANDMARKS), 1):
        Image.new("RGB", (40, 50), _colour(i)).save(folder / "img_align_celeba" / name, quality=95)
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{name} {part}\n" for name, part in CELEBA_PARTITION.items()))
    rows = "".join(f"{name} " + " ".join(f"{v:4d}" for v in values) + "\n" for name, values in CELEBA_LANDMARKS.items())
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{len(CELEBA_LANDMARKS)}\n{' '.join(LANDMARK_COLUMNS)}\n{rows}")
    return folder


def test_celeba_official_partition_normalised_landmarks_and_images(tmp_path):
    write_celeba(tmp_path)
    train = load_dataset("celeba", split="train", data_root=tmp_path, image_size=16)
    test = load_dataset("celeba", split="test", data_root=tmp_path, image_size=16)
    assert (train.n, test.n) == (3, 2) and train.images.shape == (3, 16, 16, 3)
    assert train.task == "regression" and train.n_outputs == 10 and train.classes is None
    scale = np.tile([40.0, 50.0], 5)
    np.testing.assert_allclose(train.targets[1], np.array(CELEBA_LANDMARKS["000003.jpg"]) / scale, rtol=1e-6)
    np.testing.assert_allclose(test.targets[0], np.array(CELEBA_LANDMARKS["000002.jpg"]) / scale, rtol=1e-6)
    assert test.targets[0, :4].tolist() == [0.0, 0.0, 1.0, 1.0]
    for ds, ids in ((train, (1, 3, 6)), (test, (2, 5))):
        for row, i in enumerate(ids):
            np.testing.assert_allclose(ds.images[row].reshape(-1, 3).mean(0), _colour(i), atol=3)


def test_celeba_cache_is_written_and_reused(tmp_path):
    folder = write_celeba(tmp_path)
    first = load_dataset("celeba", split="test", data_root=tmp_path, image_size=8)
    cache = folder / "cache" / "test-8px.npz"
    assert cache.is_file()
    for path in (folder / "img_align_celeba").iterdir():
        path.unlink()  # only the cache can supply the pixels now
    again = load_dataset("celeba", split="test", data_root=tmp_path, image_size=8)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.targets, again.targets)
    with pytest.raises(FileNotFoundError, match="000002.jpg"):
        load_dataset("celeba", split="test", data_root=tmp_path, image_size=8, cache=False)


def test_celeba_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("celeba", split="train", data_root=tmp_path)
    message = str(info.value)
    for expected in ("img_align_celeba/", "list_eval_partition.txt", "list_landmarks_align_celeba.txt",
                     str(tmp_path / "celeba"), "download: true"):
        assert expected in message
    folder = write_celeba(tmp_path)
    (folder / "list_landmarks_align_celeba.txt").write_text("6\nlefteye_x lefteye_y\n")
    with pytest.raises(ValueError, match="expected a count line then the header"):
        load_dataset("celeba", split="train", data_root=tmp_path)


def test_celeba_download_goes_through_torchvision(tmp_path, monkeypatch):
    calls = []

    def fake_celeba(root, split, target_type, download):
        calls.append((root, split, target_type, download))
        write_celeba(tmp_path)

    monkeypatch.setattr(torchvision.datasets, "CelebA", fake_celeba)
    ds = load_dataset("celeba", split="test", data_root=tmp_path, download=True, image_size=8, cache=False)
    assert calls == [(str(tmp_path), "all", "landmarks", True)] and ds.n == 2


def write_lfw_net(root):
    folder = root / "lfw-net"
    (folder / "lfw_5590").mkdir(parents=True)
    (folder / "net_7876").mkdir(parents=True)
    inside = np.zeros((80, 80), dtype=np.uint8)
    inside[20:60, 10:50] = 255  # exactly the face box below
    Image.fromarray(inside).save(folder / "lfw_5590" / "a.png")
    Image.fromarray(np.full((30, 30, 3), 255, np.uint8)).save(folder / "net_7876" / "b.png")
    lines = [
        r"lfw_5590\a.png 10 50 20 60 20.0 30.0 40.0 30.0 30.0 40.0 22.0 50.0 38.0 50.0",
        # box half outside a 30 x 30 image; one landmark outside the box (clipped)
        "net_7876/b.png 15 45 0 30 20 10 40 10 30 20 16 25 60 25",
    ]
    (folder / "trainImageList.txt").write_text("\n".join(lines) + "\n")
    (folder / "testImageList.txt").write_text(lines[0] + "\n")
    return folder


def test_lfw_net_crops_boxes_and_expresses_landmarks_in_the_box(tmp_path):
    write_lfw_net(tmp_path)
    train = load_dataset("lfw-net", split="train", data_root=tmp_path, image_size=20)
    assert train.images.shape == (2, 20, 20, 3) and train.n_outputs == 10
    np.testing.assert_allclose(train.targets[0], [0.25, 0.25, 0.75, 0.25, 0.5, 0.5, 0.3, 0.75, 0.7, 0.75], atol=1e-6)
    np.testing.assert_allclose(train.targets[1], [5 / 30, 10 / 30, 25 / 30, 10 / 30, 0.5, 20 / 30, 1 / 30, 25 / 30,
                                                  1.0, 25 / 30], atol=1e-6)
    assert train.images[0].min() == 255  # the crop is exactly the white box
    assert train.images[1][:, :8].mean() > 250 and train.images[1][:, -8:].max() == 0  # right half: outside
    test = load_dataset("lfw-net", split="test", data_root=tmp_path, image_size=20)
    assert test.n == 1


def test_lfw_net_list_files_directly_in_data_root(tmp_path):
    folder = write_lfw_net(tmp_path)
    ds = load_dataset("lfw-net", split="test", data_root=folder)
    assert ds.images.shape == (1, 64, 64, 3)


def test_lfw_net_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?s)trainImageList.txt.*Sun et al"):
        load_dataset("lfw-net", split="train", data_root=tmp_path)
    folder = write_lfw_net(tmp_path)
    (folder / "testImageList.txt").write_text("lfw_5590/a.png 10 50 20 60 1 2 3\n")
    with pytest.raises(ValueError, match="line 1: expected 'path left right top bottom"):
        load_dataset("lfw-net", split="test", data_root=tmp_path)
    (folder / "testImageList.txt").write_text("lfw_5590/a.png 50 10 20 60 " + "1 " * 10 + "\n")
    with pytest.raises(ValueError, match="empty face box"):
        load_dataset("lfw-net", split="test", data_root=tmp_path)
    (folder / "testImageList.txt").write_text("lfw_5590/gone.jpg 10 50 20 60 " + "1 " * 10 + "\n")
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        load_dataset("lfw-net", split="test", data_root=tmp_path)
