"""CelebA aligned faces with their five landmarks (10 regression outputs).

Read with this package's own reader from torchvision's folder layout::

    <data_root>/celeba/img_align_celeba/000001.jpg ...
    <data_root>/celeba/list_eval_partition.txt          "000001.jpg 0" (0 train, 1 valid, 2 test)
    <data_root>/celeba/list_landmarks_align_celeba.txt  count line, header line, then
                                                        "000001.jpg 69 109 106 113 77 142 73 152 108 154"

torchvision's own ``CelebA`` class is not used for reading because it also demands the
attribute, identity and bounding-box files and checks every text file against the MD5 of the
official release; it is used only to download (``download=True``, needs the ``gdown`` package).
Splits follow the official partition: ``train`` is partition 0 (162,770 images), ``test`` is
partition 2 (19,962 images). Each image is resized (aspect not kept) to ``image_size`` pixels;
landmarks are divided by the original image width (x) and height (y), so they lie in [0, 1]
and stay valid under the resize. Decoded arrays are cached as ``.npz`` files in
``<data_root>/celeba/cache/`` (option ``cache``).

References
----------
Paper Sec. 6.6 (CelebA, official partition, 5 facial landmarks).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from diamlib.data.dataset import ArrayDataset
from diamlib.data.imagefiles import load_images
from diamlib.data.locations import download_failed_error, missing_files_error

FOLDER = "celeba"
IMAGE_FOLDER = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
LANDMARK_FILE = "list_landmarks_align_celeba.txt"
PARTITION_IDS = {"train": 0, "test": 2}
LANDMARK_COLUMNS = ("lefteye_x", "lefteye_y", "righteye_x", "righteye_y", "nose_x", "nose_y",
                    "leftmouth_x", "leftmouth_y", "rightmouth_x", "rightmouth_y")


def read_partition(path: Path) -> dict[str, int]:
    """File name -> partition id (0 train, 1 valid, 2 test) from ``list_eval_partition.txt``."""
    partition = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise ValueError(f"{path}, line {number}: expected '<file> <0|1|2>', got {line!r}")
        partition[fields[0]] = int(fields[1])
    return partition


def read_landmarks(path: Path) -> dict[str, np.ndarray]:
    """File name -> 10 landmark pixel coordinates from ``list_landmarks_align_celeba.txt``."""
    lines = path.read_text().splitlines()
    if len(lines) < 2 or lines[1].split() != list(LANDMARK_COLUMNS):
        raise ValueError(f"{path}: expected a count line then the header {' '.join(LANDMARK_COLUMNS)}")
    landmarks = {}
    for number, line in enumerate(lines[2:], 3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 11:
            raise ValueError(f"{path}, line {number}: expected a file name and 10 numbers, got {line!r}")
        landmarks[fields[0]] = np.array(fields[1:], dtype=np.float64)
    return landmarks


def load_celeba(*, split: str, root: Path, download: bool, image_size: int = 64, cache: bool = True) -> ArrayDataset:
    """One split of CelebA as a 10-output landmark-regression dataset.

    Parameters
    ----------
    split : ``"train"`` or ``"test"``
    root : data folder holding ``celeba/``
    download : let torchvision download the data when missing
    image_size : side of the resized square images
    cache : read/write the decoded arrays in ``<root>/celeba/cache/``

    Returns
    -------
    ArrayDataset with images uint8 (n, image_size, image_size, 3) and float32 targets (n, 10)
    ``(x1, y1, ..., x5, y5)`` in [0, 1] (left eye, right eye, nose, left and right mouth corners).

    References
    ----------
    Paper Sec. 6.6.
    """
    folder = root / FOLDER
    if not _present(folder) and download:
        _download(root)
    if not _present(folder):
        raise missing_files_error(
            "celeba", [f"{IMAGE_FOLDER}/", PARTITION_FILE, LANDMARK_FILE], [folder], can_download=not download,
            how_to_get=f"download CelebA's aligned images (img_align_celeba.zip, extracted) and the two "
                       f"text files from the official CelebA page into {folder}",
        )
    partition = read_partition(folder / PARTITION_FILE)
    landmarks = read_landmarks(folder / LANDMARK_FILE)
    names = sorted(name for name, part in partition.items() if part == PARTITION_IDS[split])
    missing = [name for name in names if name not in landmarks]
    if missing:
        raise ValueError(f"{folder / LANDMARK_FILE} has no landmarks for {len(missing)} images, e.g. {missing[0]}")
    key = hashlib.sha256(("\n".join(names) + f"|{image_size}").encode()).hexdigest()[:16]
    cache_path = folder / "cache" / f"{split}-{image_size}px.npz"
    cached = _read_cache(cache_path, key) if cache else None
    if cached is None:
        images, sizes = load_images([folder / IMAGE_FOLDER / name for name in names], image_size)
        cached = images, sizes
        if cache:
            _write_cache(cache_path, key, images, sizes)
    images, sizes = cached
    points = np.stack([landmarks[name] for name in names]).reshape(len(names), 5, 2)
    targets = np.clip(points / sizes[:, None, :], 0.0, 1.0).reshape(len(names), 10).astype(np.float32)
    return ArrayDataset(name="celeba", images=images, targets=targets, task="regression", classes=None)


def _present(folder: Path) -> bool:
    return (folder / IMAGE_FOLDER).is_dir() and (folder / PARTITION_FILE).is_file() \
        and (folder / LANDMARK_FILE).is_file()


def _read_cache(path: Path, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    if not path.is_file():
        return None
    with np.load(path) as stored:
        if str(stored["key"]) != key:
            return None
        return stored["images"], stored["sizes"]


def _write_cache(path: Path, key: str, images: np.ndarray, sizes: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, key=np.array(key), images=images, sizes=sizes)
    os.replace(partial, path)


def _download(root: Path) -> None:
    import torchvision.datasets

    root.mkdir(parents=True, exist_ok=True)
    try:
        torchvision.datasets.CelebA(str(root), split="all", target_type="landmarks", download=True)
    except Exception as exc:  # network, gdown and archive errors of any kind
        raise download_failed_error("celeba", root / FOLDER, exc) from exc
