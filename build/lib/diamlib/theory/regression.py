"""Sec. 5.3 checks of the shipped DIAM-svd and DIAM-leverage code against independent oracles.

Problem 1: the spread of the ellipsoid soft version space computed by
:func:`diamlib.strategies.regression.svd_disagreement` against cvxpy's solution of the
maximisation. Problem 2: :func:`diamlib.strategies.regression.leverage_scores` (its Gram
eigen-decomposition and rank truncation) against the hat-matrix diagonal ``X (X'X)^-1 X'``.

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
from diamlib.strategies.regression import leverage_scores, svd_disagreement

# cvxpy's conic solvers reach about 1e-7 relative accuracy on these small problems.
SOLVER_TOLERANCE = 1e-5
ALGEBRA_TOLERANCE = 1e-9


def max_disagreement_diam_svd(labeled: np.ndarray, x: np.ndarray, sigma: float) -> float:
    """``max |w1'x - w2'x|`` over the soft version space ``{w : ||L(w - w_bar)||^2 <= sigma}``, by the shipped code.

    Eq. (12) gives ``2 sqrt(sigma) ||Sigma^-1 B' x||`` for ``L = A Sigma B'`` of full column
    rank; ``||Sigma^-1 B' x||`` is the ``row_space_score`` that DIAM-svd ranks by
    (:func:`diamlib.strategies.regression.svd_disagreement`, the function the experiments run).
    (The paper compares the distance of Eq. (12) with ``sigma``; for the ball
    ``||pi||^2 <= sigma`` its radius is ``sqrt(sigma)``. Either way the ranking by
    ``||Sigma^-1 B' x||`` is the same.)

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

    Raises
    ------
    ValueError
        ``L`` is rank-deficient (the spread is then unbounded along its null space).

    References
    ----------
    Problem 1 and Eq. (12) of the paper.
    """
    found = svd_disagreement(np.asarray(x, dtype=float)[None, :], labeled)
    if found.rank < labeled.shape[1]:
        raise ValueError(f"L must have full column rank (Problem 1); its rank is {found.rank} < {labeled.shape[1]}")
    return float(2.0 * np.sqrt(sigma) * found.row_space_score[0])


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
    """Compare cvxpy with DIAM-svd's spread (Eq. 12, the shipped code) on random instances of Problem 1.

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
        Columns ``instance, cvxpy, diam_svd`` (:func:`max_disagreement_diam_svd`), ``rel_error``.

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
        shipped = max_disagreement_diam_svd(labeled, x, sigma)
        rows.append({"instance": instance, "cvxpy": numeric, "diam_svd": shipped})
    frame = pd.DataFrame(rows)
    frame["rel_error"] = (frame["cvxpy"] - frame["diam_svd"]).abs() / frame["diam_svd"]
    return frame


def all_leverage_scores(features: np.ndarray, n_unlabeled: int) -> np.ndarray:
    """Leverage scores of every row of ``X = [U; L]`` by the shipped DIAM-leverage code.

    :func:`diamlib.strategies.regression.leverage_scores` scores the pool rows ``U``; the
    labeled rows are scored by swapping the roles (the hat matrix does not depend on the order
    of the rows).

    Returns
    -------
    ndarray, shape (n,)

    References
    ----------
    Problem 2 and Algorithm 4 of the paper.
    """
    pool, labeled = features[:n_unlabeled], features[n_unlabeled:]
    return np.concatenate([leverage_scores(pool, labeled), leverage_scores(labeled, pool)])


def hat_matrix_diagonal(features: np.ndarray) -> np.ndarray:
    """Diagonal of ``X (X'X)^-1 X'``, shape (n,): the definition of leverage, the oracle of the check."""
    gram = features.T @ features
    return np.einsum("ij,ji->i", features, np.linalg.solve(gram, features.T))


def check_problem2(
    n_instances: int, seed: int, n_unlabeled: int = 40, n_labeled: int = 20, n_features: int = 6
) -> pd.DataFrame:
    """DIAM-leverage's scores (the shipped code) versus the hat-matrix diagonal.

    Also checks that Problem 2's disagreement statistic ``||Sigma^-1 B' x_j||^2`` (DIAM-svd's
    score with ``L`` replaced by ``X``, the shipped code) equals the leverage score of row ``j``.

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
        One row per row of ``X``: ``unlabeled`` (bool), ``leverage`` (``||e_j' A||^2`` by
        :func:`all_leverage_scores`), ``hat_diagonal`` (``[X (X'X)^-1 X']_jj``, the oracle) and
        ``statistic`` (``||Sigma^-1 B' x_j||^2``, Problem 2's disagreement statistic, by
        :func:`diamlib.strategies.regression.svd_disagreement`).

    References
    ----------
    Problem 2 of the paper.
    """
    rng = child_rng(seed, "problem2", instance)
    features = rng.standard_normal((n_unlabeled + n_labeled, n_features))
    features[: n_unlabeled // 4] *= 3.0
    return pd.DataFrame(
        {
            "unlabeled": np.arange(features.shape[0]) < n_unlabeled,
            "leverage": all_leverage_scores(features, n_unlabeled),
            "hat_diagonal": hat_matrix_diagonal(features),
            "statistic": svd_disagreement(features, features).row_space_score ** 2,
        }
    )


def assert_problem1(frame: pd.DataFrame, tolerance: float = SOLVER_TOLERANCE) -> None:
    """Raise AssertionError if cvxpy and DIAM-svd's Eq. (12) disagree beyond ``tolerance`` (relative)."""
    worst = float(frame["rel_error"].max())
    if worst > tolerance:
        raise AssertionError(
            f"Problem 1: cvxpy and DIAM-svd's 2 sqrt(sigma) ||Sigma^-1 B' x|| differ by a "
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
