"""DIAM's relaxed QP (Eq. 9, :mod:`diamlib.selection.reference.relaxation`): projection, diagonal shift, FISTA
against cvxpy, rounding."""
from __future__ import annotations

import itertools

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from diamlib.selection.knn import knn_adjacency, symmetrize
from diamlib.selection.objective import check_similarities, diam_objective, similarity_operator
from diamlib.selection.reference import relaxation
from diamlib.selection.reference.relaxation import (
    diagonal_shift,
    project_capped_simplex,
    select_top,
    solve_diam_relaxation,
)


# --------------------------------------------------------------------------- helpers
def random_symmetric(n: int, density: float, seed: int) -> sp.csr_matrix:
    upper = sp.random(n, n, density=density, random_state=seed, format="csr")
    return ((upper + upper.T) * 0.5).tocsr()


def knn_similarities(n: int, n_models: int, k: int, seed: int) -> tuple[list[sp.csr_matrix], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, size=n)
    matrices = []
    for _ in range(n_models):
        centres = rng.normal(scale=4.0, size=(5, 8))
        features = centres[labels] + rng.normal(size=(n, 8))
        matrices.append(symmetrize(knn_adjacency(features.astype(np.float32), k)))
    votes = rng.integers(0, n_models + 1, size=n).astype(np.float64)
    return matrices, votes


