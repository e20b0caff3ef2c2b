"""Helpers shared by every query strategy.

Strategies read their per-model arrays through these views (already checked by
:func:`~diamlib.strategies.run.run_strategy`, so they trust them), rank pool positions, and
turn the ranking into a :class:`~diamlib.evidence.Selection` with :func:`finish_selection`,
which also fills up at random when a strategy has fewer qualifying candidates than the
budget.

References
----------
Sec. 5.2 (Algorithm 2) and Sec. 5.3 (Algorithms 3-4) of the paper: every strategy returns
the indices of ``tau`` (= budget) unlabeled points.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from diamlib.evidence import Evidence, ModelEvidence, Selection


# --------------------------------------------------------------------------- per-model arrays
def model_features(model: ModelEvidence, *, with_labeled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """float64 views of one model's pool and labeled features.

    Parameters
    ----------
    model : ModelEvidence
    with_labeled : bool
        False for strategies that read only the pool's features: the labeled features then
        come back as a (0, d) array.

    Returns
    -------
    pool : ndarray, shape (n_pool, d)
    labeled : ndarray, shape (n_labeled, d)
        Never written to by callers (they may be the caller's own arrays).
    """
    pool = np.asarray(model.pool_features, dtype=np.float64)
    if not with_labeled:
        return pool, np.zeros((0, pool.shape[1]))
    return pool, np.asarray(model.labeled_features, dtype=np.float64)


def search_dtype(original: np.ndarray, converted: np.ndarray) -> np.ndarray:
    """The original array if it is float32 (distance searches run twice as fast), else the float64 one.

    Parameters
    ----------
    original : array_like
        A feature array as stored in the evidence.
    converted : ndarray
        Its float64 view from :func:`model_features`.

    Returns
    -------
    ndarray
        Not to be written to.
    """
    original = np.asarray(original)
    return original if original.dtype == np.float32 else converted


def model_probs(model: ModelEvidence) -> np.ndarray:
    """float64 view of one model's softmax probabilities on the pool, shape (n_pool, n_classes)."""
    return np.asarray(model.pool_probs, dtype=np.float64)


def model_snapshots(model: ModelEvidence) -> np.ndarray:
    """One model's snapshot predictions (its soft version space, Sec. 5.2), int, shape (n_snapshots, n_pool)."""
    return np.asarray(model.snapshot_predictions)


# --------------------------------------------------------------------------- ranking
def order_descending(*keys: np.ndarray) -> np.ndarray:
    """Pool positions sorted by ``keys[0]`` descending, ties by ``keys[1]`` descending, ..., then by position.

    Parameters
    ----------
    *keys : ndarray, shape (n,)
        Sort keys, most important first.

    Returns
    -------
    positions : ndarray of int64, shape (n,)
    """
    if not keys:
        raise ValueError("order_descending needs at least one key")
    n = keys[0].shape[0]
    positions = np.arange(n, dtype=np.int64)
    # np.lexsort sorts by the last key first and ascending: negate the keys, add position last-priority.
    return np.lexsort((positions, *(-np.asarray(k, dtype=np.float64) for k in reversed(keys)))).astype(np.int64)


def minmax_normalise(values: np.ndarray) -> np.ndarray:
    """Scale values to [0, 1] over the pool; a constant vector maps to zeros.

    Parameters
    ----------
    values : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = values.min(), values.max()
    if high - low <= 0:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def rank_normalise(order: np.ndarray) -> np.ndarray:
    """Per-position score from a ranking: 1 for the first position, 0 for the last.

    Parameters
    ----------
    order : ndarray of int, shape (n,)
        Pool positions, best first.

    Returns
    -------
    ndarray, shape (n,)
        ``1 - rank / (n - 1)`` at each position (1 everywhere when ``n == 1``).
    """
    n = order.shape[0]
    scores = np.empty(n, dtype=np.float64)
    scores[order] = 1.0 - np.arange(n) / max(n - 1, 1)
    return scores


def greedy_order_scores(positions: Sequence[int] | np.ndarray, n_pool: int, budget: int) -> np.ndarray:
    """Per-position score of a greedy batch: ``budget - order`` for the chosen points, 0 elsewhere.

    Greedy batch selectors (k-center, k-means++, BAIT) have no per-point utility independent
    of the order in which they pick; this score is consistent with that order.

    Parameters
    ----------
    positions : sequence of int, length <= budget
        Chosen pool positions in the order they were picked.
    n_pool : int
    budget : int

    Returns
    -------
    ndarray, shape (n_pool,)
        ``budget`` for the first pick, ``budget - 1`` for the second, ..., 0 for unchosen points.

    References
    ----------
    Coreset [53], BADGE [3] and BAIT [2] baselines, Sec. 6.1 and 6.6 of the paper.
    """
    positions = np.asarray(positions, dtype=np.int64)
    scores = np.zeros(n_pool)
    scores[positions] = budget - np.arange(positions.size)
    return scores


# --------------------------------------------------------------------------- result
def finish_selection(
    evidence: Evidence,
    ranked_positions: Sequence[int] | np.ndarray,
    *,
    budget: int,
    rng: np.random.Generator,
    scores: np.ndarray | None,
    info: dict[str, Any] | None = None,
) -> Selection:
    """Turn ranked pool positions into a ``Selection``; fill at random if too few.

    Parameters
    ----------
    evidence : Evidence
    ranked_positions : sequence of int
        Distinct pool positions (rows of the per-model arrays), most preferred first. May be
        shorter than ``budget`` (fewer qualifying candidates) or longer (only the first
        ``budget`` are used).
    budget : int
    rng : numpy.random.Generator
        Draws the random fill among the remaining pool positions.
    scores : ndarray, shape (n_pool,), optional
        The per-pool utility the strategy ranked by.
    info : dict, optional
        Facts for the run log; ``"filled_at_random"`` (count) is added.

    Returns
    -------
    Selection
        ``indices`` = ``evidence.unlabeled_indices`` at the chosen positions.

    Raises
    ------
    RuntimeError
        ``ranked_positions`` repeats a position or leaves the pool (a bug in the strategy).
    """
    n_pool = evidence.n_pool
    chosen = np.asarray(ranked_positions, dtype=np.int64)[:budget]
    if chosen.size and (chosen.min() < 0 or chosen.max() >= n_pool or np.unique(chosen).size != chosen.size):
        raise RuntimeError("strategy produced repeated or out-of-pool positions")
    n_missing = budget - chosen.size
    if n_missing > 0:
        remaining = np.setdiff1d(np.arange(n_pool, dtype=np.int64), chosen, assume_unique=True)
        chosen = np.concatenate([chosen, rng.permutation(remaining)[:n_missing]])
    info = dict(info or {})
    info["filled_at_random"] = int(n_missing)
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (n_pool,):
            raise RuntimeError(f"strategy scores must have shape ({n_pool},), got {scores.shape}")
    indices = np.asarray(evidence.unlabeled_indices, dtype=np.int64)[chosen]
    return Selection(indices=indices, scores=scores, info=info)
