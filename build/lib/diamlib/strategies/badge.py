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
from diamlib.selection.greedy import greedy_select
from diamlib.strategies._common import finish_selection, greedy_order_scores, model_features
from diamlib.strategies.last_layer import posterior_features
from diamlib.strategies.options import PositiveFloat


class KMeansPlusPlusSelector:
    """One k-means++ seeding (D^2 sampling): a :class:`~diamlib.selection.greedy.GreedySelector`.

    Parameters
    ----------
    features : ndarray, shape (n, d)
    rng : numpy.random.Generator
        Draws the first row uniformly, then each further row with probability proportional
        to its squared distance to the nearest chosen row.
    """

    def __init__(self, features: np.ndarray, rng: np.random.Generator):
        self.features, self.rng = features, rng

    def prepare(self) -> None:
        self.chosen: list[int] = []
        self.min_sq_dist = np.full(self.features.shape[0], np.inf)

    def get_scores(self) -> np.ndarray:
        """Sampling weights: squared distance to the nearest chosen row (0 for chosen rows)."""
        weights = np.maximum(self.min_sq_dist, 0.0)
        weights[self.chosen] = 0.0
        return weights

    def get_next_idx(self) -> int | None:
        """A uniform first row, then D^2 sampling; None when every weight is zero."""
        n = self.features.shape[0]
        if not self.chosen:
            return int(self.rng.integers(n))
        weights = self.get_scores()
        total = weights.sum()
        if not (np.isfinite(total) and total > 0):
            return None
        return int(self.rng.choice(n, p=weights / total))

    def add(self, idx: int) -> None:
        self.chosen.append(idx)
        self.min_sq_dist = np.minimum(self.min_sq_dist, np.sum((self.features - self.features[idx]) ** 2, axis=1))


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
    return greedy_select(KMeansPlusPlusSelector(features, rng), budget)


def select_badge(evidence: Evidence, *, budget: int, rng: np.random.Generator,
                 sigma: PositiveFloat = 0.1, with_bias: bool = True) -> Selection:
    """BADGE: k-means++ seeding on the designated model's posterior last-layer features.

    Parameters
    ----------
    evidence : Evidence
        Regression evidence; uses ``pool_features`` and ``labeled_features`` of
        ``evidence.feature_evidence()`` (a frozen supernet's
        features with ``feature_model: supernet``, else the target model at ``evidence.feature_model``).
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
    model = evidence.feature_evidence()
    pool, labeled = model_features(model)
    pool_post, _ = posterior_features(pool, labeled, sigma=sigma, with_bias=with_bias)
    positions = kmeanspp_seeding(pool_post, budget, rng)
    scores = greedy_order_scores(positions, evidence.n_pool, budget)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=scores,
                            info={"feature_model": model.name})
