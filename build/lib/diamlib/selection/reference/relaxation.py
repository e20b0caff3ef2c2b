"""DIAM's diversity quadratic program (Eq. 9), convexified and solved on the capped simplex.

Algorithm 2 of the paper relaxes the binary ``b`` of Eq. 9
(:mod:`diamlib.selection.objective`) to ``[0, 1]^n`` and queries the ``tau`` largest
coordinates; we keep the budget as the constraint ``sum(b) = tau`` so that the relaxation
ranks exactly the batch that will be queried.

Convexification. ``S = sum_i S^i`` is symmetric but indefinite (adjacency matrices have
negative eigenvalues), so the relaxation is non-convex and QP toolboxes may reject it
or stop at a local minimum. For every binary ``b`` with ``sum(b) = tau``,
``b^T b = sum(b) = tau``, hence

.. math:: b^\\top (S + cI)\\, b + \\beta\\, b^\\top v = b^\\top S b + \\beta\\, b^\\top v + c\\,\\tau .

Adding ``c I`` therefore shifts every feasible binary objective by the same constant
``c tau`` and leaves their ranking (and the binary optimum) unchanged, while any
``c >= -lambda_min(S)`` makes ``S + cI`` positive semidefinite and the relaxation convex.
:func:`diagonal_shift` estimates ``lambda_min`` by sparse Lanczos with a safety margin.

Solver. Accelerated projected gradient (FISTA with adaptive restart) on
``{0 <= b <= 1, sum(b) = tau}`` with the exact sort-based projection
(:func:`project_capped_simplex`) and step ``1 / L``, ``L = 2 (lambda_max(S) + c)``.
Every iteration costs one sparse product per model and one ``O(n log n)`` projection;
no dense ``n x n`` matrix is formed. A cvxpy path (CLARABEL, falling back to OSQP)
solves the same convex relaxation for small pools as a reference.

The relaxation rounds loosely (its optimum spreads mass evenly once shifted): the
``diam`` strategy's default minimises the binary objective directly instead
(:mod:`diamlib.selection.greedy_swap`); the relaxation is kept for fidelity to Algorithm 2 and
for comparison (``solver="fista"`` or ``"cvxpy"``, ``benchmarks/selection_quality.py``).

References
----------
Eq. 9, Algorithm 2 (lines 9-10) and Sec. 5.2 of the paper.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from diamlib.extras import require_module
from diamlib.selection.objective import (SimilaritySum, check_beta, check_similarities, check_tau, check_vector,
                                         similarity_operator)

__all__ = [
    "RelaxedSolution",
    "diagonal_shift",
    "project_capped_simplex",
    "select_top",
    "solve_diam_relaxation",
]

#: pools up to this size get their extreme eigenvalues from a dense eigendecomposition
DENSE_EIGEN_LIMIT = 300


@dataclass(frozen=True)
class RelaxedSolution:
    """Solution of the convexified relaxation of Eq. 9.

    Attributes
    ----------
    b : ndarray of float64, shape (n,)
        Relaxed selection, ``0 <= b <= 1`` and ``sum(b) = tau``.
    objective : float
        Value of the problem actually minimised,
        ``sum_i b'S^i b + shift * b'b + beta * b'v``; subtract ``shift * b'b`` for the
        unshifted Eq. 9 value of the relaxed ``b`` (see :func:`diam_objective`).
    shift : float
        Diagonal shift ``c`` from :func:`diagonal_shift`.
    iterations : int
        Iterations of the solver.
    converged : bool
        Whether the stopping rule was met before ``max_iter`` (cvxpy: status optimal).
    solver : str
        ``"fista"`` or ``"cvxpy:<SOLVER>"``.

    References
    ----------
    Eq. 9 and Algorithm 2 (line 9) of the paper.
    """

    b: np.ndarray
    objective: float
    shift: float
    iterations: int
    converged: bool
    solver: str


def _lanczos_extreme(operator: SimilaritySum, which: str) -> tuple[float, float]:
    """Extreme Ritz value (``which`` = "SA" or "LA") and its residual norm."""
    n = operator.n
    linear = spla.LinearOperator((n, n), matvec=operator, dtype=np.float64)
    start = 1.0 + 0.5 * np.cos(0.618 * np.arange(n, dtype=np.float64))  # fixed start: deterministic
    with threadpool_limits(limits=1, user_api="blas"):  # small dense steps inside ARPACK
        # a loose tolerance suffices: the residual norm below widens the bound anyway
        values, vectors = spla.eigsh(linear, k=1, which=which, v0=start, tol=1e-2,
                                     ncv=min(n - 1, 40 if which == "SA" else 20), maxiter=200)
    vector = vectors[:, 0]
    residual = float(np.linalg.norm(operator(vector) - values[0] * vector) / np.linalg.norm(vector))
    return float(values[0]), residual


def _spectral_bounds(operator: SimilaritySum) -> tuple[float, float]:
    """A lower bound on ``lambda_min`` and an upper bound on ``lambda_max`` of ``sum_i S^i``.

    Dense eigendecomposition for small pools; otherwise Lanczos Ritz values widened by
    their residual norms plus a relative margin (a Ritz value lies inside the spectrum,
    within the residual norm of an eigenvalue), each falling back to the Gershgorin
    bound if Lanczos fails and never looser than it.
    """
    low_bound, high_bound = operator.gershgorin()
    if operator.n <= DENSE_EIGEN_LIMIT:
        with threadpool_limits(limits=1, user_api="blas"):
            eigenvalues = np.linalg.eigvalsh(operator.dense())
        scale = max(abs(eigenvalues[0]), abs(eigenvalues[-1]), 1e-300)
        return float(eigenvalues[0] - 1e-9 * scale), float(eigenvalues[-1] + 1e-9 * scale)
    scale = max(abs(low_bound), abs(high_bound), 1e-300)
    try:
        smallest, residual = _lanczos_extreme(operator, "SA")
        low = max(low_bound, smallest - residual - 1e-6 * scale)
    except (spla.ArpackNoConvergence, spla.ArpackError):
        low = low_bound
    try:
        largest, residual = _lanczos_extreme(operator, "LA")
        high = min(high_bound, largest + residual + 1e-6 * scale)
    except (spla.ArpackNoConvergence, spla.ArpackError):
        high = high_bound
    return low, high


def diagonal_shift(similarities) -> float:
    """Smallest safe diagonal shift ``c >= -lambda_min(sum_i S^i)`` (0 if already PSD).

    For binary ``b`` with ``sum(b) = tau``: ``b'(S + cI)b = b'Sb + c tau``, so the shift
    leaves the ranking of all feasible binary selections unchanged while making the
    relaxation convex.

    Parameters
    ----------
    similarities : sequence of scipy sparse matrices, each (n, n)
        The ``S^i`` of Eq. 9 (asymmetric ones enter through their symmetric part).

    Returns
    -------
    float
        ``max(0, -lambda_low)`` where ``lambda_low`` is the smallest eigenvalue from a
        dense eigendecomposition (n <= 300) or the smallest Lanczos Ritz value
        (``scipy.sparse.linalg.eigsh``, ``which="SA"``) minus its residual norm and a
        relative margin of 1e-6, falling back to the Gershgorin bound
        ``min_u (S_uu - sum_{v != u} |S_uv|)`` if Lanczos does not converge.

    References
    ----------
    Eq. 9 of the paper (the relaxation of Sec. 5.2); the shift itself is ours.
    """
    operator = similarity_operator(check_similarities(similarities))
    low, _ = _spectral_bounds(operator)
    return max(0.0, -low)


# --------------------------------------------------------------------------- projection
def project_capped_simplex(y: np.ndarray, tau: float) -> np.ndarray:
    """Exact Euclidean projection onto ``{b : 0 <= b <= 1, sum(b) = tau}``.

    The projection is ``clip(y - theta, 0, 1)`` for the ``theta`` at which the
    non-increasing, piecewise-linear ``g(theta) = sum_i clip(y_i - theta, 0, 1)`` equals
    ``tau``. ``g`` is evaluated at all ``2n`` breakpoints ``{y_i - 1, y_i}`` with one
    sort, prefix sums and binary searches, and ``theta`` is interpolated on the segment
    that brackets ``tau``: ``O(n log n)``.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Point to project (finite).
    tau : float
        ``0 <= tau <= n``.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    ValueError
        Non-finite ``y`` or ``tau`` outside ``[0, n]``.

    References
    ----------
    Feasible set of the relaxed Eq. 9 (Sec. 5.2 of the paper) with the budget of Algorithm 2.
    """
    values = check_vector(y, "y")
    n = values.shape[0]
    if n == 0:
        raise ValueError("y must not be empty")
    tau = float(tau)
    if not (math.isfinite(tau) and 0.0 <= tau <= n):
        raise ValueError(f"tau must be between 0 and len(y) = {n}, got {tau}")
    if tau == 0.0:
        return np.zeros(n)
    if tau == float(n):
        return np.ones(n)
    ordered = np.sort(values)
    prefix = np.concatenate([[0.0], np.cumsum(ordered)])
    breakpoints = np.sort(np.concatenate([ordered - 1.0, ordered]))
    above = np.searchsorted(ordered, breakpoints + 1.0, side="left")   # y_i >= t + 1 from here
    inside = np.searchsorted(ordered, breakpoints, side="right")       # y_i > t from here
    g = (n - above) + (prefix[above] - prefix[inside]) - breakpoints * (above - inside)
    g = np.minimum.accumulate(g)  # exact g is non-increasing; remove rounding wiggles
    segment = int(np.searchsorted(-g, -tau, side="right")) - 1     # last j with g[j] >= tau
    segment = min(max(segment, 0), breakpoints.size - 2)
    left, right = breakpoints[segment], breakpoints[segment + 1]
    drop = g[segment] - g[segment + 1]
    theta = left if drop <= 0 else left + (g[segment] - tau) * (right - left) / drop
    projected = np.clip(values - theta, 0.0, 1.0)
    free = (projected > 0.0) & (projected < 1.0)
    if free.any():  # one Newton step on theta removes the interpolation's rounding
        theta += (projected.sum() - tau) / np.count_nonzero(free)
        projected = np.clip(values - theta, 0.0, 1.0)
    return projected


# --------------------------------------------------------------------------- solvers
def _solve_fista(operator: SimilaritySum, v: np.ndarray, tau: int, beta: float, shift: float, high: float,
                 max_iter: int, tol: float) -> tuple[np.ndarray, str, int, bool]:
    """FISTA with gradient-based adaptive restart on the capped simplex.

    Step ``1 / L`` with ``L = 2 (high + shift)`` (``high`` bounds ``lambda_max(S)``). Stops
    when the objective change relative to the sum of the magnitudes of its three terms is
    at most ``tol`` and the gradient mapping ``||b - P(b - grad f(b) / L)||_inf`` is at
    most ``sqrt(tol)``.
    """
    lipschitz = max(2.0 * (high + shift), 1e-12)
    n = v.shape[0]
    linear = beta * v

    def objective(x: np.ndarray, sx: np.ndarray) -> tuple[float, float]:
        """Value and its scale (sum of the terms' magnitudes, for the relative change)."""
        terms = (float(x @ sx), shift * float(x @ x), float(linear @ x))
        return sum(terms), sum(abs(term) for term in terms)

    def gradient(x: np.ndarray, sx: np.ndarray) -> np.ndarray:
        return 2.0 * (sx + shift * x) + linear

    x = np.full(n, tau / n)
    sx = operator(x)
    value, _ = objective(x, sx)
    y, sy, momentum = x, sx, 1.0
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        x_new = project_capped_simplex(y - gradient(y, sy) / lipschitz, tau)
        sx_new = operator(x_new)
        value_new, scale = objective(x_new, sx_new)
        change = abs(value - value_new) / max(scale, 1e-300)
        if change <= tol:
            stationarity = np.max(np.abs(
                x_new - project_capped_simplex(x_new - gradient(x_new, sx_new) / lipschitz, tau)))
            if stationarity <= math.sqrt(tol):
                x, value, converged = x_new, value_new, True
                break
        if (y - x_new) @ (x_new - x) > 0.0 or value_new > value:
            momentum, y, sy = 1.0, x_new, sx_new  # restart: the momentum points uphill
        else:
            momentum_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * momentum * momentum))
            weight = (momentum - 1.0) / momentum_new
            y = x_new + weight * (x_new - x)
            sy = sx_new + weight * (sx_new - sx)
            momentum = momentum_new
        x, sx, value = x_new, sx_new, value_new
    return x, "fista", iteration, converged


