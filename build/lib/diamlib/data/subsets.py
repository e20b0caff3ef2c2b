"""Subsets of a dataset (for small CPU runs) and a short description of a dataset.

References
----------
Paper Sec. 6.1 (pool and test sets); smaller profiles use stratified subsets of them.
"""
from __future__ import annotations

import numpy as np

from diamlib.data.dataset import ArrayDataset


def stratified_counts(class_counts: np.ndarray, n: int) -> np.ndarray:
    """How many examples of each class a stratified subset of size ``n`` takes.

    Proportional allocation rounded by largest remainders (ties go to the lower class index),
    never more than a class holds.

    Parameters
    ----------
    class_counts : ndarray of int, shape (n_classes,)
    n : subset size, at most ``class_counts.sum()``

    Returns
    -------
    ndarray of int64, shape (n_classes,), summing to ``n``.
    """
    class_counts = np.asarray(class_counts, dtype=np.int64)
    total = int(class_counts.sum())
    exact = class_counts * (n / total)
    counts = np.floor(exact).astype(np.int64)
    order = np.lexsort((np.arange(len(counts)), -(exact - counts)))
    for c in order[: n - int(counts.sum())]:
        counts[c] += 1
    return counts


def subset_indices(dataset: ArrayDataset, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a random subset of size ``n`` (stratified by class for classification)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"subset size must be a positive integer, got {n!r}")
    if n > dataset.n:
        raise ValueError(f"{dataset.name}: cannot take {n} examples from a set of {dataset.n}; "
                         f"lower the requested size to at most {dataset.n}")
    if dataset.task == "regression":
        return np.sort(rng.choice(dataset.n, size=n, replace=False)).astype(np.int64)
    counts = np.bincount(dataset.targets, minlength=dataset.n_outputs)
    take = stratified_counts(counts, int(n))
    chosen = [rng.choice(np.flatnonzero(dataset.targets == c), size=k, replace=False)
              for c, k in enumerate(take) if k > 0]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def subsample(dataset: ArrayDataset, n: int, rng: np.random.Generator) -> ArrayDataset:
    """A random subset of ``n`` examples, in their original order.

    Parameters
    ----------
    dataset : ArrayDataset
    n : subset size, 1 .. dataset.n
    rng : numpy Generator

    Returns
    -------
    ArrayDataset of the same name, task and classes. For classification each class keeps its
    share (see :func:`stratified_counts`).

    References
    ----------
    Paper Sec. 6.1.
    """
    indices = subset_indices(dataset, n, rng)
    return ArrayDataset(name=dataset.name, images=dataset.images[indices], targets=dataset.targets[indices],
                        task=dataset.task, classes=dataset.classes)


def dataset_summary(dataset: ArrayDataset) -> dict:
    """A small, JSON-friendly description of a dataset.

    Returns
    -------
    dict with ``name, task, n, image_shape, channels, n_outputs`` and, for classification,
    ``class_counts`` (class name -> count); for regression ``target_min``, ``target_max`` and
    ``target_mean`` (lists of length n_outputs, rounded to 4 decimals).
    """
    summary = {"name": dataset.name, "task": dataset.task, "n": dataset.n,
               "image_shape": list(dataset.image_shape), "channels": dataset.channels,
               "n_outputs": dataset.n_outputs}
    if dataset.task == "classification":
        counts = np.bincount(dataset.targets, minlength=dataset.n_outputs)
        summary["class_counts"] = {name: int(c) for name, c in zip(dataset.classes, counts)}
    elif dataset.n:
        for key, fn in (("target_min", np.min), ("target_max", np.max), ("target_mean", np.mean)):
            summary[key] = [round(float(v), 4) for v in fn(dataset.targets, axis=0)]
    return summary
