"""The in-memory dataset type shared by every loader: uint8 images plus targets.

References
----------
Paper Sec. 6.1 (classification datasets) and Sec. 6.6 (regression datasets).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diamlib.evidence import TASKS


@dataclass(frozen=True, eq=False)
class ArrayDataset:
    """Images and targets of one split of one dataset, held as numpy arrays.

    Instances compare and hash by identity (their fields are arrays).

    Attributes
    ----------
    name : str
        Registry name of the dataset, e.g. ``"fashion-mnist"``.
    images : ndarray of uint8, shape (n, H, W) (grayscale) or (n, H, W, 3) (colour)
    targets : ndarray
        Classification: int64, shape (n,), values in ``0 .. len(classes) - 1``.
        Regression: float32, shape (n, n_outputs), values in [0, 1].
    task : {"classification", "regression"}
    classes : tuple of str or None
        Class names (classification); ``None`` for regression.

    References
    ----------
    Paper Sec. 6.1 (Table 1) and Sec. 6.6.
    """

    name: str
    images: np.ndarray
    targets: np.ndarray
    task: str
    classes: tuple[str, ...] | None

    def __post_init__(self) -> None:
        _check_images(self.name, self.images)
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: task must be one of {TASKS}, got {self.task!r}")
        if self.task == "classification":
            _check_class_targets(self.name, self.targets, self.classes, len(self.images))
        else:
            _check_regression_targets(self.name, self.targets, self.classes, len(self.images))

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.images.shape[0])

    def __len__(self) -> int:
        return self.n

    @property
    def n_outputs(self) -> int:
        """Number of classes (classification) or of regression outputs."""
        if self.task == "classification":
            return len(self.classes)
        return int(self.targets.shape[1])

    @property
    def channels(self) -> int:
        """1 for grayscale images, 3 for colour images."""
        return 1 if self.images.ndim == 3 else 3

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image: (H, W) or (H, W, 3)."""
        return tuple(int(s) for s in self.images.shape[1:])


def _check_images(name: str, images: np.ndarray) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise TypeError(f"{name}: images must be a uint8 numpy array, got "
                        f"{type(images).__name__} of dtype {getattr(images, 'dtype', None)}")
    colour = images.ndim == 4 and images.shape[3] == 3
    if images.ndim != 3 and not colour:
        raise ValueError(f"{name}: images must have shape (n, H, W) or (n, H, W, 3), got {images.shape}")


def _check_class_targets(name: str, targets: np.ndarray, classes, n: int) -> None:
    if classes is None or len(classes) < 2:
        raise ValueError(f"{name}: a classification dataset needs a tuple of at least 2 class names")
    if not isinstance(targets, np.ndarray) or targets.dtype != np.int64 or targets.shape != (n,):
        raise TypeError(f"{name}: classification targets must be int64 of shape ({n},), got "
                        f"{getattr(targets, 'dtype', type(targets))} {getattr(targets, 'shape', '')}")
    if n and (targets.min() < 0 or targets.max() >= len(classes)):
        raise ValueError(f"{name}: class labels must lie in 0..{len(classes) - 1}, "
                         f"got {targets.min()}..{targets.max()}")


def _check_regression_targets(name: str, targets: np.ndarray, classes, n: int) -> None:
    if classes is not None:
        raise ValueError(f"{name}: a regression dataset has classes=None")
    if not isinstance(targets, np.ndarray) or targets.dtype != np.float32 or targets.ndim != 2 \
            or targets.shape[0] != n:
        raise TypeError(f"{name}: regression targets must be float32 of shape ({n}, n_outputs), got "
                        f"{getattr(targets, 'dtype', type(targets))} {getattr(targets, 'shape', '')}")
    if n and (not np.all(np.isfinite(targets)) or targets.min() < 0.0 or targets.max() > 1.0):
        raise ValueError(f"{name}: regression targets must be finite and lie in [0, 1]")
