"""DIAM for deep regression: the SVD variant (Algorithm 3) and the leverage variant (Algorithm 4).

The last layer of every target model is linear in its penultimate-layer features, so each
model's soft version space is an ellipsoid of linear heads around the least-squares fit.
Each model ranks the pool by how far the predictions of that ellipsoid can spread on a
point, votes for its top ``tau`` points, and the ``tau`` points with the most votes are
queried.

Ties in the vote count are broken by the sum over models of the per-model rank-normalised
scores (1 for a model's first choice, 0 for its last), then by pool position.

References
----------
Sec. 5.3 of the paper: Problem 1 / Eq. 12 (Algorithm 3) and Problem 2 (Algorithm 4).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from diamlib.evidence import Evidence, Selection
from diamlib.strategies._common import (
    finish_selection,
    model_features,
    order_descending,
    rank_normalise,
)
from diamlib.strategies.options import PositiveFloat, RelativeCutoff

#: Features come from float32 networks: singular values below ``max(rows, cols) * FLOAT32_EPS``
#: times the largest one are indistinguishable from rounding and count as zero.
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def _relative_cutoff(shape: tuple[int, int], rcond: float | None) -> float:
    """Default relative singular-value cutoff ``max(rows, cols) * float32 eps``."""
    if rcond is None:
        return max(shape) * FLOAT32_EPS
    if not 0 <= rcond < 1:
        raise ValueError(f"rcond must be in [0, 1), got {rcond}")
    return float(rcond)


# --------------------------------------------------------------------------- DIAM-svd
def row_space(labeled: np.ndarray, *, rcond: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Numerical row space of the labeled feature matrix ``L = A Sigma B'``.

    Parameters
    ----------
    labeled : ndarray, shape (n_labeled, c)
    rcond : float, optional
        Singular values ``<= rcond * sigma_max`` count as zero; default
        ``max(n_labeled, c) * float32 eps``.

    Returns
    -------
    singular_values : ndarray, shape (r,)
        The ``r`` retained singular values (``r`` = numerical rank).
    basis : ndarray, shape (c, r)
        ``B_r``: the corresponding right singular vectors (orthonormal columns).

    References
    ----------
    Sec. 5.3.1 of the paper (SVD of ``L`` in the proof of Eq. 12).
    """
    n_labeled, c = labeled.shape
    if n_labeled == 0:
        return np.zeros(0), np.zeros((c, 0))
    _, singular_values, right_t = np.linalg.svd(labeled, full_matrices=False)
    cutoff = _relative_cutoff(labeled.shape, rcond) * singular_values[0]
    rank = int((singular_values > cutoff).sum()) if singular_values[0] > 0 else 0
    return singular_values[:rank], right_t[:rank].T


class SvdDisagreement(NamedTuple):
    """Per-point spread of one model's soft version space (see :func:`svd_disagreement`)."""

    outside: np.ndarray
    residual_norm: np.ndarray
    row_space_score: np.ndarray
    rank: int


def svd_disagreement(pool: np.ndarray, labeled: np.ndarray, *, rcond: float | None = None,
                     residual_rtol: float = 1e-5) -> SvdDisagreement:
    """Spread of one model's soft version space on each pool point (Problem 1, Eq. 12).

    With ``L = A Sigma B'`` the soft version space is ``V = {w : ||L (w - w_bar)||^2 <= sigma}``
    and ``max_{w1, w2 in V} |w1' x - w2' x| = 2 sqrt(sigma) ||Sigma^-1 B' x||`` when ``L`` has
    full column rank (Eq. 12). The paper assumes full column rank (``n_l > c``); with 500
    labels and 1,280-d features ``L`` is rank deficient, the normal case. Then ``V``
    contains ``w_bar + t u`` for every ``u`` in the null space of ``L`` and every ``t``, so
    on a point with a component outside the row space of ``L``,

    .. math:: x_\\perp = x - B_r B_r^\\top x \\neq 0,

    the predictions of ``V`` spread without bound. Replacing ``V`` by the ridge-regularised
    ``{w : ||L w||^2 + lambda ||w||^2 <= sigma}`` gives the spread
    ``2 sqrt(sigma) (||Sigma_r^-1 B_r' x||^2 + ||x_perp||^2 / lambda)^(1/2)`` (with
    ``Sigma_r^2`` replaced by ``Sigma_r^2 + lambda``); as ``lambda -> 0`` the points with
    ``x_perp != 0`` come first, ordered by ``||x_perp||``, and the others follow ordered by
    ``||Sigma_r^-1 B_r' x||``, which is Eq. 12 on the row space.

    Parameters
    ----------
    pool : ndarray, shape (n_pool, c)
        ``U``, the model's pool features.
    labeled : ndarray, shape (n_labeled, c)
        ``L``, the model's labeled features.
    rcond : float, optional
        Relative singular-value cutoff of :func:`row_space`.
    residual_rtol : float
        ``x_perp`` counts as non-negligible when ``||x_perp|| > residual_rtol * ||x||``
        (above the rounding of float32 network features).

    Returns
    -------
    SvdDisagreement
        Named tuple with fields:
    outside : ndarray of bool, shape (n_pool,)
        Whether ``x`` has a non-negligible component outside the row space of ``L``.
    residual_norm : ndarray, shape (n_pool,)
        ``||x - B_r B_r' x||``.
    row_space_score : ndarray, shape (n_pool,)
        ``||Sigma_r^-1 B_r' x||`` (Eq. 12 restricted to the row space).
    rank : int
        Numerical rank ``r`` of ``L``.

    References
    ----------
    Problem 1 and Eq. 12 of the paper (Sec. 5.3.1).
    """
    if residual_rtol <= 0:
        raise ValueError(f"residual_rtol must be positive, got {residual_rtol}")
    singular_values, basis = row_space(labeled, rcond=rcond)
    coordinates = pool @ basis                               # (n_pool, r) = B_r' x
    row_space_score = np.linalg.norm(coordinates / singular_values, axis=1)
    residual_norm = np.linalg.norm(pool - coordinates @ basis.T, axis=1)
    outside = residual_norm > residual_rtol * np.linalg.norm(pool, axis=1)
    return SvdDisagreement(outside, residual_norm, row_space_score, int(singular_values.size))


