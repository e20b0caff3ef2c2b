"""DIAM-svd (Algorithm 3) and DIAM-leverage (Algorithm 4) on inputs with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.strategies.regression import (
    leverage_scores,
    row_space,
    select_diam_leverage,
    select_diam_svd,
    svd_disagreement,
    svd_model_order,
    vote_over_models,
)
from diamlib.strategies.run import run_strategy

RNG = np.random.default_rng(0)


def _evidence(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Evidence:
    n_pool = pairs[0][0].shape[0]
    models = tuple(ModelEvidence(name=f"m{i}", pool_features=u, labeled_features=l) for i, (u, l) in enumerate(pairs))
    return Evidence("regression", 1000 + 3 * np.arange(n_pool, dtype=np.int64), models)


# --------------------------------------------------------------------------- leverage
# rcond=None uses the Gram-matrix path, rcond=1e-12 the thin SVD of X
@pytest.mark.parametrize("rcond", [None, 1e-12])
def test_leverage_equals_hat_matrix_diagonal_for_full_column_rank(rcond):
    rng = np.random.default_rng(1)
    pool, labeled = rng.normal(size=(30, 6)), rng.normal(size=(10, 6))
    x = np.vstack([pool, labeled])
    hat = x @ np.linalg.solve(x.T @ x, x.T)
    np.testing.assert_allclose(leverage_scores(pool, labeled, rcond=rcond), np.diag(hat)[:30], atol=1e-12)


@pytest.mark.parametrize("rcond", [None, 1e-10])
def test_leverage_uses_the_numerical_rank_when_columns_repeat(rcond):
    rng = np.random.default_rng(2)
    base = rng.normal(size=(25, 4))
    x = np.hstack([base, base[:, :2], np.zeros((25, 1))])   # rank 4 in 7 columns
    hat = x @ np.linalg.pinv(x)
    leverage = leverage_scores(x[:20], x[20:], rcond=rcond)
    np.testing.assert_allclose(leverage, np.diag(hat)[:20], atol=1e-10)
    assert np.isclose(leverage.sum() + np.diag(hat)[20:].sum(), 4.0)


# --------------------------------------------------------------------------- svd, Eq. 12
def test_row_space_score_is_eq12_for_full_column_rank():
    rng = np.random.default_rng(3)
    pool, labeled = rng.normal(size=(15, 4)), rng.normal(size=(9, 4))
    result = svd_disagreement(pool, labeled)
    assert result.rank == 4 and not result.outside.any()
    expected = np.sqrt(np.einsum("ij,jk,ik->i", pool, np.linalg.inv(labeled.T @ labeled), pool))
    np.testing.assert_allclose(result.row_space_score, expected, rtol=1e-10)


def test_rank_deficient_labels_rank_out_of_row_space_points_first_by_residual():
    # labeled features span e1, e2 of R^4; pool points 0 and 2 have components along e3/e4.
    labeled = np.array([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [1.0, 1.0, 0, 0]])
    pool = np.array([
        [0.1, 0.0, 0.3, 0.0],    # outside, residual 0.3
        [5.0, 0.0, 0.0, 0.0],    # inside, large Eq. 12 score
        [0.0, 0.0, 0.4, 0.3],    # outside, residual 0.5
        [0.0, 0.5, 0.0, 0.0],    # inside, small score
    ])
    sv, basis = row_space(labeled)
    assert sv.size == 2 and np.allclose(np.abs(basis[2:]), 0)
    details = svd_disagreement(pool, labeled)
    np.testing.assert_array_equal(details.outside, [True, False, True, False])
    np.testing.assert_allclose(details.residual_norm, [0.3, 0.0, 0.5, 0.0], atol=1e-12)
    order, _ = svd_model_order(pool, labeled)
    np.testing.assert_array_equal(order, [2, 0, 1, 3])


def test_negligible_residual_from_float32_rounding_is_not_outside():
    labeled = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    pool = np.array([[1.0, 1.0, 1e-9], [0.1, 0.0, 0.0]])
    details = svd_disagreement(pool, labeled)
    np.testing.assert_array_equal(details.outside, [False, False])
    assert svd_model_order(pool, labeled)[0].tolist() == [0, 1]


def test_tiny_singular_values_count_as_null_directions():
    # the third column of L is 1e-9 times noise: numerically rank 2; a pool point along it is outside
    rng = np.random.default_rng(4)
    labeled = np.hstack([rng.normal(size=(6, 2)), 1e-9 * rng.normal(size=(6, 1))])
    pool = np.array([[0.0, 0.0, 1.0], [3.0, 3.0, 0.0]])
    details = svd_disagreement(pool, labeled)
    assert details.rank == 2
    np.testing.assert_array_equal(details.outside, [True, False])


def _unseen_direction_evidence(n_models: int = 3, outlier: int = 11) -> Evidence:
    """Labeled features of every model have a zero last coordinate; pool point ``outlier`` is far along it."""
    rng = np.random.default_rng(5)
    pairs = []
    for i in range(n_models):
        d = 4 + i
        labeled = np.hstack([rng.normal(size=(20, d - 1)), np.zeros((20, 1))])
        pool = np.hstack([rng.normal(size=(30, d - 1)), np.zeros((30, 1))])
        pool[outlier, -1] = 10.0
        pairs.append((pool.astype(np.float32), labeled.astype(np.float32)))
    return _evidence(pairs)


@pytest.mark.parametrize("strategy", [select_diam_svd, select_diam_leverage])
def test_both_variants_rank_first_a_point_far_along_a_direction_unseen_by_the_labels(strategy):
    evidence = _unseen_direction_evidence()
    selection = strategy(evidence, budget=3, rng=RNG)
    assert selection.indices[0] == 1000 + 3 * 11
    assert selection.info["votes_of_chosen"][0] == 3


def test_svd_reports_rank_and_outside_counts():
    selection = select_diam_svd(_unseen_direction_evidence(), budget=2, rng=RNG)
    assert selection.info["labeled_rank"] == {"m0": 3, "m1": 4, "m2": 5}
    assert selection.info["n_outside_row_space"] == {"m0": 1, "m1": 1, "m2": 1}


def test_rank_deficient_labels_with_many_more_dimensions_than_labels():
    # the setting of Sec. 6.6 in miniature: 8 labels, 30-d features; every pool point is outside
    rng = np.random.default_rng(6)
    evidence = _evidence([(rng.normal(size=(40, 30)), rng.normal(size=(8, 30))) for _ in range(2)])
    selection = select_diam_svd(evidence, budget=5, rng=RNG)
    assert selection.info["labeled_rank"] == {"m0": 8, "m1": 8}
    assert selection.info["n_outside_row_space"] == {"m0": 40, "m1": 40}
    pool, labeled = evidence.models[0].pool_features, evidence.models[0].labeled_features
    residual = np.linalg.norm(pool - pool @ np.linalg.pinv(labeled) @ labeled, axis=1)
    np.testing.assert_allclose(svd_disagreement(pool, labeled).residual_norm, residual, rtol=1e-9)


# --------------------------------------------------------------------------- voting
def test_votes_tie_broken_by_summed_rank_scores_then_position():
    orders = [np.array([0, 1, 2]), np.array([1, 2, 0])]
    order, votes, rank_sum = vote_over_models(orders, tau=1)
    np.testing.assert_array_equal(votes, [1, 1, 0])
    np.testing.assert_allclose(rank_sum, [1.0, 1.5, 0.5])
    np.testing.assert_array_equal(order, [1, 0, 2])
    symmetric = vote_over_models([np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2])], tau=1)[0]
    np.testing.assert_array_equal(symmetric, [0, 1, 2, 3])


def test_voting_follows_algorithm_3_top_tau_counts():
    orders = [np.array([4, 3, 2, 1, 0]), np.array([3, 4, 0, 1, 2]), np.array([0, 3, 1, 2, 4])]
    order, votes, _ = vote_over_models(orders, tau=2)
    np.testing.assert_array_equal(votes, [1, 0, 0, 3, 2])
    assert order[:2].tolist() == [3, 4]


# --------------------------------------------------------------------------- bad features
@pytest.mark.parametrize("strategy", ["diam-svd", "diam-leverage"])
def test_all_constant_model_raises(strategy):
    rng = np.random.default_rng(7)
    good = (rng.normal(size=(10, 3)), rng.normal(size=(4, 3)))
    constant = (np.full((10, 3), 2.0), np.full((4, 3), 2.0))
    with pytest.raises(ValueError, match="model 'm1'.*constant"):
        run_strategy(strategy, _evidence([good, constant]), budget=2, rng=RNG)


@pytest.mark.parametrize("strategy", [select_diam_svd, select_diam_leverage])
def test_constant_and_duplicate_columns_are_fine(strategy):
    rng = np.random.default_rng(8)
    base = rng.normal(size=(30, 3))
    x = np.hstack([base, base[:, :1], np.ones((30, 1))])  # duplicate column and constant column
    selection = strategy(_evidence([(x[:20], x[20:])]), budget=4, rng=RNG)
    assert np.unique(selection.indices).size == 4 and np.isfinite(selection.scores).all()


@pytest.mark.parametrize("strategy", ["diam-svd", "diam-leverage"])
def test_nan_labeled_features_raise_naming_the_model(strategy):
    rng = np.random.default_rng(9)
    labeled = rng.normal(size=(4, 3))
    labeled[2, 0] = np.nan
    with pytest.raises(ValueError, match="model 'm0': array 'labeled_features' contains NaN or inf"):
        run_strategy(strategy, _evidence([(rng.normal(size=(10, 3)), labeled)]), budget=2, rng=RNG)


def test_no_labels_means_every_direction_is_unseen():
    pool = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 0.0]])
    order, details = svd_model_order(pool, np.zeros((0, 2)))
    assert details.rank == 0 and details.outside.all()
    np.testing.assert_array_equal(order, [1, 2, 0])


def test_rcond_is_validated():
    with pytest.raises(ValueError, match="rcond"):
        row_space(np.eye(3), rcond=1.5)