def _solve_cvxpy(operator: SimilaritySum, v: np.ndarray, tau: int, beta: float, shift: float, high: float,
                 max_iter: int, tol: float) -> tuple[np.ndarray, str, int, bool]:
    """The same convex relaxation through cvxpy (CLARABEL, falling back to OSQP); ``high`` is unused."""
    cp = require_module("cvxpy", "the cvxpy relaxation (solver='cvxpy')")

    n = v.shape[0]
    matrix = (operator.summed() + shift * sp.identity(n, format="csr")).tocsc()
    b = cp.Variable(n)
    problem = cp.Problem(cp.Minimize(cp.quad_form(b, cp.psd_wrap(matrix)) + beta * (v @ b)),
                         [b >= 0, b <= 1, cp.sum(b) == tau])
    attempts = (("CLARABEL", {"max_iter": max(max_iter, 200), "tol_gap_rel": min(tol, 1e-8),
                              "tol_gap_abs": min(tol, 1e-8), "tol_feas": min(tol, 1e-8)}),
                ("OSQP", {"max_iter": max(max_iter, 20000), "eps_abs": min(tol, 1e-8),
                          "eps_rel": min(tol, 1e-8), "polish": True}))
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
            iterations = problem.solver_stats.num_iters if problem.solver_stats is not None else None
            return (np.clip(np.asarray(b.value, dtype=np.float64), 0.0, 1.0), f"cvxpy:{name}", int(iterations or 0),
                    problem.status == cp.OPTIMAL)
        errors.append(f"{name}: status {problem.status}")
    raise RuntimeError(f"cvxpy could not solve the relaxation ({'; '.join(errors) or 'no QP solver installed'}); "
                       f"use solver='fista'")


