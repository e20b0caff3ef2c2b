"""Checks and helpers shared by every query strategy.

Every strategy validates its inputs with these functions, ranks pool positions, and turns
the ranking into a :class:`~diamlib.evidence.Selection` with :func:`finish_selection`,
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


# --------------------------------------------------------------------------- arguments
def check_call(evidence: Evidence, budget: int, rng: np.random.Generator, task: str | None = None) -> None:
    """Validate the arguments every strategy receives.

    Parameters
    ----------
    evidence : Evidence
    budget : int
        Number of points to query; ``1 <= budget <= evidence.n_pool``.
    rng : numpy.random.Generator
    task : {"classification", "regression"}, optional
        If given, ``evidence.task`` must equal it.

    Raises
    ------
    TypeError
        ``evidence`` is not an ``Evidence``, ``budget`` is not an integer or ``rng`` is not
        a ``numpy.random.Generator``.
    ValueError
        ``budget`` out of range, malformed ``unlabeled_indices`` or ``feature_model``, or
        the evidence is of the wrong task.

    References
    ----------
    Algorithm 2, line 10 of the paper (``tau`` = budget).
    """
    if not isinstance(evidence, Evidence):
        raise TypeError(f"evidence must be a diamlib.evidence.Evidence, got {type(evidence).__name__}")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise TypeError(f"budget must be an integer, got {budget!r} ({type(budget).__name__})")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            f"create one with diamlib.seeding.child_rng(seed, 'select', round)"
        )
    indices = evidence.unlabeled_indices
    if not isinstance(indices, np.ndarray) or indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError("evidence.unlabeled_indices must be a 1-D integer array of training-set indices")
    n_pool = indices.shape[0]
    if budget < 1 or budget > n_pool:
        raise ValueError(
            f"budget must be between 1 and the pool size {n_pool}, got {budget}; "
            f"lower the query size or stop the loop when the pool is exhausted"
        )
    if np.unique(indices).shape[0] != n_pool:
        raise ValueError("evidence.unlabeled_indices contains repeated indices; each pool point must appear once")
    if task is not None and evidence.task != task:
        raise ValueError(f"this strategy is for {task} evidence, got evidence.task={evidence.task!r}")
    if len(evidence.models) == 0:
        raise ValueError("evidence.models is empty; the evidence needs at least one target model")


def feature_model(evidence: Evidence) -> ModelEvidence:
    """The model whose features single-model strategies (coreset, BADGE, BAIT) use.

    ``evidence.feature_source`` (a frozen supernet's features) when given, else the target
    model at position ``evidence.feature_model``.

    Raises
    ------
    ValueError
        ``evidence.feature_model`` is not a position in ``evidence.models``.
    """
    if evidence.feature_source is not None:
        return evidence.feature_source
    position = evidence.feature_model
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or not (
        0 <= position < len(evidence.models)
    ):
        raise ValueError(
            f"evidence.feature_model must be a position in evidence.models (0..{len(evidence.models) - 1}), "
            f"got {position!r}"
        )
    return evidence.models[int(position)]


# --------------------------------------------------------------------------- per-model arrays
def model_features(model: ModelEvidence, n_pool: int, *, with_labeled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 views of one model's pool and labeled features.

    Parameters
    ----------
    model : ModelEvidence
    n_pool : int
        Expected number of pool rows.
    with_labeled : bool
        False for strategies that read only the pool's features: the labeled features are
        then neither required nor checked, and come back as a (0, d) array.

    Returns
    -------
    pool : ndarray, shape (n_pool, d)
    labeled : ndarray, shape (n_labeled, d)
        Never written to by callers (they may be the caller's own arrays).

    Raises
    ------
    ValueError
        Wrong shapes, NaN or inf entries, or a feature matrix whose rows are all identical
        (every feature constant over pool and labeled set): no ranking could be derived from it.
    """
    if model.pool_features is None or (with_labeled and model.labeled_features is None):
        missing = "pool_features" if model.pool_features is None else "labeled_features"
        raise ValueError(f"model {model.name!r} has no {missing}; the strategy reads them, so they must be "
                         f"computed (declare {missing!r} in the strategy's registry entry)")
    pool = np.asarray(model.pool_features, dtype=np.float64)
    if not with_labeled:
        labeled = np.zeros((0, pool.shape[1] if pool.ndim == 2 else 0))
    else:
        labeled = np.asarray(model.labeled_features, dtype=np.float64)
    if pool.ndim != 2 or pool.shape[0] != n_pool:
        raise ValueError(
            f"model {model.name!r}: pool_features must have shape (n_pool={n_pool}, d), got {pool.shape}"
        )
    if labeled.ndim != 2 or labeled.shape[1] != pool.shape[1]:
        raise ValueError(
            f"model {model.name!r}: labeled_features must have shape (n_labeled, {pool.shape[1]}) "
            f"like pool_features, got {labeled.shape}"
        )
    for what, array in (("pool_features", pool), ("labeled_features", labeled)):
        if not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).any(axis=1).sum())
            raise ValueError(
                f"model {model.name!r}: {what} contains NaN or inf in {bad} row(s); the model has "
                f"probably diverged; retrain it (e.g. with a lower learning rate) before querying"
            )
    if pool.shape[0] + labeled.shape[0] >= 2:
        parts = [a for a in (pool, labeled) if a.shape[0]]
        highest = np.max([a.max(axis=0) for a in parts], axis=0)
        lowest = np.min([a.min(axis=0) for a in parts], axis=0)
        if np.all(highest == lowest):
            raise ValueError(
                f"model {model.name!r}: every feature is constant over the pool and labeled set "
                f"(all rows identical), so its features cannot rank pool points; check the "
                f"feature extractor of this model"
            )
    return pool, labeled


