"""Sec. 5.3 checks: the ellipsoid disagreement of Problem 1 and the leverage scores of Problem 2.

References
----------
Sec. 5.3.1 (Problem 1, Eq. 11-12, DIAM-svd) and Sec. 5.3.2 (Problem 2, DIAM-leverage) of
the paper.
"""
from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd

from diamlib.seeding import child_rng

# cvxpy's conic solvers reach about 1e-7 relative accuracy on these small problems.
SOLVER_TOLERANCE = 1e-5
ALGEBRA_TOLERANCE = 1e-9


def max_disagreement_closed_form(labeled: np.ndarray, x: np.ndarray, sigma: float) -> float:
    """``max |w1'x - w2'x|`` over ``w1, w2`` in ``{w : ||L(w - w_bar)||^2 <= sigma}``.

    With the thin SVD ``L = A Sigma B'``, substituting ``pi = Sigma B'(w - w_bar)`` turns the
    ellipsoid into the ball ``||pi||^2 <= sigma`` and ``w'x`` into ``pi' Sigma^-1 B' x`` up to
    a constant, so the largest difference is ``2 sqrt(sigma) ||Sigma^-1 B' x||``. (The paper
    compares the distance of Eq. (12) with ``sigma``; for the ball ``||pi||^2 <= sigma`` its
    radius is ``sqrt(sigma)``. Either way the ranking by ``||Sigma^-1 B' x||`` is the same.)

    Parameters
    ----------
    labeled : ndarray, shape (n_l, c)
        ``L``, full column rank.
    x : ndarray, shape (c,)
    sigma : float
        ``sigma > 0``.

    Returns
    -------
    float

    References
    ----------
    Problem 1 and Eq. (12) of the paper.
    """
    _, singular_values, vt = np.linalg.svd(labeled, full_matrices=False)
    if singular_values.min() <= 1e-12 * singular_values.max():
        raise ValueError("L must have full column rank (Problem 1); it is rank-deficient")
    return float(2.0 * np.sqrt(sigma) * np.linalg.norm((vt @ x) / singular_values))


def max_disagreement_cvxpy(labeled: np.ndarray, w_bar: np.ndarray, x: np.ndarray, sigma: float) -> float:
    """Solve Problem 1's ``max (w1 - w2)'x`` over the ellipsoid numerically with cvxpy.

    The absolute value can be dropped: the feasible set of ``(w1, w2)`` is symmetric under
    swapping ``w1`` and ``w2``.

    Parameters
    ----------
    labeled : ndarray, shape (n_l, c)
    w_bar : ndarray, shape (c,)
        Centre of the ellipsoid (the least-squares fit).
    x : ndarray, shape (c,)
    sigma : float

    Returns
    -------
    float

    References
    ----------
    Problem 1 of the paper.
    """
    c = labeled.shape[1]
    w1, w2 = cp.Variable(c), cp.Variable(c)
    constraints = [
        cp.sum_squares(labeled @ (w1 - w_bar)) <= sigma,
        cp.sum_squares(labeled @ (w2 - w_bar)) <= sigma,
    ]
    problem = cp.Problem(cp.Maximize(x @ (w1 - w2)), constraints)
    problem.solve(solver=cp.CLARABEL)
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"cvxpy did not solve Problem 1 to optimality: status {problem.status}")
    return float(problem.value)


def check_problem1(
    n_instances: int, seed: int, n_labeled: int = 30, n_features: int = 5, sigma: float = 0.5
) -> pd.DataFrame:
    """Compare cvxpy with the closed form of Eq. (12) on random instances of Problem 1.

    Each instance draws ``L`` (Gaussian, ``n_labeled x n_features``, with one column rescaled
    to make the ellipsoid elongated), labels ``y``, ``w_bar = argmin ||L w - y||`` and a query
    point ``x`` with ``child_rng(seed, "problem1", instance)``.

    Parameters
    ----------
    n_instances : int
    seed : int
    n_labeled, n_features : int
        ``n_l > c`` as Problem 1 requires.
    sigma : float

    Returns
    -------
    pandas.DataFrame
        Columns ``instance, cvxpy, closed_form, rel_error``.

    References
    ----------
    Problem 1 and Eq. (12) of the paper.
    """
    if n_labeled <= n_features:
        raise ValueError(f"Problem 1 needs n_labeled > n_features; got {n_labeled} <= {n_features}")
    if n_instances < 1 or sigma <= 0:
        raise ValueError("n_instances must be >= 1 and sigma > 0")
    rows = []
    for instance in range(n_instances):
        rng = child_rng(seed, "problem1", instance)
        labeled = rng.standard_normal((n_labeled, n_features))
        labeled[:, 0] *= 10.0 ** rng.uniform(-1.0, 1.0)
        y = rng.standard_normal(n_labeled)
        w_bar = np.linalg.lstsq(labeled, y, rcond=None)[0]
        x = rng.standard_normal(n_features)
        numeric = max_disagreement_cvxpy(labeled, w_bar, x, sigma)
        closed = max_disagreement_closed_form(labeled, x, sigma)
        rows.append({"instance": instance, "cvxpy": numeric, "closed_form": closed})
    frame = pd.DataFrame(rows)
    frame["rel_error"] = (frame["cvxpy"] - frame["closed_form"]).abs() / frame["closed_form"]
    return frame


