"""Sec. 5.3: Problem 1 (Eq. 12) and Problem 2 (leverage scores)."""
import numpy as np
import pytest

from diamlib.theory.regression import (
    assert_problem1,
    assert_problem2,
    check_problem1,
    check_problem2,
    hat_matrix_diagonal,
    leverage_scores_svd,
    max_disagreement_closed_form,
)


def test_closed_form_on_an_axis_aligned_ellipsoid():
    labeled = np.diag([2.0, 0.5])
    # {w : 4 w1^2 + 0.25 w2^2 <= sigma}: the widest direction is e2 with half-width 2 sqrt(sigma).
    assert max_disagreement_closed_form(labeled, np.array([0.0, 1.0]), 1.0) == pytest.approx(4.0)
    assert max_disagreement_closed_form(labeled, np.array([1.0, 0.0]), 4.0) == pytest.approx(2.0)


def test_problem1_cvxpy_matches_closed_form():
    frame = check_problem1(3, seed=0)
    assert len(frame) == 3
    assert_problem1(frame)


def test_problem1_check_fails_loudly():
    frame = check_problem1(1, seed=0)
    frame["rel_error"] = 0.1
    with pytest.raises(AssertionError, match="Problem 1"):
        assert_problem1(frame)


def test_problem2_leverage_equals_hat_diagonal():
    frame = check_problem2(3, seed=0)
    assert np.allclose(frame["sum_leverage"], 6.0)
    assert_problem2(frame)


def test_leverage_of_an_orthonormal_design():
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((10, 3)))
    np.testing.assert_allclose(leverage_scores_svd(q), (q**2).sum(axis=1))
    np.testing.assert_allclose(hat_matrix_diagonal(q), (q**2).sum(axis=1))


def test_rank_deficient_inputs_are_rejected():
    rank_one = np.outer(np.arange(1.0, 6.0), [1.0, 2.0])
    with pytest.raises(ValueError, match="full column rank"):
        leverage_scores_svd(rank_one)
    with pytest.raises(ValueError, match="full column rank"):
        max_disagreement_closed_form(rank_one, np.ones(2), 1.0)
    with pytest.raises(ValueError, match="n_labeled > n_features"):
        check_problem1(1, seed=0, n_labeled=3, n_features=5)
