"""The one check of a target model's per-model arrays (:data:`~diamlib.evidence.EVIDENCE_FIELDS`).

:func:`check_model_arrays` is called by :func:`~diamlib.strategies.run.check_evidence` (the
boundary of every strategy call, which prefixes the model's name) and by the evidence-file
reader and writers of :mod:`diamlib.userfiles.evidence_files` (which prefix the file's path).
The tolerances are typed here, once.

References
----------
Sec. 5.2 of the paper (soft version spaces: the snapshot predictions of epochs
floor(T/2)..T; penultimate-layer features) and Sec. 6.1 (the baselines' softmax outputs).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: How far a probability row may sum from 1.
PROBABILITY_TOLERANCE = 1e-3
#: How far below 0 a probability may round.
NEGATIVE_PROBABILITY_TOLERANCE = 1e-6
#: The axis of each per-model array that runs over the pool (snapshot predictions: their columns).
POOL_AXIS: dict[str, int] = {"snapshot_predictions": 1, "pool_probs": 0, "pool_features": 0, "pool_outputs": 0}
#: What each per-model array holds, with its shape (every one has two dimensions).
ARRAY_SHAPES: dict[str, str] = {
    "snapshot_predictions": "int class labels of the later-epoch hypotheses, (n_snapshots, n_pool)",
    "pool_probs": "softmax probabilities, (n_pool, n_classes)",
    "pool_features": "penultimate features of the pool, (n_pool, d)",
    "labeled_features": "penultimate features of the labeled set, (n_labeled, d)",
    "pool_outputs": "regression outputs on the pool, (n_pool, k)",
}


def check_model_arrays(arrays: Mapping[str, np.ndarray], *, n_pool: int | None = None) -> None:
    """One target model's per-model arrays are well formed, on their own and together.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Any of :data:`~diamlib.evidence.EVIDENCE_FIELDS` (others are the caller's to check).
    n_pool : int, optional
        The pool size every pool axis (:data:`POOL_AXIS`) must have; by default they must only
        agree with each other.

    Raises
    ------
    ValueError
        Naming the array (``array 'pool_probs' ...``) and the fix; the caller prefixes the model
        or the file. The problems: a wrong number of dimensions, Python objects, a non-numeric
        float array or NaN/inf in it, snapshot predictions that are not non-negative integers or
        not class indices of ``pool_probs``, probability rows that are not probabilities
        (:data:`PROBABILITY_TOLERANCE`), features of the labeled set and the pool with different
        widths, pool axes of different lengths, or an empty pool.
    """
    for name, array in arrays.items():
        if name not in ARRAY_SHAPES:
            continue
        if array.ndim != 2:
            raise ValueError(f"array {name!r} has {array.ndim} dimension(s), shape {array.shape}; it must have 2: "
                             f"{ARRAY_SHAPES[name]}")
        if array.dtype.hasobject:
            raise ValueError(f"array {name!r} holds Python objects; save a plain numeric or string array")
        if name == "snapshot_predictions":
            check_labels(name, array)
        else:
            _check_floats(name, array)
    if "snapshot_predictions" in arrays and arrays["snapshot_predictions"].shape[0] < 1:
        raise ValueError("array 'snapshot_predictions' has no rows; it needs one row per snapshot (n_snapshots >= 1)")
    if "pool_probs" in arrays:
        _check_probabilities(arrays["pool_probs"])
        if "snapshot_predictions" in arrays:
            check_label_range(arrays["snapshot_predictions"], arrays["pool_probs"].shape[1])
    if "labeled_features" in arrays and "pool_features" in arrays:
        pool_d, labeled_d = arrays["pool_features"].shape[1], arrays["labeled_features"].shape[1]
        if pool_d != labeled_d:
            raise ValueError(f"array 'labeled_features' has {labeled_d} columns but 'pool_features' has {pool_d}; "
                             f"both must be the same model's penultimate features")
    sizes = {name: arrays[name].shape[axis] for name, axis in POOL_AXIS.items() if name in arrays}
    if n_pool is not None:
        for name, n in sizes.items():
            if n != n_pool:
                raise ValueError(f"array {name!r} covers {n} pool points but the pool has {n_pool} "
                                 f"(evidence.unlabeled_indices); {ARRAY_SHAPES[name]}")
    if len(set(sizes.values())) > 1:
        (first, n_first), *others = sizes.items()
        name, n = next((name, n) for name, n in others if n != n_first)
        raise ValueError(f"array {name!r} covers {n} pool points but {first!r} covers {n_first}; every pool array "
                         f"must cover the same n_pool points in the same order")
    if 0 in sizes.values():
        raise ValueError("the pool is empty (n_pool = 0); nothing can be selected")


def check_labels(name: str, array: np.ndarray) -> None:
    """Non-negative integers (class labels, sizes)."""
    if not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        raise ValueError(f"array {name!r} has dtype {array.dtype}; it must hold integers (class labels 0, 1, ...: "
                         f"save predictions.argmax(axis=-1), or .astype(np.int64))")
    if array.size and array.min() < 0:
        raise ValueError(f"array {name!r} holds negative values (smallest {array.min()}); class labels and sizes "
                         f"are 0 or more")


def check_label_range(labels: np.ndarray, n_classes: int, probs_of: str = "") -> None:
    """Snapshot labels are class indices of the ``n_classes`` columns of ``pool_probs`` (``probs_of``: whose)."""
    if labels.size and labels.max() >= n_classes:
        raise ValueError(
            f"array 'snapshot_predictions' holds class label {labels.max()}, but 'pool_probs'{probs_of} has "
            f"{n_classes} classes (labels 0..{n_classes - 1}); save class indices, i.e. the column of each class in "
            f"pool_probs (np.searchsorted(classes, predictions) maps labels to them)")


def _check_floats(name: str, array: np.ndarray) -> None:
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"array {name!r} has dtype {array.dtype}; it must be numeric (float)")
    if not np.isfinite(array).all():
        rows = int((~np.isfinite(array.reshape(array.shape[0], -1))).any(axis=1).sum()) if array.size else 0
        raise ValueError(f"array {name!r} contains NaN or inf in {rows} row(s); the model has probably diverged: "
                         f"retrain it (e.g. with a lower learning rate) or recompute the array")


def _check_probabilities(probs: np.ndarray) -> None:
    if probs.shape[1] < 1:
        raise ValueError("array 'pool_probs' has no class columns; shape must be (n_pool, n_classes)")
    sums = probs.sum(axis=1)
    bad = (np.abs(sums - 1.0) > PROBABILITY_TOLERANCE) | (probs < -NEGATIVE_PROBABILITY_TOLERANCE).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"array 'pool_probs' rows must be probabilities (non-negative, summing to 1); {int(bad.sum())} "
            f"row(s) do not (row {row} sums to {sums[row]:.4g}); save softmax outputs, not logits "
            f"(scipy.special.softmax(logits, axis=1))")