def svd_model_order(pool: np.ndarray, labeled: np.ndarray, *, rcond: float | None = None,
                    residual_rtol: float = 1e-5) -> tuple[np.ndarray, SvdDisagreement]:
    """One model's ranking of the pool for DIAM-svd.

    Points outside the row space of ``L`` first (by ``||x_perp||``), then the rest by
    ``||Sigma^-1 B' x||`` (see :func:`svd_disagreement`), ties by pool position.

    Returns
    -------
    order : ndarray of int64, shape (n_pool,)
        Pool positions, most disagreement first.
    details : SvdDisagreement
        The quantities the ranking is built from.

    References
    ----------
    Algorithm 3, lines 3-7 of the paper.
    """
    details = svd_disagreement(pool, labeled, rcond=rcond, residual_rtol=residual_rtol)
    key = np.where(details.outside, details.residual_norm, details.row_space_score)
    return order_descending(details.outside.astype(np.float64), key), details


# --------------------------------------------------------------------------- DIAM-leverage
#: Smallest relative cutoff for which leverage scores are computed from the Gram matrix
#: ``X'X`` (eigenvalue error ``eps * sigma_max^2`` is then at most ``eps / GRAM_MIN_RCOND^2``
#: relative to the smallest retained ``sigma^2``); below it the thin SVD of ``X`` is used.
GRAM_MIN_RCOND = 1e-6


def leverage_scores(pool: np.ndarray, labeled: np.ndarray, *, rcond: float | None = None) -> np.ndarray:
    """Leverage scores of the pool rows of ``X = [U; L]``.

    With the thin SVD ``X = A Sigma B'`` truncated to the numerical rank ``r``, the
    leverage of row ``j`` is ``||A_r[j]||^2 = ||Sigma_r^-1 B_r' x_j||^2``, the ``j``-th
    diagonal entry of the hat matrix ``X (X'X)^+ X'``; for full column rank it is
    ``x_j' (X'X)^-1 x_j``. ``B_r`` and ``Sigma_r^2`` are taken from the eigen-decomposition
    of the ``c x c`` Gram matrix ``X'X`` (about five times faster than the SVD of the tall
    ``X``) unless ``rcond < GRAM_MIN_RCOND``, where the SVD of ``X`` is used.

    Parameters
    ----------
    pool : ndarray, shape (n_pool, c)
        ``U``.
    labeled : ndarray, shape (n_labeled, c)
        ``L``.
    rcond : float, optional
        Singular values ``<= rcond * sigma_max`` count as zero; default
        ``max(n_pool + n_labeled, c) * float32 eps``.

    Returns
    -------
    ndarray, shape (n_pool,), values in [0, 1]

    References
    ----------
    Problem 2 and Algorithm 4 of the paper (Sec. 5.3.2): ``||A' e_j||^2``.
    """
    stacked = np.vstack([pool, labeled])
    relative = _relative_cutoff(stacked.shape, rcond)
    if relative < GRAM_MIN_RCOND:
        left, singular_values, _ = np.linalg.svd(stacked, full_matrices=False)
        rank = int((singular_values > relative * singular_values[0]).sum()) if singular_values[0] > 0 else 0
        return np.square(left[: pool.shape[0], :rank]).sum(axis=1)
    eigenvalues, eigenvectors = np.linalg.eigh(stacked.T @ stacked)
    singular_values = np.sqrt(np.clip(eigenvalues[::-1], 0.0, None))
    basis = eigenvectors[:, ::-1]
    if singular_values[0] == 0:
        return np.zeros(pool.shape[0])
    rank = int((singular_values > relative * singular_values[0]).sum())
    return np.square(pool @ (basis[:, :rank] / singular_values[:rank])).sum(axis=1)


