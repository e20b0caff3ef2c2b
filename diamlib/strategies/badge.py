"""BADGE for regression: k-means++ seeding in the posterior last-layer feature space.

Following BM-DAL (configuration ``kmeanspp-p_ll_train``): the pool is embedded with the
last-layer kernel conditioned on the labeled set (:mod:`diamlib.strategies.last_layer`),
which scales each point by its posterior uncertainty, and the batch is drawn by
k-means++ seeding: the first point uniformly at random, each further point with
probability proportional to its squared distance to the nearest chosen point.

References
----------
BADGE [3] as implemented with BM-DAL in Sec. 6.6 of the paper.
"""
from __future__ import annotations

import numpy as np

from diamlib.evidence import Evidence, Selection
from diamlib.strategies._common import check_call, feature_model, finish_selection, greedy_order_scores, model_features
from diamlib.strategies.last_layer import posterior_features
from diamlib.strategies.options import PositiveFloat


def kmeanspp_seeding(features: np.ndarray, budget: int, rng: np.random.Generator) -> list[int]:
    """k-means++ seeding (D^2 sampling) of up to ``budget`` rows.

    Parameters
    ----------
    features : ndarray, shape (n, d)
    budget : int
    rng : numpy.random.Generator

    Returns
    -------
    list of int
        Chosen row positions in order; shorter than ``budget`` when every remaining row
        coincides with a chosen one (all squared distances zero).

    References
    ----------
    BADGE [3] (k-means++ seeding), BM-DAL's ``KmeansppSelectionMethod``.
    """
    n = features.shape[0]
    chosen = [int(rng.integers(n))]
    min_sq_dist = np.full(n, np.inf)
    while len(chosen) < budget:
        last = features[chosen[-1]]
        min_sq_dist = np.minimum(min_sq_dist, np.sum((features - last) ** 2, axis=1))
        weights = np.maximum(min_sq_dist, 0.0)
        weights[chosen] = 0.0
        total = weights.sum()
        if not (np.isfinite(total) and total > 0):
            break
        chosen.append(int(rng.choice(n, p=weights / total)))
    return chosen


def select_badge(evidence: Evidence, *, budget: int, rng: np.random.Generator,
                 sigma: PositiveFloat = 0.1, with_bias: bool = True) -> Selection:
    """BADGE: k-means++ seeding on the designated model's posterior last-layer features.

    Parameters
    ----------
    evidence : Evidence
        Regression evidence; uses ``pool_features`` and ``labeled_features`` of
        ``evidence.models[evidence.feature_model]``.
    budget : int
    rng : numpy.random.Generator
        Draws the seeding and any random fill.
    sigma : float
        Noise standard deviation of the posterior transform (BM-DAL: 0.1).
    with_bias : bool
        Include the bias gradient in the last-layer features.

    Returns
    -------
    Selection
        ``scores`` = ``budget - order`` for the chosen points, 0 elsewhere (greedy
        sampling has no per-point utility independent of the order). If all remaining
        points coincide with chosen ones the rest is filled at random.

    References
    ----------
    BADGE [3] via BM-DAL, Sec. 6.6 of the paper.
    """
    check_call(evidence, budget, rng, task="regression")
    model = feature_model(evidence)
    pool, labeled = model_features(model, evidence.n_pool)
    pool_post, _ = posterior_features(pool, labeled, sigma=sigma, with_bias=with_bias)
    positions = kmeanspp_seeding(pool_post, budget, rng)
    scores = greedy_order_scores(positions, evidence.n_pool, budget)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=scores,
                            info={"feature_model": model.name})