def leverage_scores_svd(features: np.ndarray) -> np.ndarray:
    """``||e_j' A||^2`` for ``X = A Sigma B'`` (thin SVD): the DIAM-leverage scores.

    Parameters
    ----------
    features : ndarray, shape (n, c)
        ``X = [U; L]``, full column rank.

    Returns
    -------
    ndarray, shape (n,)

    References
    ----------
    Problem 2 and Algorithm 4 of the paper.
    """
    a, singular_values, _ = np.linalg.svd(features, full_matrices=False)
    if singular_values.min() <= 1e-12 * singular_values.max():
        raise ValueError("X must have full column rank (Problem 2); it is rank-deficient")
    return (a**2).sum(axis=1)


def hat_matrix_diagonal(features: np.ndarray) -> np.ndarray:
    """Diagonal of ``X (X'X)^-1 X'``, shape (n,), computed without an SVD."""
    gram = features.T @ features
    return np.einsum("ij,ji->i", features, np.linalg.solve(gram, features.T))


def check_problem2(
    n_instances: int, seed: int, n_unlabeled: int = 40, n_labeled: int = 20, n_features: int = 6
) -> pd.DataFrame:
    """Leverage scores from the SVD versus the hat-matrix diagonal, and Problem 2's closed form.

    Also checks that Problem 2's disagreement statistic ``||Sigma^-1 B' x_j||^2`` (Problem 1's
    closed form with ``L`` replaced by ``X``) equals the leverage score of row ``j``.

    Parameters
    ----------
    n_instances : int
    seed : int
        Instances use ``child_rng(seed, "problem2", instance)``.
    n_unlabeled, n_labeled, n_features : int

    Returns
    -------
    pandas.DataFrame
        Columns ``instance, n_rows, max_abs_error_hat, max_abs_error_statistic,
        sum_leverage`` (the sum equals the rank ``n_features``).

    References
    ----------
    Problem 2 of the paper (``||e_j' A||^2`` is the leverage score).
    """
    if n_unlabeled + n_labeled <= n_features:
        raise ValueError("X = [U; L] needs more rows than features for full column rank")
    rows = []
    for instance in range(n_instances):
        scores = problem2_scores(seed, instance, n_unlabeled, n_labeled, n_features)
        rows.append(
            {
                "instance": instance,
                "n_rows": len(scores),
                "max_abs_error_hat": float((scores["leverage"] - scores["hat_diagonal"]).abs().max()),
                "max_abs_error_statistic": float((scores["leverage"] - scores["statistic"]).abs().max()),
                "sum_leverage": float(scores["leverage"].sum()),
            }
        )
    return pd.DataFrame(rows)


def problem2_scores(
    seed: int, instance: int, n_unlabeled: int = 40, n_labeled: int = 20, n_features: int = 6
) -> pd.DataFrame:
    """The three per-row quantities of one random instance of Problem 2.

    ``X = [U; L]`` is Gaussian (``child_rng(seed, "problem2", instance)``) with the first
    quarter of the unlabeled rows scaled up, so a few rows have high leverage.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``X``: ``unlabeled`` (bool), ``leverage`` (``||e_j' A||^2``),
        ``hat_diagonal`` (``[X (X'X)^-1 X']_jj``) and ``statistic``
        (``||Sigma^-1 B' x_j||^2``, Problem 2's disagreement statistic).

    References
    ----------
    Problem 2 of the paper.
    """
    rng = child_rng(seed, "problem2", instance)
    features = rng.standard_normal((n_unlabeled + n_labeled, n_features))
    features[: n_unlabeled // 4] *= 3.0
    _, singular_values, vt = np.linalg.svd(features, full_matrices=False)
    return pd.DataFrame(
        {
            "unlabeled": np.arange(features.shape[0]) < n_unlabeled,
            "leverage": leverage_scores_svd(features),
            "hat_diagonal": hat_matrix_diagonal(features),
            "statistic": (((features @ vt.T) / singular_values) ** 2).sum(axis=1),
        }
    )


def assert_problem1(frame: pd.DataFrame, tolerance: float = SOLVER_TOLERANCE) -> None:
    """Raise AssertionError if cvxpy and Eq. (12) disagree beyond ``tolerance`` (relative)."""
    worst = float(frame["rel_error"].max())
    if worst > tolerance:
        raise AssertionError(
            f"Problem 1: cvxpy and the closed form 2 sqrt(sigma) ||Sigma^-1 B' x|| differ by a "
            f"relative {worst:.2e} > {tolerance:.0e}:\n{frame.to_string(index=False)}"
        )


def assert_problem2(frame: pd.DataFrame, tolerance: float = ALGEBRA_TOLERANCE) -> None:
    """Raise AssertionError if leverage scores differ from the hat diagonal or the statistic."""
    worst = float(frame[["max_abs_error_hat", "max_abs_error_statistic"]].to_numpy().max())
    if worst > tolerance:
        raise AssertionError(
            f"Problem 2: leverage scores ||e_j' A||^2 differ from diag(X (X'X)^-1 X') or from "
            f"||Sigma^-1 B' x_j||^2 by {worst:.2e} > {tolerance:.0e}"
        )
