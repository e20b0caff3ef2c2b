"""Fixtures that write tiny dataset files in the real on-disk formats."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding written by hand: 0x0000, type code, ndim, big-endian sizes, big-endian data."""
    header = struct.pack(">BBBB", 0, 0, _CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx_file(path: Path, array: np.ndarray, *, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.fixture
def write_idx():
    """``write_idx(path, array, gz=False) -> written path`` (``.gz`` appended when gz)."""
    return write_idx_file


def tiny_idx_split(rng: np.random.Generator, n: int, n_classes: int, *, first_label: int = 0):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % n_classes + first_label).astype(np.uint8)
    return images, labels


@pytest.fixture
def mnist_like_folder():
    """``mnist_like_folder(folder, prefix, n_classes, gz)`` writes train (12) and test (6) IDX files.

    Returns ``{split: (images, labels)}``; ``prefix`` is "" for MNIST-style names or e.g.
    "emnist-letters-" for EMNIST-style names.
    """
    def write(folder: Path, prefix: str = "", n_classes: int = 10, gz: bool = False, first_label: int = 0):
        rng = np.random.default_rng(7)
        written = {}
        for split, n in (("train", 12), ("test", 6)):
            images, labels = tiny_idx_split(rng, n, n_classes, first_label=first_label)
            if prefix:
                stem_images, stem_labels = f"{prefix}{split}-images-idx3-ubyte", f"{prefix}{split}-labels-idx1-ubyte"
            else:
                tag = "train" if split == "train" else "t10k"
                stem_images, stem_labels = f"{tag}-images-idx3-ubyte", f"{tag}-labels-idx1-ubyte"
            write_idx_file(folder / stem_images, images, gz=gz)
            write_idx_file(folder / stem_labels, labels, gz=gz)
            written[split] = (images, labels)
        return written
    return write
