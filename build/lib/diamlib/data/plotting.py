"""Figures of landmark-regression examples (images with their five landmarks).

References
----------
Paper Sec. 6.6 (five facial landmarks; the embedded task uses the same layout).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from diamlib.data.dataset import ArrayDataset

#: One colour per landmark, in landmark order.
LANDMARK_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple")


def plot_landmark_examples(dataset: ArrayDataset, indices: Sequence[int] | None = None, *, n: int = 8,
                           ncols: int = 4, predictions: np.ndarray | None = None, panel_size: float = 1.8):
    """Show images with their landmarks (and optionally predicted landmarks).

    Parameters
    ----------
    dataset : a regression ArrayDataset whose targets are ``(x1, y1, ..., xk, yk)`` in [0, 1]
    indices : which examples to show (default: the first ``n``)
    n : number of examples when ``indices`` is None
    ncols : panels per row
    predictions : ndarray, shape (len(indices), 2k), optional; drawn as crosses
    panel_size : inches per panel

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Paper Sec. 6.6.
    """
    import matplotlib.pyplot as plt

    if dataset.task != "regression" or dataset.targets.shape[1] % 2:
        raise ValueError(f"{dataset.name}: landmark plots need a regression dataset with (x, y) pairs as targets")
    indices = np.arange(min(n, dataset.n)) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        raise ValueError("nothing to plot: indices is empty")
    if predictions is not None and np.shape(predictions) != (len(indices), dataset.targets.shape[1]):
        raise ValueError(f"predictions must have shape ({len(indices)}, {dataset.targets.shape[1]}), "
                         f"got {np.shape(predictions)}")
    ncols = max(1, min(ncols, len(indices)))
    nrows = int(np.ceil(len(indices) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows), squeeze=False)
    for panel, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if panel >= len(indices):
            continue
        i = int(indices[panel])
        image = dataset.images[i]
        height, width = image.shape[:2]
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255,
                  extent=(0, width, height, 0), interpolation="nearest")
        _scatter(ax, dataset.targets[i], width, height, marker="o")
        if predictions is not None:
            _scatter(ax, np.asarray(predictions[panel]), width, height, marker="x")
        ax.set_title(f"#{i}", fontsize=8)
    fig.tight_layout()
    return fig


def _scatter(ax, values: np.ndarray, width: int, height: int, *, marker: str) -> None:
    points = values.reshape(-1, 2) * np.array([width, height])
    colours = [LANDMARK_COLOURS[k % len(LANDMARK_COLOURS)] for k in range(len(points))]
    ax.scatter(points[:, 0], points[:, 1], c=colours, s=14, marker=marker, linewidths=1.2)
