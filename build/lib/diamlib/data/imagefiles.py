"""Decode image files (JPEG, PNG, ...) into one uint8 array, optionally cropping boxes.

Used by the face-landmark datasets. Decoding runs in a small thread pool (Pillow releases
the interpreter lock while decoding); the result does not depend on the number of threads.

References
----------
Paper Sec. 6.6 (CelebA and LFW-NET images).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image


def read_image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, without decoding its pixels."""
    with Image.open(path) as image:
        return image.size


def _load_one(path: Path, size: int, box: tuple[int, int, int, int] | None) -> tuple[np.ndarray, tuple[int, int]]:
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} is listed but missing; restore it or remove its line")
    with Image.open(path) as image:
        original_size = image.size
        if box is None:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, still >= size
            region = image.convert("RGB")
        else:
            region = image.convert("RGB").crop(box)  # areas outside the image become black
        resized = region.resize((size, size), resample=Image.BILINEAR)
        return np.asarray(resized, dtype=np.uint8), original_size


def load_images(paths: Sequence[Path], size: int, boxes: np.ndarray | None = None,
                threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Decode, optionally crop, and resize images to ``size x size`` RGB.

    Parameters
    ----------
    paths : sequence of n image paths
    size : output side length in pixels
    boxes : ndarray of int, shape (n, 4), optional
        Crop boxes ``(left, top, right, bottom)`` in pixels; parts outside the image are black.
    threads : number of decoding threads (default: up to 8, at most the CPU count)

    Returns
    -------
    images : ndarray of uint8, shape (n, size, size, 3)
    original_sizes : ndarray of int64, shape (n, 2): (width, height) of each file
    """
    if size < 4:
        raise ValueError(f"image_size must be at least 4 pixels, got {size}")
    n = len(paths)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    original_sizes = np.empty((n, 2), dtype=np.int64)
    threads = threads or max(1, min(8, os.cpu_count() or 1))

    def work(i: int) -> None:
        box = None if boxes is None else tuple(int(v) for v in boxes[i])
        images[i], original_sizes[i] = _load_one(Path(paths[i]), size, box)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(work, range(n)):
            pass
    return images, original_sizes
