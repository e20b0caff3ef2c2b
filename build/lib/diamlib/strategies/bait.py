"""BAIT for regression: greedy Fisher-information selection, forward then backward.

Following BM-DAL (configuration ``bait-fb-p_ll_train``): in the posterior last-layer
feature space (:mod:`diamlib.strategies.last_layer`), with ``Phi`` the pool features,
``C = Phi_pool' Phi_pool + Phi_L' Phi_L`` and noise ``sigma``, the forward step adds the
point maximising ``phi' C phi / (phi' phi + sigma^2)``, the trace reduction of the
posterior covariance weighted by ``C`` (Sherman-Morrison); every addition conditions all
features, ``C`` and the scores on the new point. The forward pass over-selects
``overselection_factor * budget`` points; the backward pass then removes, one at a time,
the point whose removal increases the objective least.

References
----------
BAIT [2] as implemented with BM-DAL in Sec. 6.6 of the paper.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from diamlib.evidence import Evidence, Selection
from diamlib.selection.greedy import greedy_select
from diamlib.strategies._common import finish_selection, greedy_order_scores, model_features
from diamlib.strategies.last_layer import posterior_features
from diamlib.strategies.options import PositiveFloat

_DENOMINATOR_GUARD = 1e-8   # added to the forward score's denominator, as in BM-DAL


class _BaitState:
    """Running posterior quantities of one BAIT batch (lives for one selection only).

    Attributes
    ----------
    features : ndarray, shape (n_pool, p)
        Pool features conditioned on the points added so far.
    sq_norms : ndarray, shape (n_pool,)
        Posterior variances ``phi' phi``.
    weighted : ndarray, shape (p, p)
        ``C`` conditioned on the points added so far.
    numerators : ndarray, shape (n_pool,)
        ``phi' C phi``.
    """

    def __init__(self, pool: np.ndarray, labeled: np.ndarray, noise: float):
        self.noise = noise
        self.features = pool.copy()
        self.sq_norms = np.sum(pool**2, axis=1)
        self.weighted = pool.T @ pool + labeled.T @ labeled
        self.numerators = np.einsum("ij,ij->i", pool @ self.weighted, pool)

    def forward_scores(self) -> np.ndarray:
        return self.numerators / (self.sq_norms + self.noise**2 + _DENOMINATOR_GUARD)

    def backward_scores(self, selected: list[int]) -> np.ndarray:
        denominators = self.sq_norms[selected] - self.noise**2
        scores = np.maximum(self.numerators[selected], 0.0) / np.where(denominators == 0, 1.0, denominators)
        scores[denominators >= 0] = -np.inf
        return scores

    def _update(self, position: int, sign: float) -> None:
        """Condition on (``sign=+1``) or un-condition on (``sign=-1``) one pool point."""
        if sign > 0:
            variance = self.sq_norms[position] + self.noise**2
        else:
            variance = max(self.noise**2 - self.sq_norms[position], 1e-15)
        root = np.sqrt(variance)
        beta = 1.0 / (root * (root + self.noise))
        phi = self.features[position].copy()
        dots = self.features @ phi
        weighted_phi = self.weighted @ phi
        phi_weighted_phi = self.numerators[position]
        self.numerators += -sign * 2.0 / variance * (self.features @ weighted_phi) * dots
        self.numerators += phi_weighted_phi / variance**2 * dots**2
        outer = np.outer(weighted_phi, phi)
        self.weighted += -sign * beta * (outer + outer.T) + beta**2 * phi_weighted_phi * np.outer(phi, phi)
        self.features += -sign * beta * np.outer(dots, phi)
        self.sq_norms += -sign * dots**2 / variance

    def add(self, position: int) -> None:
        self._update(position, +1.0)

    def remove(self, position: int) -> None:
        self._update(position, -1.0)


class _BaitForward:
    """BAIT's forward pass as a :class:`~diamlib.selection.greedy.GreedySelector`: add the best point."""

    def __init__(self, state: _BaitState):
        self.state = state

    def prepare(self) -> None:
        self.selected: list[int] = []

    def get_scores(self) -> np.ndarray:
        scores = self.state.forward_scores()
        scores[self.selected] = -np.inf
        return scores

    def get_next_idx(self) -> int | None:
        """The point with the largest trace reduction; None when no score is positive."""
        scores = self.get_scores()
        best = int(np.argmax(scores))
        return best if scores[best] > 0 else None

    def add(self, idx: int) -> None:
        self.state.add(idx)
        self.selected.append(idx)