_SOLVERS: dict[str, Callable] = {"fista": _solve_fista, "cvxpy": _solve_cvxpy}


def solve_diam_relaxation(similarities: Sequence[sp.spmatrix], informativeness: np.ndarray, *, tau: int,
                          beta: float, solver: str = "fista", max_iter: int = 500,
                          tol: float = 1e-6) -> RelaxedSolution:
    """Solve the convexified relaxation of Eq. 9 on the capped simplex.

    .. math:: \\min_{0 \\le b \\le 1,\\ \\sum_m b_m = \\tau}\\ \\sum_i b^\\top S^i b + c\\, b^\\top b
              + \\beta\\, b^\\top v , \\qquad c = \\texttt{diagonal\\_shift}(S^1, \\dots, S^k) .

    For binary feasible ``b``,
    ``c b'b = c tau`` is constant, so the shift does not change which selection is best
    while ``c >= -lambda_min(sum_i S^i)`` makes the problem convex.

    Parameters
    ----------
    similarities : sequence of scipy sparse matrices, each (n, n)
        ``S^i``, e.g. ``symmetrize(knn_adjacency(features_i, k))`` (float32 is kept:
        half the memory, products in float32). Only the symmetric part of each matrix
        enters ``b'S^i b``; asymmetric matrices are applied through it implicitly, so the
        raw ``knn_adjacency(features_i, k)`` gives the same problem as its symmetrised
        copy (Algorithm 2, line 6) at about two thirds of the memory.
    informativeness : ndarray, shape (n,)
        ``v`` (disagreement votes).
    tau : int
        Query batch size, ``1 <= tau <= n``.
    beta : float
        Trade-off, must be negative.
    solver : {"fista", "cvxpy"}
        ``"fista"``: accelerated projected gradient with sparse products only (any n).
        ``"cvxpy"``: reference through cvxpy (CLARABEL, else OSQP) on the summed sparse
        matrix; meant for small pools (a few thousand points).
    max_iter : int
        Iteration limit (FISTA) or at least this many iterations allowed (cvxpy).
    tol : float
        FISTA stops when the relative objective change is ``<= tol`` and the gradient
        mapping's largest entry is ``<= sqrt(tol)``; cvxpy tolerances are ``min(tol, 1e-8)``.

    Returns
    -------
    RelaxedSolution

    Raises
    ------
    TypeError, ValueError
        Malformed matrices or vectors, NaN/inf, shape mismatch, ``tau`` out of range,
        ``beta >= 0``, unknown ``solver``, ``max_iter < 1`` or ``tol <= 0``.
    RuntimeError
        The cvxpy solvers all failed.

    References
    ----------
    Eq. 9 and Algorithm 2 (line 9) of the paper.
    """
    if solver not in _SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(_SOLVERS)}")
    operator = similarity_operator(check_similarities(similarities))
    n = operator.n
    v = check_vector(informativeness, "informativeness", n)
    tau = check_tau(tau, n)
    beta = check_beta(beta)
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (isinstance(tol, Real) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    low, high = _spectral_bounds(operator)
    shift = max(0.0, -low)
    b, name, iterations, converged = _SOLVERS[solver](operator, v, tau, beta, shift, high, int(max_iter), float(tol))
    value = float(b @ operator(b) + shift * (b @ b) + beta * (b @ v))
    return RelaxedSolution(b=b, objective=float(value), shift=float(shift), iterations=int(iterations),
                           converged=bool(converged), solver=name)


# --------------------------------------------------------------------------- rounding
def select_top(b: np.ndarray, tau: int, *, tie_break: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``tau`` largest entries of ``b``, best first.

    Parameters
    ----------
    b : ndarray, shape (n,)
        Relaxed solution.
    tau : int
        ``1 <= tau <= n``.
    tie_break : ndarray, shape (n,), optional
        Among equal ``b``, larger ``tie_break`` first (e.g. the informativeness votes);
        remaining ties go to the lower position.

    Returns
    -------
    ndarray of int64, shape (tau,)
        Deterministic: ordered by ``(-b, -tie_break, position)``.

    References
    ----------
    Algorithm 2, line 10 of the paper.
    """
    values = check_vector(b, "b")
    n = values.shape[0]
    tau = check_tau(tau, n)
    secondary = np.zeros(n) if tie_break is None else check_vector(tie_break, "tie_break", n)
    order = np.lexsort((np.arange(n), -secondary, -values))
    return order[:tau].astype(np.int64)
