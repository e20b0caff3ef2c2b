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
from diamlib.extras import check_installed
from diamlib.selection.greedy_swap import greedy_swap_selection, marginal_gain
from diamlib.selection.knn import knn_adjacency, neighbour_count, sum_symmetrized
from diamlib.selection.reference.authors import authors_selection
from diamlib.selection.reference.relaxation import select_top, solve_diam_relaxation
from diamlib.strategies._common import (
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
        votes += disagreement_mask(model_snapshots(model))
    return votes


def model_vote_entropy(evidence: Evidence) -> np.ndarray:
    """Sum over models of the entropy of each model's own snapshot label votes.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.

    Returns
    -------
    ndarray, shape (n_pool,)
        ``sum_i -sum_c q_ic log q_ic`` with ``q_ic`` the fraction of model ``i``'s
        snapshot hypotheses that predict class ``c`` (0 where a model's snapshots agree).

    References
    ----------
    Tie-break of the conference version of DIAM (no diversity term) as the authors ran
    it (``DIAM`` in their ``al_select.py``: the summed per-model vote entropies).
    """
    n_pool = evidence.n_pool
    total = np.zeros(n_pool)
    positions = np.arange(n_pool, dtype=np.int64)[None, :]
    for model in evidence.models:
        labels = model_snapshots(model).astype(np.int64)
        n_classes = int(labels.max()) + 1 if labels.size else 1
        counts = np.bincount((positions * n_classes + labels).ravel(),
                             minlength=n_pool * n_classes).reshape(n_pool, n_classes)
        fractions = counts / labels.shape[0]
        total -= (fractions * np.log(np.where(fractions > 0, fractions, 1.0))).sum(axis=1)
    return total


def vote_diagnostics(votes: np.ndarray, n_models: int, budget: int) -> dict:
    """How much the votes ``v`` can tell the pool points apart for a batch of ``budget``.

    Parameters
    ----------
    votes : ndarray of int, shape (n_pool,)
        ``v`` from :func:`disagreement_votes`.
    n_models : int
    budget : int
        ``tau``.

    Returns
    -------
    dict
        ``vote_histogram``: number of pool points with ``v = 0, 1, ..., n_models``;
        ``top_tau_vote``: the ``tau``-th largest ``v``; ``top_tau_tie``: how many pool
        points share that value; ``top_tau_tie_needed``: how many of them a top-``tau``
        batch by ``v`` takes (``top_tau_tie >> top_tau_tie_needed`` means ``v`` alone
        cannot decide the batch); ``max_vote`` and ``max_vote_tie``: the largest ``v``
        and how many pool points share it; ``fraction_in_any_disagreement``: share of the
        pool with ``v > 0`` (1.0 makes CAL a random choice).

    References
    ----------
    ``v`` of Eq. 9 and Algorithm 2 (line 8) of the paper.
    """
    votes = np.asarray(votes, dtype=np.int64)
    tau = min(int(budget), votes.size)
    boundary = int(np.partition(votes, votes.size - tau)[votes.size - tau])
    above = int((votes > boundary).sum())
    return {
        "vote_histogram": np.bincount(votes, minlength=n_models + 1).astype(int).tolist(),
        "top_tau_vote": boundary,
        "top_tau_tie": int((votes == boundary).sum()),
        "top_tau_tie_needed": tau - above,
        "max_vote": int(votes.max()) if votes.size else 0,
        "max_vote_tie": int((votes == votes.max()).sum()) if votes.size else 0,
        "fraction_in_any_disagreement": float((votes > 0).mean()),
    }


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
    votes = disagreement_votes(evidence)
    in_any = votes > 0
    candidates = np.flatnonzero(in_any)
    ranked = rng.permutation(candidates)
    return finish_selection(evidence, ranked, budget=budget, rng=rng, scores=in_any.astype(np.float64),
                            info={"n_candidates": int(candidates.size),
                                  **vote_diagnostics(votes, len(evidence.models), budget)})


#: the conference version of DIAM draws its batch at random from this many times ``tau`` top-ranked points
NODIV_SHORTLIST_FACTOR = 5


def select_diam_nodiv(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """DIAM without the diversity term, as the authors ran their conference version.

    Points are ranked by ``v_m`` (descending), ties by the sum over models of each
    model's snapshot vote entropy (:func:`model_vote_entropy`, descending), then by pool
    position; the batch is ``tau`` points drawn at random from the top
    ``5 tau`` of that ranking.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` for every model.
    budget : int
    rng : numpy.random.Generator
        Draws the batch from the shortlist.

    Returns
    -------
    Selection
        ``scores`` = ``v + H / (2 H_max)`` with ``H`` the summed vote entropy and
        ``H_max`` its largest value over the pool (a single number consistent with the
        ranking); ``info`` holds :func:`vote_diagnostics` and ``shortlist``, the size of
        the shortlist.

    References
    ----------
    Algorithm 2 of the paper with Eq. 9 reduced to its informativeness term ``b' v``
    (the conference version of DIAM; ``DIAM`` in the authors' ``al_select.py``, from
    which the published raw results come).
    """
    votes = disagreement_votes(evidence)
    entropy = model_vote_entropy(evidence)
    ranking = order_descending(votes.astype(np.float64), entropy)
    shortlist = ranking[:min(NODIV_SHORTLIST_FACTOR * budget, ranking.size)]
    drawn = rng.permutation(shortlist)
    largest = entropy.max()
    scores = votes + (entropy / (2.0 * largest) if largest > 0 else 0.0)
    return finish_selection(evidence, drawn, budget=budget, rng=rng, scores=scores,
                            info={"shortlist": int(shortlist.size),
                                  **vote_diagnostics(votes, len(evidence.models), budget)})


# --------------------------------------------------------------------------- DIAM's batch solvers
def _pool_adjacencies(evidence: Evidence, k: int, knn_approx_dim: int | None) -> list:
    """Raw (unsymmetrised) kNN adjacency of Eq. 10 in every model's feature space."""
    graphs = []
    for model in evidence.models:
        pool, _ = model_features(model, with_labeled=False)
        graphs.append(knn_adjacency(search_dtype(model.pool_features, pool), k, approx_dim=knn_approx_dim))
    return graphs


def _summed_similarity(evidence: Evidence, k: int, knn_approx_dim: int | None):
    """``S = sum_i sym(S^i)`` as one float32 sparse matrix, built one model at a time.

    Only the sum enters Eq. 9's quadratic term, and the greedy search adds whole columns
    of ``S``: one symmetric matrix (entries are multiples of 1/2 up to the number of
    models, exact in float32) stores every neighbour pair once however many models share
    it; each model's graph exists only during its turn (:func:`sum_symmetrized`).
    """
    def graphs():
        for model in evidence.models:
            pool, _ = model_features(model, with_labeled=False)
            yield knn_adjacency(search_dtype(model.pool_features, pool), k, approx_dim=knn_approx_dim)

    return sum_symmetrized(graphs(), evidence.n_pool)


def marginal_decrease(similarity, votes: np.ndarray, positions: np.ndarray, beta: float) -> np.ndarray:
    """How much each pool point lowers Eq. 9 given the rest of the batch ``positions``.

    For a batch member ``j``: ``f(B \\ {j}) - f(B)``, the rise of the objective if ``j`` were
    dropped; for any other point: ``f(B) - f(B + {j})``, the fall if it were added. With
    ``S`` the summed similarity and ``b`` the batch indicator both are
    ``-(beta v_j + S_jj + 2 sum_{i in B, i != j} S_ij)``: higher is better, and a positive
    value means the point pays for its place.

    Parameters
    ----------
    similarity : scipy.sparse matrix, shape (n_pool, n_pool)
        ``S = sum_i sym(S^i)``.
    votes : ndarray, shape (n_pool,)
        ``v`` of Eq. 9.
    positions : ndarray of int, shape (tau,)
    beta : float

    Returns
    -------
    ndarray of float64, shape (n_pool,)

    References
    ----------
    Eq. 9 of the paper.
    """
    b = np.zeros(votes.shape[0])
    b[positions] = 1.0
    diagonal = np.asarray(similarity.diagonal(), dtype=np.float64)
    others = np.asarray(similarity @ b, dtype=np.float64).ravel() - diagonal * b
    return -marginal_gain(beta * votes, diagonal, others)


def _batch_greedy_swap(evidence, votes, *, budget, beta, knn_fraction, knn_approx_dim, swap_candidates,
                       max_swap_passes, **_):
    k = neighbour_count(evidence.n_pool, knn_fraction)
    similarity = _summed_similarity(evidence, k, knn_approx_dim)
    result = greedy_swap_selection([similarity], votes, tau=budget, beta=beta,
                                   n_candidates=swap_candidates, max_passes=max_swap_passes)
    scores = marginal_decrease(similarity, votes, result.positions, beta)
    return result.positions, scores, {
        "solver": "greedy-swap", "objective": float(result.objective),
        "greedy_objective": float(result.greedy_objective), "swaps": int(result.swaps),
        "swap_passes": int(result.passes), "converged": bool(result.converged), "k_neighbours": int(k)}


def _batch_authors(evidence, votes, *, budget, beta, **_):
    features = []
    for model in evidence.models:
        pool, _ = model_features(model, with_labeled=False)
        features.append(search_dtype(model.pool_features, pool))
    result = authors_selection(features, votes, tau=budget, beta=beta)
    return result.positions, result.b, {
        "solver": f"authors ({result.solver})", "converged": bool(result.converged),
        "k_neighbours": int(result.k), "subsample": int(result.subsample.size)}


def _batch_relaxation(evidence, votes, *, budget, beta, knn_fraction, knn_approx_dim, solver, max_iter, tol, **_):
    k = neighbour_count(evidence.n_pool, knn_fraction)
    graphs = _pool_adjacencies(evidence, k, knn_approx_dim)
    solution = solve_diam_relaxation(graphs, votes, tau=budget, beta=beta, solver=solver, max_iter=max_iter, tol=tol)
    b = np.asarray(solution.b, dtype=np.float64)
    return select_top(b, budget, tie_break=votes), b, {
        "solver": solution.solver, "relaxed_objective": float(solution.objective),
        "iterations": int(solution.iterations), "converged": bool(solution.converged), "k_neighbours": int(k)}


#: ``solver`` option of :func:`select_diam` -> batch builder
_DIAM_SOLVERS = {
    "greedy-swap": _batch_greedy_swap,
    "authors": _batch_authors,
    "fista": _batch_relaxation,
    "cvxpy": _batch_relaxation,
}
#: Solvers that run through cvxpy (the ``reference`` extra, :mod:`diamlib.extras`).
_SOLVERS_NEEDING_CVXPY = ("authors", "cvxpy")


def select_diam(
    evidence: Evidence,
    *,
    budget: int,
    rng: np.random.Generator,
    beta: NegativeFloat = -0.1,
    knn_fraction: UnitFraction = 0.01,
    solver: Literal["greedy-swap", "authors", "fista", "cvxpy"] = "greedy-swap",
    swap_candidates: Annotated[int, Field(ge=1)] = 1000,
    max_swap_passes: Annotated[int, Field(ge=0)] = 10,
    max_iter: Annotated[int, Field(ge=1)] = 500,
    tol: PositiveFloat = 1e-6,
    knn_approx_dim: Annotated[int, Field(ge=2)] | None = None,
) -> Selection:
    """DIAM for deep classification (Algorithm 2): joint disagreement plus per-model diversity.

    Selects the batch of ``tau`` pool points that minimises Eq. 9,

    .. math:: \\min_{b \\in \\{0,1\\}^{n_u},\\ \\sum_m b_m = \\tau}\\ \\sum_i b^\\top S^i b + \\beta\\, b^\\top v,

    where ``v_m`` counts the models whose soft version space disagrees on ``x_m`` and
    ``S^i`` is the symmetrised k-nearest-neighbour adjacency (Eq. 10) in model ``i``'s
    penultimate-layer feature space with ``k = ceil(knn_fraction * n_pool)`` neighbours
    (:func:`diamlib.selection.knn.neighbour_count`). ``beta`` is always the paper's
    ``beta`` of Eq. 9.

    Parameters
    ----------
    evidence : Evidence
        Classification evidence with ``snapshot_predictions`` and ``pool_features`` for
        every model.
    budget : int
        ``tau``.
    rng : numpy.random.Generator
        Unused (every solver is deterministic).
    beta : float
        Trade-off in Eq. 9; must be negative. Default -0.1, the paper's recommendation except on
        many-class data (Sec. 6.4; it sweeps -0.1, -1, -10).
    knn_fraction : float
        Fraction of the pool that counts as a point's neighbours, in (0, 1] (paper: 1 %).
    solver : {"greedy-swap", "authors", "fista", "cvxpy"}
        ``"greedy-swap"`` (default): lazy greedy on the binary Eq. 9 followed by improving
        swaps (:func:`diamlib.selection.greedy_swap.greedy_swap_selection`); any pool size.
        ``"authors"``: the recipe of the authors' public code
        (:func:`diamlib.selection.reference.authors.authors_selection`: top ``min(n // 5, 15000)``
        points by ``v``, self-inclusive ``int(0.01 m)`` neighbours, eigenvalue clipping,
        their factor 1/2 converted so that ``beta`` keeps the paper's meaning); dense,
        for pools up to about 15,000 after subsampling; ``knn_fraction`` and
        ``knn_approx_dim`` are not used.
        ``"fista"`` / ``"cvxpy"``: the diagonally shifted convex relaxation, rounded to
        its top ``tau`` coordinates (:func:`diamlib.selection.reference.relaxation.solve_diam_relaxation`).
    swap_candidates, max_swap_passes : int
        ``"greedy-swap"`` only: non-members examined per swap pass, and the pass limit.
    max_iter, tol : int, float
        ``"fista"`` / ``"cvxpy"`` only: iteration limit and tolerance.
    knn_approx_dim : int, optional
        Search neighbours among the top ``knn_approx_dim`` principal components of each
        model's features instead of exactly (faster on large pools; the selection benchmark
        reports its recall). Default: exact.

    Returns
    -------
    Selection
        ``scores``: the relaxed ``b`` (``"authors"``, ``"fista"``, ``"cvxpy"``) or, for
        ``"greedy-swap"``, each point's marginal decrease of Eq. 9 given the rest of the batch
        (:func:`marginal_decrease`), shape (n_pool,). ``info``: the solver's
        figures (objective, swaps, iterations, convergence), ``k_neighbours`` and
        :func:`vote_diagnostics`.

    References
    ----------
    Algorithm 2 and Eq. 9-10 of the paper (Sec. 5.2); sensitivity to beta in Sec. 6.4.
    """
    if solver in _SOLVERS_NEEDING_CVXPY:  # before any work: the reference extra may be missing
        check_installed("cvxpy", f"the diam strategy with solver='{solver}'")
    n_pool = evidence.n_pool
    votes = disagreement_votes(evidence)
    diagnostics = vote_diagnostics(votes, len(evidence.models), budget)
    if n_pool == 1:  # nothing to trade off: the only point is the whole batch
        return finish_selection(evidence, [0], budget=budget, rng=rng, scores=np.ones(1), info=diagnostics)
    positions, scores, info = _DIAM_SOLVERS[solver](
        evidence, votes.astype(np.float64), budget=budget, beta=beta, knn_fraction=knn_fraction,
        knn_approx_dim=knn_approx_dim, solver=solver, swap_candidates=swap_candidates,
        max_swap_passes=max_swap_passes, max_iter=max_iter, tol=tol)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=scores,
                            info={**info, **diagnostics})
