"""Disagreement-based strategies for classification: CAL, DIAM (Algorithm 2) and DIAM without diversity.

Each model's soft version space is the set of its later-epoch hypotheses
(epochs floor(T/2)..T); a pool point lies in the disagreement region ``DIS(V_i)`` of
model ``i`` when those hypotheses do not all predict the same label on it.

References
----------
Sec. 5.2 and Algorithm 2 of the paper (Eq. 9-10); CAL [15] as in Sec. 6.1.
"""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from diamlib.evidence import Evidence, Selection
from diamlib.selection.knn import knn_adjacency, neighbour_count
from diamlib.selection.qp import select_top, solve_diam_relaxation
from diamlib.strategies._common import (
    check_call,
    finish_selection,
    model_features,
    model_snapshots,
    order_descending,
    search_dtype,
)
from diamlib.strategies.options import NegativeFloat, PositiveFloat, UnitFraction


# --------------------------------------------------------------------------- scorers
def disagreement_mask(snapshot_predictions: np.ndarray) -> np.ndarray:
    """Whether each pool point lies in the disagreement region of one soft version space.

    Parameters
    ----------
    snapshot_predictions : ndarray of int, shape (n_snapshots, n_pool)

    Returns
    -------
    ndarray of bool, shape (n_pool,)
        True where the snapshot hypotheses do not all predict the same label.

    References
    ----------
    Algorithm 2, lines 4 and 8 of the paper: ``I[x_m in DIS(V_i)]``.
    """
    return (snapshot_predictions != snapshot_predictions[:1]).any(axis=0)


def disagreement_votes(evidence: Evidence) -> np.ndarray:
    """Informativeness ``v_m``: number of models whose soft version space disagrees on ``x_m``.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.

    Returns
    -------
    ndarray of int64, shape (n_pool,), values in 0..n_models

    References
    ----------
    Algorithm 2, line 8 of the paper; ``v`` in Eq. 9.
    """
    votes = np.zeros(evidence.n_pool, dtype=np.int64)
    for model in evidence.models:
        votes += disagreement_mask(model_snapshots(model, evidence.n_pool))
    return votes


def vote_entropy(evidence: Evidence) -> np.ndarray:
    """Entropy of the label votes of all snapshot hypotheses of all models on each pool point.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.

    Returns
    -------
    ndarray, shape (n_pool,)
        ``-sum_c q_c log q_c`` with ``q_c`` the fraction of all snapshot predictions
        (over every model) that say class ``c``.

    References
    ----------
    Tie-break of the conference version of DIAM (no diversity term), Sec. 5.2 of the paper.
    """
    n_pool = evidence.n_pool
    labels = np.concatenate([model_snapshots(m, n_pool) for m in evidence.models], axis=0).astype(np.int64)
    n_votes, n_classes = labels.shape[0], int(labels.max()) + 1 if labels.size else 1
    keys = np.arange(n_pool, dtype=np.int64)[None, :] * n_classes + labels
    counts = np.bincount(keys.ravel(), minlength=n_pool * n_classes).reshape(n_pool, n_classes)
    fractions = counts / n_votes
    safe = np.where(fractions > 0, fractions, 1.0)
    return -(fractions * np.log(safe)).sum(axis=1)