# --------------------------------------------------------------------------- voting
def vote_over_models(orders: Sequence[np.ndarray], tau: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine per-model rankings: each model votes for its top ``tau`` points.

    Parameters
    ----------
    orders : sequence of ndarray of int, each shape (n_pool,)
        Per-model rankings (pool positions, best first).
    tau : int
        Query batch size.

    Returns
    -------
    order : ndarray of int64, shape (n_pool,)
        Pool positions by votes (descending), then by ``rank_sum`` (descending), then by
        position.
    votes : ndarray of int64, shape (n_pool,)
        ``v_j = sum_i I[j among the top tau of model i]``.
    rank_sum : ndarray, shape (n_pool,)
        Sum over models of the rank-normalised scores (1 = a model's first choice, 0 = last).

    References
    ----------
    Algorithms 3-4, lines 9-12 of the paper (the tie-break is ours).
    """
    n_pool = orders[0].shape[0]
    votes = np.zeros(n_pool, dtype=np.int64)
    rank_sum = np.zeros(n_pool)
    for order in orders:
        votes[order[:tau]] += 1
        rank_sum += rank_normalise(order)
    return order_descending(votes.astype(np.float64), rank_sum), votes, rank_sum


def _voted_selection(evidence: Evidence, orders: list[np.ndarray], budget: int, rng: np.random.Generator,
                     info: dict) -> Selection:
    order, votes, rank_sum = vote_over_models(orders, budget)
    scores = votes + rank_sum / (len(orders) + 1)
    info["votes_of_chosen"] = votes[order[:budget]].tolist()
    return finish_selection(evidence, order, budget=budget, rng=rng, scores=scores, info=info)


# --------------------------------------------------------------------------- strategies
def select_diam_svd(evidence: Evidence, *, budget: int, rng: np.random.Generator,
                    rcond: RelativeCutoff | None = None, residual_rtol: PositiveFloat = 1e-5) -> Selection:
    """DIAM-svd (Algorithm 3): vote over the per-model ellipsoid spreads of Eq. 12.

    Parameters
    ----------
    evidence : Evidence
        Regression evidence; uses every model's ``pool_features`` and ``labeled_features``.
    budget : int
        ``tau``.
    rng : numpy.random.Generator
        Unused (the ranking is deterministic).
    rcond : float, optional
        Relative singular-value cutoff for the numerical rank of each ``L^i``.
    residual_rtol : float
        Relative size above which a component outside the row space of ``L^i`` counts.

    Returns
    -------
    Selection
        ``scores`` = ``votes + rank_sum / (n_models + 1)`` (consistent with the ranking);
        ``info`` holds each model's numerical rank and number of points outside its row space.

    References
    ----------
    Algorithm 3, Problem 1 and Eq. 12 of the paper (Sec. 5.3.1); see :func:`svd_disagreement`
    for the rank-deficient case.
    """
    orders, ranks, outside = [], {}, {}
    for model in evidence.models:
        pool, labeled = model_features(model)
        order, details = svd_model_order(pool, labeled, rcond=rcond, residual_rtol=residual_rtol)
        orders.append(order)
        ranks[model.name] = details.rank
        outside[model.name] = int(details.outside.sum())
    return _voted_selection(evidence, orders, budget, rng,
                            {"labeled_rank": ranks, "n_outside_row_space": outside})


def select_diam_leverage(evidence: Evidence, *, budget: int, rng: np.random.Generator,
                         rcond: RelativeCutoff | None = None) -> Selection:
    """DIAM-leverage (Algorithm 4): vote over the per-model leverage scores of ``[U; L]``.

    Parameters
    ----------
    evidence : Evidence
        Regression evidence; uses every model's ``pool_features`` and ``labeled_features``.
    budget : int
        ``tau``.
    rng : numpy.random.Generator
        Unused (the ranking is deterministic).
    rcond : float, optional
        Relative singular-value cutoff for the numerical rank of each ``X^i``.

    Returns
    -------
    Selection
        ``scores`` = ``votes + rank_sum / (n_models + 1)`` (consistent with the ranking).

    References
    ----------
    Algorithm 4 and Problem 2 of the paper (Sec. 5.3.2).
    """
    orders = []
    for model in evidence.models:
        pool, labeled = model_features(model)
        orders.append(order_descending(leverage_scores(pool, labeled, rcond=rcond)))
    return _voted_selection(evidence, orders, budget, rng, {})
