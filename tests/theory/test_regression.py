"""Sec. 5.3: the shipped DIAM-svd (Eq. 12) and DIAM-leverage code against independent oracles."""
import numpy as np
import pytest

from diamlib.seeding import child_rng
from diamlib.theory.regression import (
    all_leverage_scores,
    assert_problem1,
    assert_problem2,
    check_problem1,
    check_problem2,
    hat_matrix_diagonal,
    max_disagreement_diam_svd,
    problem2_scores,
)


def eq12_closed_form(labeled, x, sigma):
    """Oracle: ``2 sqrt(sigma) ||Sigma^-1 B' x||`` from numpy's SVD of ``L = A Sigma B'`` (Eq. 12)."""
    _, singular_values, vt = np.linalg.svd(labeled, full_matrices=False)
    return 2.0 * np.sqrt(sigma) * np.linalg.norm((vt @ x) / singular_values)


def test_diam_svd_spread_on_an_axis_aligned_ellipsoid():
    labeled = np.diag([2.0, 0.5])
    # {w : 4 w1^2 + 0.25 w2^2 <= sigma}: the widest direction is e2 with half-width 2 sqrt(sigma).
    assert max_disagreement_diam_svd(labeled, np.array([0.0, 1.0]), 1.0) == pytest.approx(4.0)
    assert max_disagreement_diam_svd(labeled, np.array([1.0, 0.0]), 4.0) == pytest.approx(2.0)


@pytest.mark.parametrize("instance", range(5))
def test_diam_svd_spread_equals_the_closed_form_of_eq12(instance):
    rng = child_rng(7, "eq12-oracle", instance)
    labeled = rng.standard_normal((20, 6)) * 10.0 ** rng.uniform(-2, 2, size=6)
    x = rng.standard_normal(6)
    assert max_disagreement_diam_svd(labeled, x, 0.3) == pytest.approx(eq12_closed_form(labeled, x, 0.3), rel=1e-9)


def test_problem1_cvxpy_matches_diam_svd():
    frame = check_problem1(3, seed=0)
    assert len(frame) == 3
    assert_problem1(frame)
    for _, row in frame.iterrows():
        assert row["diam_svd"] > 0


def test_problem1_check_fails_loudly():
    frame = check_problem1(1, seed=0)
    frame["rel_error"] = 0.1
    with pytest.raises(AssertionError, match="Problem 1"):
        assert_problem1(frame)


def test_problem2_leverage_equals_hat_diagonal():
    frame = check_problem2(3, seed=0)
    assert np.allclose(frame["sum_leverage"], 6.0)
    assert_problem2(frame)


def test_problem2_check_fails_when_the_shipped_scores_are_wrong(monkeypatch):
    import diamlib.theory.regression as regression

    monkeypatch.setattr(regression, "leverage_scores", lambda pool, labeled: np.full(len(pool), 0.1))
    with pytest.raises(AssertionError, match="Problem 2"):
        assert_problem2(check_problem2(1, seed=0))


def test_shipped_leverage_of_an_orthonormal_design():
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((10, 3)))
    np.testing.assert_allclose(all_leverage_scores(q, 6), (q**2).sum(axis=1))
    np.testing.assert_allclose(hat_matrix_diagonal(q), (q**2).sum(axis=1))


def test_problem2_rows_line_up_with_the_instance():
    scores = problem2_scores(0, 0, n_unlabeled=40, n_labeled=20, n_features=6)
    assert scores["unlabeled"].sum() == 40 and len(scores) == 60
    # the rescaled first quarter of the unlabeled rows carries the largest leverage
    assert scores["leverage"][:10].mean() > scores["leverage"][10:].mean()


def test_rank_deficient_inputs_are_rejected():
    rank_one = np.outer(np.arange(1.0, 6.0), [1.0, 2.0])
    with pytest.raises(ValueError, match="full column rank"):
        max_disagreement_diam_svd(rank_one, np.ones(2), 1.0)
    with pytest.raises(ValueError, match="n_labeled > n_features"):
        check_problem1(1, seed=0, n_labeled=3, n_features=5)