def search_dtype(original: np.ndarray, validated: np.ndarray) -> np.ndarray:
    """The original array if it is float32 (distance searches run twice as fast), else the float64 one.

    Parameters
    ----------
    original : array_like
        A feature array as stored in the evidence.
    validated : ndarray
        Its validated float64 view from :func:`model_features`.

    Returns
    -------
    ndarray
        Not to be written to.
    """
    original = np.asarray(original)
    return original if original.dtype == np.float32 else validated


def model_probs(model: ModelEvidence, n_pool: int, *, min_classes: int = 1) -> np.ndarray:
    """Validated float64 view of one model's softmax probabilities on the pool.

    Returns
    -------
    probs : ndarray, shape (n_pool, n_classes)

    Raises
    ------
    ValueError
        Missing, wrong shape, NaN/inf, negative entries or rows that do not sum to one.
    """
    if model.pool_probs is None:
        raise ValueError(f"model {model.name!r}: pool_probs is missing; uncertainty strategies need softmax outputs")
    probs = np.asarray(model.pool_probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != n_pool or probs.shape[1] < min_classes:
        raise ValueError(
            f"model {model.name!r}: pool_probs must have shape (n_pool={n_pool}, n_classes>={min_classes}), "
            f"got {probs.shape}"
        )
    if not np.isfinite(probs).all():
        raise ValueError(f"model {model.name!r}: pool_probs contains NaN or inf; the model has probably diverged")
    if (probs < -1e-6).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"model {model.name!r}: pool_probs rows must be probability vectors (non-negative, summing "
            f"to 1); pass softmax outputs, not logits"
        )
    return probs


def model_snapshots(model: ModelEvidence, n_pool: int) -> np.ndarray:
    """Validated snapshot predictions of one model (its soft version space, Sec. 5.2).

    Returns
    -------
    predictions : ndarray of int, shape (n_snapshots, n_pool)

    Raises
    ------
    ValueError
        Missing, wrong shape, non-integer or negative labels.
    """
    if model.snapshot_predictions is None:
        raise ValueError(
            f"model {model.name!r}: snapshot_predictions is missing; disagreement strategies need the "
            f"predictions of the later-epoch hypotheses (Algorithm 2, line 4)"
        )
    predictions = np.asarray(model.snapshot_predictions)
    if predictions.ndim != 2 or predictions.shape[1] != n_pool or predictions.shape[0] < 1:
        raise ValueError(
            f"model {model.name!r}: snapshot_predictions must have shape (n_snapshots>=1, n_pool={n_pool}), "
            f"got {predictions.shape}"
        )
    if not np.issubdtype(predictions.dtype, np.integer):
        raise ValueError(
            f"model {model.name!r}: snapshot_predictions must hold integer class labels, got {predictions.dtype}"
        )
    if predictions.size and predictions.min() < 0:
        raise ValueError(f"model {model.name!r}: snapshot_predictions holds negative class labels")
    return predictions


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
