"""Uncertainty baselines adapted to several target models: entropy, least confidence, margin.

Each per-model uncertainty is computed from the final-epoch softmax probabilities,
min-max normalised over the pool per model (so that models with different calibration
weigh the same), and averaged over the models. The highest mean uncertainty is queried
first; exact ties go to the lower pool position.

References
----------
Sec. 6.1 of the paper: Entropy [43], Least Confidence [55] and Margin [52], "based on the
mean ... across all target models".
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diamlib.evidence import Evidence, Selection
from diamlib.strategies._common import finish_selection, minmax_normalise, model_probs, order_descending


def entropy_uncertainty(probs: np.ndarray) -> np.ndarray:
    """Prediction entropy ``-sum_c p_c log p_c`` (``0 log 0 = 0``).

    Parameters
    ----------
    probs : ndarray, shape (n_pool, n_classes)

    Returns
    -------
    ndarray, shape (n_pool,)

    References
    ----------
    Sec. 6.1 of the paper (Entropy baseline).
    """
    safe = np.where(probs > 0, probs, 1.0)
    return -(probs * np.log(safe)).sum(axis=1)


def least_confidence_uncertainty(probs: np.ndarray) -> np.ndarray:
    """One minus the largest class probability.

    Parameters
    ----------
    probs : ndarray, shape (n_pool, n_classes)

    Returns
    -------
    ndarray, shape (n_pool,)

    References
    ----------
    Sec. 6.1 of the paper (Least Confidence baseline).
    """
    return 1.0 - probs.max(axis=1)


def margin_uncertainty(probs: np.ndarray) -> np.ndarray:
    """One minus the margin between the two largest class probabilities.

    Parameters
    ----------
    probs : ndarray, shape (n_pool, n_classes), n_classes >= 2

    Returns
    -------
    ndarray, shape (n_pool,)
        ``1 - (p_(1) - p_(2))``: large when the two top classes are close.

    References
    ----------
    Sec. 6.1 of the paper (Margin baseline).
    """
    top_two = np.partition(probs, probs.shape[1] - 2, axis=1)[:, -2:]
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


def mean_normalised_uncertainty(evidence: Evidence, per_model: Callable[[np.ndarray], np.ndarray],
                                min_classes: int = 1) -> np.ndarray:
    """Per-model uncertainty, min-max normalised over the pool, averaged over models.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``pool_probs`` for every model.
    per_model : callable
        ``probs (n_pool, n_classes) -> uncertainty (n_pool,)``.
    min_classes : int
        Smallest number of classes the score is defined for (the margin needs two).

    Returns
    -------
    ndarray, shape (n_pool,), values in [0, 1]

    Raises
    ------
    ValueError
        A model's probabilities have fewer than ``min_classes`` classes.

    References
    ----------
    Sec. 6.1 of the paper (mean over all target models).
    """
    scores = []
    for model in evidence.models:
        probs = model_probs(model)
        if probs.shape[1] < min_classes:
            raise ValueError(f"model {model.name!r}: pool_probs must have shape (n_pool={evidence.n_pool}, "
                             f"n_classes>={min_classes}), got {probs.shape}")
        scores.append(minmax_normalise(per_model(probs)))
    return np.mean(scores, axis=0)


def _select_by(evidence: Evidence, budget: int, rng: np.random.Generator,
               per_model: Callable[[np.ndarray], np.ndarray], min_classes: int = 1) -> Selection:
    scores = mean_normalised_uncertainty(evidence, per_model, min_classes)
    return finish_selection(evidence, order_descending(scores), budget=budget, rng=rng, scores=scores)


def select_entropy(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """Query the points of highest mean (normalised) prediction entropy.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence; uses every model's ``pool_probs``.
    budget : int
    rng : numpy.random.Generator
        Unused (the ranking is deterministic).

    Returns
    -------
    Selection
        ``scores`` = mean normalised entropy, shape (n_pool,).

    References
    ----------
    Sec. 6.1 of the paper (Entropy baseline).
    """
    return _select_by(evidence, budget, rng, entropy_uncertainty)


def select_least_confidence(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """Query the points of lowest mean (normalised) top-class confidence.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence; uses every model's ``pool_probs``.
    budget : int
    rng : numpy.random.Generator

    Returns
    -------
    Selection
        ``scores`` = mean normalised ``1 - max_c p_c``, shape (n_pool,).

    References
    ----------
    Sec. 6.1 of the paper (Least Confidence baseline).
    """
    return _select_by(evidence, budget, rng, least_confidence_uncertainty)


def select_margin(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """Query the points of smallest mean (normalised) margin between the two top classes.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence; uses every model's ``pool_probs`` (at least two classes).
    budget : int
    rng : numpy.random.Generator

    Returns
    -------
    Selection
        ``scores`` = mean normalised ``1 - (p_(1) - p_(2))``, shape (n_pool,).

    References
    ----------
    Sec. 6.1 of the paper (Margin baseline).
    """
    return _select_by(evidence, budget, rng, margin_uncertainty, min_classes=2)
