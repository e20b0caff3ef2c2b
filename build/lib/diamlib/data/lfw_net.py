"""LFW-NET facial landmarks in the format of Sun, Wang and Tang (CVPR 2013).

Expected in ``<data_root>/lfw-net/`` or directly in ``<data_root>``: ``trainImageList.txt``
and ``testImageList.txt``, one image per line::

    lfw_5590\\Aaron_Eckhart_0001.jpg 84 161 92 169 106.25 107.75 146.75 112.25 125.25 142.75 105.25 157.75 139.75 161.75

that is ``path left right top bottom x1 y1 ... x5 y5`` with the face box and the five
landmarks (left eye, right eye, nose, left and right mouth corners) in pixels of the image.
Paths are relative to the list file's folder; backslashes are accepted. Each face box is
cropped (parts outside the image are black) and resized to ``image_size``; landmarks are
expressed relative to the box, ``((x - left) / (right - left), (y - top) / (bottom - top))``,
and clipped to [0, 1]. The data set is not downloadable by script; the split is the one of
the two list files.

References
----------
Paper Sec. 6.6 (LFW and NET facial landmark datasets, partition of Sun et al. [58]).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from diamlib.data.dataset import ArrayDataset
from diamlib.data.imagefiles import load_images
from diamlib.data.locations import missing_files_error

LIST_FILES = {"train": "trainImageList.txt", "test": "testImageList.txt"}


def read_image_list(path: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Parse a Sun et al. list file.

    Returns
    -------
    image_paths : list of n paths (resolved against the list file's folder)
    boxes : ndarray of int64, shape (n, 4): (left, top, right, bottom)
    landmarks : ndarray of float64, shape (n, 5, 2): pixel (x, y)
    """
    image_paths, boxes, landmarks = [], [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 15:
            raise ValueError(f"{path}, line {number}: expected 'path left right top bottom x1 y1 ... x5 y5' "
                             f"(15 fields), got {len(fields)} fields")
        try:
            left, right, top, bottom = (float(v) for v in fields[1:5])
            points = np.array(fields[5:], dtype=np.float64).reshape(5, 2)
        except ValueError:
            raise ValueError(f"{path}, line {number}: non-numeric box or landmark value in {line!r}") from None
        if round(right) <= round(left) or round(bottom) <= round(top):
            raise ValueError(f"{path}, line {number}: empty face box left={left} right={right} "
                             f"top={top} bottom={bottom}")
        image_paths.append(path.parent / Path(fields[0].replace("\\", "/")))
        boxes.append((round(left), round(top), round(right), round(bottom)))
        landmarks.append(points)
    if not image_paths:
        raise ValueError(f"{path}: no image lines")
    return image_paths, np.array(boxes, dtype=np.int64), np.stack(landmarks)


def load_lfw_net(*, split: str, root: Path, image_size: int = 64) -> ArrayDataset:
    """One split of LFW-NET as a 10-output landmark-regression dataset.

    Parameters
    ----------
    split : ``"train"`` or ``"test"``
    root : data folder holding ``lfw-net/`` (or the list files themselves)
    image_size : side of the resized square face crops

    Returns
    -------
    ArrayDataset with images uint8 (n, image_size, image_size, 3) and float32 targets (n, 10)
    in [0, 1], relative to the face box.

    References
    ----------
    Paper Sec. 6.6.
    """
    folders = [root / "lfw-net", root]
    list_name = LIST_FILES[split]
    list_path = next((f / list_name for f in folders if (f / list_name).is_file()), None)
    if list_path is None:
        raise missing_files_error(
            "lfw-net", [f"{list_name} (with the image folders it lists)"], folders, can_download=False,
            how_to_get="get the training and test sets of Sun et al., 'Deep convolutional network cascade "
                       "for facial point detection' (CVPR 2013) and extract them there",
        )
    paths, boxes, points = read_image_list(list_path)
    images, _ = load_images(paths, image_size, boxes=boxes)
    origin = boxes[:, None, :2].astype(np.float64)
    extent = (boxes[:, None, 2:] - boxes[:, None, :2]).astype(np.float64)
    targets = np.clip((points - origin) / extent, 0.0, 1.0).reshape(len(paths), 10).astype(np.float32)
    return ArrayDataset(name="lfw-net", images=images, targets=targets, task="regression", classes=None)