def cvxpy_projection(y: np.ndarray, tau: float) -> np.ndarray:
    b = cp.Variable(y.shape[0])
    cp.Problem(cp.Minimize(cp.sum_squares(b - y)), [b >= 0, b <= 1, cp.sum(b) == tau]).solve(
        solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return b.value


def bisection_projection(y: np.ndarray, tau: float) -> np.ndarray:
    low, high = y.min() - 1.0, y.max()
    for _ in range(200):
        middle = 0.5 * (low + high)
        if np.clip(y - middle, 0, 1).sum() > tau:
            low = middle
        else:
            high = middle
    return np.clip(y - 0.5 * (low + high), 0, 1)


# --------------------------------------------------------------------------- projection
@pytest.mark.parametrize(("n", "tau", "scale", "seed"), [
    (20, 5, 1.0, 0), (50, 12.5, 3.0, 1), (7, 1, 0.1, 2), (100, 99, 2.0, 3), (30, 15, 10.0, 4),
])
def test_projection_matches_cvxpy_and_bisection(n, tau, scale, seed):
    y = np.random.default_rng(seed).normal(scale=scale, size=n)
    projected = project_capped_simplex(y, tau)
    assert projected.min() >= 0.0 and projected.max() <= 1.0
    assert projected.sum() == pytest.approx(tau, abs=1e-10)
    np.testing.assert_allclose(projected, bisection_projection(y, tau), atol=1e-10)
    np.testing.assert_allclose(projected, cvxpy_projection(y, tau), atol=1e-6)


def test_projection_edge_cases():
    y = np.array([0.3, -2.0, 5.0, 0.3])
    np.testing.assert_array_equal(project_capped_simplex(y, 0), 0.0)
    np.testing.assert_array_equal(project_capped_simplex(y, 4), 1.0)
    np.testing.assert_allclose(project_capped_simplex(y, 1), [0, 0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(project_capped_simplex(np.zeros(4), 2), 0.5)  # all tied
    feasible = np.array([1.0, 0.0, 0.25, 0.75])
    np.testing.assert_allclose(project_capped_simplex(feasible, 2), feasible, atol=1e-12)
    with pytest.raises(ValueError, match="between 0 and"):
        project_capped_simplex(y, 5)
    with pytest.raises(ValueError, match="NaN"):
        project_capped_simplex(np.array([np.nan, 1.0]), 1)


# --------------------------------------------------------------------------- shift
def test_shift_keeps_ranking_of_binary_selections_and_makes_psd():
    n, tau = 10, 4
    rng = np.random.default_rng(0)
    similarities = [random_symmetric(n, 0.4, seed) for seed in (1, 2)]
    votes = rng.integers(0, 3, size=n).astype(np.float64)
    beta = -0.7
    shift = diagonal_shift(similarities)
    total = sum(matrix.toarray() for matrix in similarities)
    assert np.linalg.eigvalsh(total).min() < 0  # the unshifted problem is non-convex
    assert np.linalg.eigvalsh(total + shift * np.eye(n)).min() >= -1e-9
    plain, shifted = [], []
    for chosen in itertools.combinations(range(n), tau):
        b = np.zeros(n)
        b[list(chosen)] = 1.0
        plain.append(diam_objective(b, similarities, votes, beta))
        shifted.append(b @ (total + shift * np.eye(n)) @ b + beta * b @ votes)
    plain, shifted = np.array(plain), np.array(shifted)
    np.testing.assert_allclose(shifted - plain, shift * tau, atol=1e-9)
    np.testing.assert_array_equal(np.argsort(plain, kind="stable"), np.argsort(shifted, kind="stable"))


def test_lanczos_shift_is_safe_and_tight():
    n = 400  # above the dense-eigendecomposition limit: Lanczos path
    assert n > relaxation.DENSE_EIGEN_LIMIT
    similarities, _ = knn_similarities(n, 3, 6, seed=2)
    total = sum(matrix.astype(np.float64).toarray() for matrix in similarities)
    smallest = np.linalg.eigvalsh(total)[0]
    shift = diagonal_shift(similarities)
    assert shift >= -smallest
    assert shift <= -smallest + 2e-2 * abs(smallest)
    assert np.linalg.eigvalsh(total + shift * np.eye(n))[0] >= -1e-9


def test_shift_falls_back_to_gershgorin(monkeypatch):
    def no_convergence(operator, which):
        raise spla.ArpackNoConvergence("no convergence", np.array([]), np.array([]))

    monkeypatch.setattr(relaxation, "_lanczos_extreme", no_convergence)
    similarities, _ = knn_similarities(400, 2, 5, seed=3)
    total = sum(matrix.astype(np.float64) for matrix in similarities)
    row_sums = np.asarray(abs(total).sum(axis=1)).ravel() - 2 * total.diagonal()
    assert diagonal_shift(similarities) == pytest.approx(row_sums.max())


def test_psd_input_needs_no_shift():
    identity = sp.identity(12, format="csr")
    assert diagonal_shift([identity, 2 * identity]) == 0.0


# --------------------------------------------------------------------------- solvers
def test_fista_reaches_the_cvxpy_optimum():
    similarities, votes = knn_similarities(500, 3, 5, seed=4)
    common = dict(tau=50, beta=-1.0, max_iter=5000, tol=1e-9)
    ours = solve_diam_relaxation(similarities, votes, solver="fista", **common)
    reference = solve_diam_relaxation(similarities, votes, solver="cvxpy", **common)
    assert ours.converged and reference.converged
    assert ours.shift == reference.shift > 0
    assert abs(ours.objective - reference.objective) <= 1e-4 * abs(reference.objective)
    for solution in (ours, reference):
        assert solution.b.min() >= 0 and solution.b.max() <= 1
        assert solution.b.sum() == pytest.approx(50, abs=1e-6)
    np.testing.assert_allclose(ours.b, reference.b, atol=1e-2)
    # objective is the shifted relaxation: Eq. 9 at b plus shift * b'b (float32 products)
    terms = sum(ours.b @ matrix @ ours.b for matrix in similarities) + ours.shift * ours.b @ ours.b + votes @ ours.b
    assert ours.objective == pytest.approx(
        diam_objective(ours.b, similarities, votes, -1.0) + ours.shift * ours.b @ ours.b, abs=1e-6 * terms)


def test_default_tolerance_converges_close_to_the_optimum():
    similarities, votes = knn_similarities(500, 3, 5, seed=5)
    loose = solve_diam_relaxation(similarities, votes, tau=40, beta=-2.0)
    tight = solve_diam_relaxation(similarities, votes, tau=40, beta=-2.0, tol=1e-10, max_iter=5000)
    assert loose.converged and loose.solver == "fista"
    assert loose.objective >= tight.objective - 1e-9 * abs(tight.objective)
    assert loose.objective - tight.objective <= 1e-4 * abs(tight.objective)


def test_strong_informativeness_selects_the_voted_points():
    similarities, _ = knn_similarities(200, 2, 3, seed=6)
    votes = np.zeros(200)
    voted = np.arange(0, 200, 10)
    votes[voted] = 12.0
    solution = solve_diam_relaxation(similarities, votes, tau=voted.size, beta=-100.0)
    np.testing.assert_array_equal(np.sort(select_top(solution.b, voted.size)), voted)


def test_asymmetric_input_enters_through_its_symmetric_part():
    rng = np.random.default_rng(8)
    features = rng.normal(size=(150, 4))
    asymmetric = knn_adjacency(features, 4)
    votes = rng.integers(0, 3, size=150).astype(np.float64)
    raw = solve_diam_relaxation([asymmetric], votes, tau=20, beta=-1.0, tol=1e-10, max_iter=3000)
    symmetric = solve_diam_relaxation([symmetrize(asymmetric)], votes, tau=20, beta=-1.0, tol=1e-10, max_iter=3000)
    assert raw.shift == pytest.approx(symmetric.shift, rel=1e-9)
    assert raw.objective == pytest.approx(symmetric.objective, rel=1e-8)
    # S + cI is singular along the bottom eigenvector, so b is unique only up to that flat direction
    np.testing.assert_allclose(raw.b, symmetric.b, atol=1e-3)


def test_diam_objective_matches_dense_formula():
    similarities, votes = knn_similarities(60, 2, 4, seed=9)
    b = np.random.default_rng(9).random(60)
    dense = sum(b @ matrix.toarray().astype(np.float64) @ b for matrix in similarities) - 0.5 * b @ votes
    assert diam_objective(b, similarities, votes, -0.5) == pytest.approx(dense, rel=1e-12)


# --------------------------------------------------------------------------- rounding
def test_select_top_orders_and_breaks_ties():
    b = np.array([0.5, 1.0, 0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(select_top(b, 3), [1, 5, 0])
    votes = np.array([0.0, 0.0, 3.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(select_top(b, 4, tie_break=votes), [1, 5, 2, 4])
    assert select_top(b, 2).dtype == np.int64
    with pytest.raises(ValueError, match="between 1 and"):
        select_top(b, 7)


# --------------------------------------------------------------------------- validation
def test_invalid_inputs_raise_clear_errors():
    similarities, votes = knn_similarities(30, 2, 2, seed=10)
    with pytest.raises(ValueError, match="negative"):
        solve_diam_relaxation(similarities, votes, tau=5, beta=0.0)
    with pytest.raises(ValueError, match="negative"):
        solve_diam_relaxation(similarities, votes, tau=5, beta=1.0)
    with pytest.raises(ValueError, match="between 1 and the pool size 30"):
        solve_diam_relaxation(similarities, votes, tau=31, beta=-1.0)
    with pytest.raises(ValueError, match="between 1 and"):
        solve_diam_relaxation(similarities, votes, tau=0, beta=-1.0)
    with pytest.raises(TypeError, match="integer"):
        solve_diam_relaxation(similarities, votes, tau=2.5, beta=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        solve_diam_relaxation(similarities, np.full(30, np.nan), tau=5, beta=-1.0)
    with pytest.raises(ValueError, match="one entry per pool point"):
        solve_diam_relaxation(similarities, votes[:-1], tau=5, beta=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        solve_diam_relaxation([similarities[0], sp.identity(31, format="csr")], votes, tau=5, beta=-1.0)
    broken = similarities[0].copy()
    broken.data[0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        solve_diam_relaxation([broken], votes, tau=5, beta=-1.0)
    with pytest.raises(ValueError, match="unknown solver"):
        solve_diam_relaxation(similarities, votes, tau=5, beta=-1.0, solver="gurobi")
    with pytest.raises(TypeError, match="sequence"):
        solve_diam_relaxation([], votes, tau=5, beta=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        solve_diam_relaxation(similarities, votes, tau=5, beta=-1.0, max_iter=0)


def test_gershgorin_interval_contains_the_spectrum_of_asymmetric_input():
    rng = np.random.default_rng(12)
    raw = [knn_adjacency(rng.normal(size=(120, 3)), 4) for _ in range(2)]
    operator = similarity_operator(check_similarities(raw))
    assert operator.symmetric == [False, False]
    low, high = operator.gershgorin()
    eigenvalues = np.linalg.eigvalsh(sum(symmetrize(matrix).toarray() for matrix in raw))
    assert low <= eigenvalues[0] and eigenvalues[-1] <= high
    np.testing.assert_allclose(operator.dense(), sum(symmetrize(matrix).toarray() for matrix in raw))