class _BaitBackward:
    """BAIT's backward pass as a :class:`~diamlib.selection.greedy.GreedySelector`.

    Each step "picks" a position into the current selection and removes that point: the one
    whose removal increases the objective least.
    """

    def __init__(self, state: _BaitState, selected: list[int]):
        self.state, self.selected = state, selected

    def prepare(self) -> None:
        pass

    def get_scores(self) -> np.ndarray:
        return self.state.backward_scores(self.selected)

    def get_next_idx(self) -> int | None:
        """Position (into the selection) of the point to remove; None when no removal qualifies."""
        scores = self.get_scores()
        worst = int(np.argmax(scores))
        return worst if np.isfinite(scores[worst]) and scores[worst] < 0 else None

    def add(self, idx: int) -> None:
        self.state.remove(self.selected[idx])
        del self.selected[idx]


def bait_forward_backward(pool: np.ndarray, labeled: np.ndarray, budget: int, *, sigma: float,
                          overselection_factor: float = 2.0) -> tuple[list[int], str | None]:
    """BAIT's greedy forward-backward selection in feature space.

    Parameters
    ----------
    pool : ndarray, shape (n_pool, p)
        Posterior last-layer features of the pool.
    labeled : ndarray, shape (n_labeled, p)
        Posterior last-layer features of the labeled set.
    budget : int
    sigma : float
        Noise standard deviation.
    overselection_factor : float
        The forward pass selects ``min(round(factor * budget), n_pool)`` points (>= 1).

    Returns
    -------
    positions : list of int
        Chosen pool positions in order (forward order, minus the removed ones); shorter
        than ``budget`` when the forward pass ran out of points with a positive score.
    status : str or None
        Why the selection stopped early, or None.

    References
    ----------
    BAIT [2] via BM-DAL (``BaitFeatureSpaceSelectionMethod`` with forward-backward), Sec. 6.6
    of the paper.
    """
    n_pool = pool.shape[0]
    n_forward = min(round(overselection_factor * budget), n_pool)
    state = _BaitState(pool, labeled, sigma)
    selected = greedy_select(_BaitForward(state), n_forward)
    if len(selected) < n_forward:
        return selected[:budget], f"forward pass stopped after {len(selected)} points: no positive score left"
    n_removals = len(selected) - budget
    if len(greedy_select(_BaitBackward(state, selected), n_removals)) < n_removals:
        return selected[:budget], f"backward pass stopped at {len(selected)} points"
    return selected, None


def select_bait(evidence: Evidence, *, budget: int, rng: np.random.Generator, sigma: PositiveFloat = 0.1,
                overselection_factor: Annotated[float, Field(ge=1)] = 2.0, with_bias: bool = True) -> Selection:
    """BAIT: greedy Fisher-information batch on the designated model's last-layer features.

    Parameters
    ----------
    evidence : Evidence
        Regression evidence; uses ``pool_features`` and ``labeled_features`` of
        ``evidence.feature_evidence()`` (a frozen supernet's
        features with ``feature_model: supernet``, else the target model at ``evidence.feature_model``).
    budget : int
    rng : numpy.random.Generator
        Only draws the random fill when the greedy passes stop early.
    sigma : float
        Noise standard deviation of the posterior transform and of BAIT (BM-DAL: 0.1).
    overselection_factor : float
        Forward over-selection before the backward pass (BM-DAL "fb": 2.0; 1.0 = forward only).
    with_bias : bool
        Include the bias gradient in the last-layer features.

    Returns
    -------
    Selection
        ``scores`` = ``budget - order`` for the chosen points, 0 elsewhere; ``info["status"]``
        says why the greedy passes stopped early, if they did.

    References
    ----------
    BAIT [2] via BM-DAL, Sec. 6.6 of the paper.
    """
    model = evidence.feature_evidence()
    pool, labeled = model_features(model)
    pool_post, labeled_post = posterior_features(pool, labeled, sigma=sigma, with_bias=with_bias)
    positions, status = bait_forward_backward(pool_post, labeled_post, budget, sigma=sigma,
                                              overselection_factor=overselection_factor)
    scores = greedy_order_scores(positions, evidence.n_pool, budget)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=scores,
                            info={"feature_model": model.name, "status": status})