# --------------------------------------------------------------------------- strategies
def select_cal(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """CAL: query at random among pool points in the disagreement region of any model.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.
    budget : int
    rng : numpy.random.Generator
        Orders the candidates at random; fills up at random if fewer than ``budget``
        points are in any disagreement region.

    Returns
    -------
    Selection
        ``scores`` = 1.0 inside the union of the disagreement regions, 0.0 outside;
        ``info["n_candidates"]`` = size of that union.

    References
    ----------
    CAL [15] as adapted in Sec. 6.1 of the paper ("queries data that falls into the
    disagreement region of any of the target models").
    """
    check_call(evidence, budget, rng, task="classification")
    in_any = disagreement_votes(evidence) > 0
    candidates = np.flatnonzero(in_any)
    ranked = rng.permutation(candidates)
    return finish_selection(evidence, ranked, budget=budget, rng=rng, scores=in_any.astype(np.float64),
                            info={"n_candidates": int(candidates.size)})


def select_diam_nodiv(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """DIAM without the diversity term: rank by the number of disagreeing models.

    Points are ranked by ``v_m`` (descending), ties by the vote entropy of all snapshot
    predictions of all models (descending), then by pool position.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.
    budget : int
    rng : numpy.random.Generator
        Unused apart from validation (the ranking is deterministic).

    Returns
    -------
    Selection
        ``scores`` = ``v + H / (2 H_max)`` with ``H`` the vote entropy and ``H_max`` its
        largest value over the pool, a single number consistent with the ranking.

    References
    ----------
    Algorithm 2 of the paper with Eq. 9 reduced to its informativeness term ``b' v``
    (the conference version of DIAM).
    """
    check_call(evidence, budget, rng, task="classification")
    votes = disagreement_votes(evidence).astype(np.float64)
    entropy = vote_entropy(evidence)
    order = order_descending(votes, entropy)
    largest = entropy.max()
    scores = votes + (entropy / (2.0 * largest) if largest > 0 else 0.0)
    return finish_selection(evidence, order, budget=budget, rng=rng, scores=scores,
                            info={"n_in_any_disagreement": int((votes > 0).sum())})


def select_diam(
    evidence: Evidence,
    *,
    budget: int,
    rng: np.random.Generator,
    beta: NegativeFloat = -1.0,
    knn_fraction: UnitFraction = 0.01,
    solver: Literal["fista", "cvxpy"] = "fista",
    max_iter: Annotated[int, Field(ge=1)] = 500,
    tol: PositiveFloat = 1e-6,
    knn_approx_dim: Annotated[int, Field(ge=2)] | None = None,
) -> Selection:
    """DIAM for deep classification (Algorithm 2): joint disagreement plus per-model diversity.

    Solves the relaxation of Eq. 9,

    .. math:: \\min_{b \\in [0,1]^{n_u},\\ \\sum_m b_m = \\tau}\\ \\sum_i b^\\top S^i b + \\beta\\, b^\\top v,

    where ``v_m`` counts the models whose soft version space disagrees on ``x_m`` and
    ``S^i`` is the symmetrised k-nearest-neighbour adjacency (Eq. 10) in model ``i``'s
    penultimate-layer feature space with ``k = ceil(knn_fraction * n_pool)`` neighbours
    (:func:`diamlib.selection.knn.neighbour_count`), and queries the ``tau`` largest
    coordinates of ``b`` (equal ``b``: larger ``v`` first, then lower pool position). The
    solver adds a constant diagonal shift that makes the problem convex without changing
    the objective's ranking of binary selections (:mod:`diamlib.selection.qp`).

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` and ``pool_features`` for
        every model.
    budget : int
        ``tau``.
    rng : numpy.random.Generator
        Unused apart from validation (the solution is deterministic).
    beta : float
        Trade-off in Eq. 9; must be negative (the paper uses -0.1, -1, -10).
    knn_fraction : float
        Fraction of the pool that counts as a point's neighbours (paper: 1 %).
    solver : {"fista", "cvxpy"}
        Solver of the relaxed quadratic program.
    max_iter, tol : int, float
        Iteration limit and tolerance of the solver.
    knn_approx_dim : int, optional
        Search neighbours among the top ``knn_approx_dim`` principal components of each
        model's features instead of exactly (faster on large pools; the selection benchmark
        reports its recall). Default: exact.

    Notes
    -----
    The kNN adjacencies go to the solver unsymmetrised: ``b' S b = b' ((S + S')/2) b``, so
    the solver works with the symmetric part (Algorithm 2, line 6) implicitly, without
    storing a second copy of each graph.

    Returns
    -------
    Selection
        ``scores`` = the relaxed solution ``b``, shape (n_pool,); ``info`` holds the
        solver's objective, iteration count and convergence flag, ``k`` and the number of
        points with ``v > 0``.

    Raises
    ------
    ValueError
        ``beta >= 0`` or ``knn_fraction`` outside (0, 1].

    References
    ----------
    Algorithm 2 and Eq. 9-10 of the paper (Sec. 5.2); sensitivity to beta in Sec. 6.4.
    """
    check_call(evidence, budget, rng, task="classification")
    if not beta < 0:
        raise ValueError(
            f"beta must be negative: Eq. 9 of the paper trades the diversity term against the "
            f"informativeness b'v with beta < 0 (Sec. 6.4 uses -0.1, -1.0, -10.0); got {beta}"
        )
    if not 0 < knn_fraction <= 1:
        raise ValueError(f"knn_fraction must be in (0, 1] (the paper uses 0.01), got {knn_fraction}")
    n_pool = evidence.n_pool
    votes = disagreement_votes(evidence)
    if n_pool == 1:  # nothing to trade off: the only point is the whole batch
        return finish_selection(evidence, [0], budget=budget, rng=rng, scores=np.ones(1),
                                info={"n_in_any_disagreement": int(votes[0] > 0)})
    k = neighbour_count(n_pool, knn_fraction)
    similarities = []
    for model in evidence.models:
        pool, _ = model_features(model, n_pool, with_labeled=False)
        similarities.append(knn_adjacency(search_dtype(model.pool_features, pool), k, approx_dim=knn_approx_dim))
    solution = solve_diam_relaxation(similarities, votes.astype(np.float64), tau=budget, beta=beta,
                                     solver=solver, max_iter=max_iter, tol=tol)
    b = np.asarray(solution.b, dtype=np.float64)
    positions = select_top(b, budget, tie_break=votes.astype(np.float64))
    info = {
        "solver": solution.solver,
        "objective": float(solution.objective),
        "iterations": int(solution.iterations),
        "converged": bool(solution.converged),
        "k_neighbours": int(k),
        "n_in_any_disagreement": int((votes > 0).sum()),
    }
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=b, info=info)
