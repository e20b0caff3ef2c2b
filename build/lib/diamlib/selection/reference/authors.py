"""DIAM's batch as the authors' public code selects it (``al_select.py``, ``DIAM_qp``).

The recipe, step by step, for a pool of ``n`` points, votes ``v`` and features per model:

1. Keep the ``m = min(n // 5, 15000)`` points with the largest ``v`` (:func:`authors_subsample`).
2. For each model, link every kept point to its ``k = int(0.01 * m)`` nearest kept points,
   *the point itself included* (distance 0), and sum these 0/1 adjacencies over models.
3. Symmetrise, ``P = (A + A') / 2``, and make ``P`` positive semidefinite by setting its
   negative eigenvalues to zero (dense eigendecomposition).
4. Solve ``min 1/2 b'Pb + q'b`` over ``0 <= b <= 1``, ``sum(b) = tau`` with
   ``q = -q_coef * v`` (``qpsolvers`` with OSQP in their code), and query the ``tau``
   largest coordinates of ``b``.

Because of the factor 1/2 in step 4, their configured coefficient ``q_coef`` is the
paper's ``beta`` of Eq. 9 up to a factor ``-2``: ``1/2 b'Pb - q_coef b'v`` has the
minimisers of ``b'Pb + beta b'v`` with ``beta = -2 q_coef``. Everything in diamlib
speaks of the paper's ``beta``; :func:`authors_q_coefficient` converts.

Differences from their script, all deliberate: the QP is solved through cvxpy (OSQP,
falling back to CLARABEL; ``qpsolvers`` is not a dependency), with tighter tolerances;
step 3 uses the symmetric eigensolver ``numpy.linalg.eigh`` (their ``numpy.linalg.eig``
does not guarantee orthogonal eigenvectors for repeated eigenvalues); ties in step 1
and in the final ranking are broken by pool position (their ``argsort`` leaves them to
the sorting algorithm). The matrices are dense ``m x m``: meant for pools up to about
15,000 points after subsampling, as in their code.

References
----------
Eq. 9, Algorithm 2 and Sec. 5.2 of the paper; the authors' repository
github.com/tangypnuaa/DIAM, ``al_select.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from diamlib.extras import require_module
from diamlib.selection.knn import knn_adjacency
from diamlib.selection.objective import check_beta, check_tau, check_vector

__all__ = [
    "AUTHORS_SUBSAMPLE_CAP",
    "AuthorsSelection",
    "authors_neighbour_count",
    "authors_q_coefficient",
    "authors_selection",
    "authors_subsample",
    "clip_to_psd",
]

#: the authors keep at most this many pool points (the ones with the largest votes)
AUTHORS_SUBSAMPLE_CAP = 15000


@dataclass(frozen=True)
class AuthorsSelection:
    """Result of the authors' recipe.

    Attributes
    ----------
    positions : ndarray of int64, shape (tau,)
        Pool positions of the batch, largest relaxed ``b`` first.
    b : ndarray of float64, shape (n,)
        Relaxed solution on the subsample, 0 outside it.
    subsample : ndarray of int64, shape (m,)
        Pool positions of the subsample.
    k : int
        Neighbours per point in the subsample's graphs (self included).
    solver : str
        ``"cvxpy:<SOLVER>"``.
    converged : bool
        Whether the QP solver reported an optimal status.
    """

    positions: np.ndarray
    b: np.ndarray
    subsample: np.ndarray
    k: int
    solver: str
    converged: bool


def authors_q_coefficient(beta: float) -> float:
    """The authors' ``q_coef`` (``--DIAMq``) that corresponds to the paper's ``beta``: ``-beta / 2``.

    References
    ----------
    Eq. 9 of the paper; ``DIAM_qp`` in the authors' ``al_select.py``.
    """
    return -check_beta(beta) / 2.0


def authors_subsample(votes: np.ndarray, tau: int) -> np.ndarray:
    """The ``max(tau, min(n // 5, 15000))`` pool positions of largest ``v`` (ties: lower position first).

    The lower bound ``tau`` (not in their code, where ``n // 5`` always exceeded the
    batch) keeps the problem feasible on small pools.

    Returns
    -------
    ndarray of int64, sorted ascending.
    """
    v = check_vector(votes, "votes")
    n = v.shape[0]
    tau = check_tau(tau, n)
    size = max(tau, min(n // 5, AUTHORS_SUBSAMPLE_CAP))
    order = np.lexsort((np.arange(n), -v))
    return np.sort(order[:size]).astype(np.int64)


def authors_neighbour_count(m: int) -> int:
    """``int(0.01 * m)`` neighbours per point, the point itself included (at least 1)."""
    return max(1, int(0.01 * m))


def clip_to_psd(matrix: np.ndarray) -> np.ndarray:
    """Nearest positive semidefinite matrix in Frobenius norm: negative eigenvalues set to 0.

    Parameters
    ----------
    matrix : ndarray, shape (m, m)
        Symmetric.

    Returns
    -------
    ndarray of float64, shape (m, m), symmetric.
    """
    with threadpool_limits(limits=None):
        eigenvalues, eigenvectors = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    clipped = (eigenvectors * np.maximum(eigenvalues, 0.0)) @ eigenvectors.T
    return 0.5 * (clipped + clipped.T)


def _solve_box_budget_qp(matrix: np.ndarray, linear: np.ndarray, tau: int) -> tuple[np.ndarray, str, bool]:
    """``min 1/2 b'Pb + q'b`` s.t. ``0 <= b <= 1``, ``sum(b) = tau`` through cvxpy (OSQP, else CLARABEL)."""
    cp = require_module("cvxpy", "the authors' recipe (solver='authors')")

    m = linear.shape[0]
    b = cp.Variable(m)
    problem = cp.Problem(cp.Minimize(0.5 * cp.quad_form(b, cp.psd_wrap(matrix)) + linear @ b),
                         [b >= 0, b <= 1, cp.sum(b) == tau])
    attempts = (("OSQP", {"max_iter": 20000, "eps_abs": 1e-7, "eps_rel": 1e-7}),
                ("CLARABEL", {}))
    installed = set(cp.installed_solvers())
    errors = []
    for name, options in attempts:
        if name not in installed:
            continue
        try:
            problem.solve(solver=name, **options)
        except cp.error.SolverError as error:
            errors.append(f"{name}: {error}")
            continue
        if b.value is not None:
            return np.asarray(b.value, dtype=np.float64), f"cvxpy:{name}", problem.status == cp.OPTIMAL
        errors.append(f"{name}: status {problem.status}")
    raise RuntimeError(f"cvxpy could not solve the authors' QP ({'; '.join(errors) or 'no QP solver installed'})")


def authors_selection(features: Sequence[np.ndarray], informativeness: np.ndarray, *, tau: int,
                      beta: float) -> AuthorsSelection:
    """DIAM's batch by the authors' recipe (see the module docstring), with the paper's ``beta``.

    Parameters
    ----------
    features : sequence of ndarray, each (n, d_i)
        Penultimate-layer pool features of every target model.
    informativeness : ndarray, shape (n,)
        ``v`` (disagreement votes).
    tau : int
        Batch size.
    beta : float
        The paper's (negative) ``beta`` of Eq. 9; the QP receives
        ``q = -authors_q_coefficient(beta) * v = (beta / 2) v``.

    Returns
    -------
    AuthorsSelection

    Raises
    ------
    ValueError
        ``beta >= 0``, ``tau`` out of range, no features, or features whose row count is
        not the pool size.
    RuntimeError
        The QP solvers failed.

    References
    ----------
    Eq. 9 and Algorithm 2 of the paper; ``DIAM_qp`` in the authors' ``al_select.py``.
    """
    v = check_vector(informativeness, "informativeness")
    n = v.shape[0]
    tau = check_tau(tau, n)
    q_coef = authors_q_coefficient(beta)
    if len(features) == 0:
        raise ValueError("features must hold one (n, d) array per target model")
    subsample = authors_subsample(v, tau)
    m = subsample.size
    k = min(authors_neighbour_count(m), m)
    adjacency = sp.csr_matrix((m, m))
    for position, model_features in enumerate(features):
        array = np.asarray(model_features)
        if array.ndim != 2 or array.shape[0] != n:
            raise ValueError(f"features[{position}] must have shape (n_pool={n}, d), got {array.shape}")
        adjacency = adjacency + knn_adjacency(array[subsample], k, exclude_self=False).astype(np.float64)
    symmetric = (0.5 * (adjacency + adjacency.T)).toarray()
    relaxed = np.zeros(n)
    b, solver, converged = _solve_box_budget_qp(clip_to_psd(symmetric), -q_coef * v[subsample], tau)
    relaxed[subsample] = b
    ranking = np.lexsort((subsample, -b))[:tau]
    return AuthorsSelection(positions=subsample[ranking].astype(np.int64), b=relaxed, subsample=subsample, k=int(k),
                            solver=solver, converged=bool(converged))
