"""CAL, DIAM (Algorithm 2) and DIAM without diversity on hand-made soft version spaces."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.strategies.disagreement import (
    disagreement_mask,
    disagreement_votes,
    select_cal,
    select_diam,
    select_diam_nodiv,
    model_vote_entropy,
    vote_diagnostics,
)
from diamlib.strategies.run import run_strategy


def _evidence(snapshots_per_model: list, *, features_seed: int = 0) -> Evidence:
    rng = np.random.default_rng(features_seed)
    n_pool = np.asarray(snapshots_per_model[0]).shape[1]
    models = []
    for i, snapshots in enumerate(snapshots_per_model):
        models.append(ModelEvidence(
            name=f"m{i}", pool_features=rng.normal(size=(n_pool, 3 + i)), labeled_features=rng.normal(size=(4, 3 + i)),
            pool_probs=np.full((n_pool, 3), 1 / 3), snapshot_predictions=np.asarray(snapshots, dtype=np.int32)))
    return Evidence("classification", 100 + 7 * np.arange(n_pool, dtype=np.int64), tuple(models))


def test_disagreement_mask_and_votes():
    a = [[0, 1, 2, 0], [0, 1, 2, 1], [0, 2, 2, 0]]  # disagrees on positions 1 and 3
    b = [[0, 1, 2, 0], [1, 1, 2, 0], [0, 1, 2, 0]]  # disagrees on position 0
    np.testing.assert_array_equal(disagreement_mask(np.array(a)), [False, True, False, True])
    np.testing.assert_array_equal(disagreement_votes(_evidence([a, b])), [1, 1, 0, 1])
    np.testing.assert_array_equal(disagreement_votes(_evidence([a, a])), [0, 2, 0, 2])


def test_model_vote_entropy_sums_each_models_own_snapshot_entropy():
    a = [[0, 0, 0], [0, 1, 0]]
    b = [[0, 1, 2], [0, 1, 3]]
    # position 0: both models agree; 1: model a splits 0/1, b agrees; 2: a agrees, b splits 2/3
    np.testing.assert_allclose(model_vote_entropy(_evidence([a, b])), [0.0, np.log(2), np.log(2)])


def test_vote_diagnostics_reports_histogram_tie_and_coverage():
    votes = np.array([0, 3, 2, 2, 2, 2, 1, 0, 0, 2])
    facts = vote_diagnostics(votes, n_models=3, budget=3)
    assert facts == {"vote_histogram": [3, 1, 5, 1], "top_tau_vote": 2, "top_tau_tie": 5,
                     "top_tau_tie_needed": 2, "max_vote": 3, "max_vote_tie": 1,
                     "fraction_in_any_disagreement": 0.7}


def test_cal_queries_exactly_the_union_of_disagreement_regions():
    a = [[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]  # position 1
    b = [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 2, 0]]  # position 4
    evidence = _evidence([a, b])
    selection = select_cal(evidence, budget=2, rng=np.random.default_rng(0))
    assert set(selection.indices) == {107, 128}
    assert selection.info["n_candidates"] == 2 and selection.info["filled_at_random"] == 0
    assert selection.info["vote_histogram"] == [4, 2, 0] and selection.info["fraction_in_any_disagreement"] == 2 / 6
    np.testing.assert_array_equal(selection.scores, [0, 1, 0, 0, 1, 0])
    larger = select_cal(evidence, budget=4, rng=np.random.default_rng(0))
    assert set(larger.indices[:2]) == {107, 128}
    assert larger.info["filled_at_random"] == 2


def test_cal_orders_candidates_at_random():
    snapshots = [[0] * 12, [1] * 6 + [0] * 6]  # positions 0..5 disagree
    evidence = _evidence([snapshots])
    firsts = {select_cal(evidence, budget=1, rng=np.random.default_rng(s)).indices[0] for s in range(20)}
    assert firsts <= set(evidence.unlabeled_indices[:6]) and len(firsts) > 1


def test_diam_nodiv_draws_tau_at_random_from_the_top_five_tau_by_votes_then_model_entropy():
    # ranking: 1 (v=2, both models split 3 ways), 0, 4, 5 (v=2, equal entropy: by position), 2 (v=1), 3 (v=0)
    a = [[0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [1, 2, 0, 0, 1, 1]]
    b = [[0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 0, 0], [1, 2, 1, 1, 1, 1]]
    evidence = _evidence([a, b])
    np.testing.assert_array_equal(disagreement_votes(evidence), [2, 2, 1, 0, 2, 2])
    drawn = set()
    for seed in range(40):
        selection = select_diam_nodiv(evidence, budget=1, rng=np.random.default_rng(seed))
        drawn.add(int((selection.indices[0] - 100) // 7))
        assert selection.info["shortlist"] == 5
    assert drawn == {1, 0, 4, 5, 2}  # the top 5 * tau, never position 3
    again = [select_diam_nodiv(evidence, budget=2, rng=np.random.default_rng(7)).indices for _ in range(2)]
    np.testing.assert_array_equal(again[0], again[1])
    scores = select_diam_nodiv(evidence, budget=6, rng=np.random.default_rng(0)).scores
    assert np.all(np.diff(scores[[1, 0, 4, 5, 2, 3]]) <= 0)


def _one_hot_disagreement(n_pool: int, n_models: int, votes: np.ndarray) -> list:
    """Snapshots such that exactly ``votes[m]`` models disagree on pool position m."""
    models = []
    for i in range(n_models):
        snapshots = np.zeros((3, n_pool), dtype=np.int32)
        snapshots[1, votes > i] = 1
        models.append(snapshots)
    return models


@pytest.mark.parametrize("solver", ["greedy-swap", "authors", "fista", "cvxpy"])
def test_diam_with_strongly_negative_beta_picks_the_point_every_model_disagrees_on(solver):
    n_pool, n_models = 60, 3
    votes = np.zeros(n_pool, dtype=int)
    votes[17] = 3
    evidence = _evidence(_one_hot_disagreement(n_pool, n_models, votes), features_seed=1)
    selection = select_diam(evidence, budget=1, rng=np.random.default_rng(0), beta=-100.0, solver=solver)
    assert selection.indices.tolist() == [100 + 7 * 17]
    assert int(np.argmax(selection.scores)) == 17
    assert selection.info["vote_histogram"] == [59, 0, 0, 1]


def test_diam_with_strongly_negative_beta_follows_the_votes():
    n_pool = 80
    votes = np.zeros(n_pool, dtype=int)
    votes[[5, 40, 63]] = [3, 2, 1]
    evidence = _evidence(_one_hot_disagreement(n_pool, 3, votes), features_seed=2)
    selection = select_diam(evidence, budget=3, rng=np.random.default_rng(0), beta=-100.0, knn_fraction=0.05)
    assert set(((selection.indices - 100) // 7).tolist()) == {5, 40, 63}
    assert selection.info["fraction_in_any_disagreement"] == 3 / 80
    assert selection.info["k_neighbours"] == 4


@pytest.mark.parametrize("beta", [0.0, 0.1, 1.0])
def test_diam_rejects_non_negative_beta(beta):
    evidence = _evidence(_one_hot_disagreement(20, 2, np.ones(20, dtype=int)))
    with pytest.raises(ValueError, match="beta must be negative.*Eq. 9"):
        select_diam(evidence, budget=2, rng=np.random.default_rng(0), beta=beta)


def test_diam_rejects_bad_knn_fraction():
    evidence = _evidence(_one_hot_disagreement(20, 2, np.ones(20, dtype=int)))
    with pytest.raises(ValueError, match="knn_fraction"):
        select_diam(evidence, budget=2, rng=np.random.default_rng(0), knn_fraction=0.0)


def test_missing_snapshots_raise_for_disagreement_strategies():
    evidence = _evidence([[[0, 1]]])
    m = evidence.models[0]
    broken = Evidence("classification", evidence.unlabeled_indices,
                      (ModelEvidence(name="m0", pool_features=m.pool_features, labeled_features=m.labeled_features,
                                     pool_probs=m.pool_probs),))
    for strategy in ("cal", "diam-nodiv", "diam"):
        with pytest.raises(ValueError, match="snapshot_predictions is missing"):
            run_strategy(strategy, broken, budget=1, rng=np.random.default_rng(0))


@pytest.mark.parametrize("solver", ["greedy-swap", "fista", "cvxpy"])
def test_diam_diversity_prefers_an_informative_point_away_from_the_others(solver):
    # 30 informative points in one tight cluster, one informative point alone in another cluster
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(size=(30, 2)) * 0.1, rng.normal(size=(30, 2)) * 0.1 + 5]).astype(np.float32)
    votes = np.zeros(60, dtype=int)
    votes[:30] = 1
    votes[45] = 1
    snapshots = np.zeros((3, 60), dtype=np.int32)
    snapshots[1, votes > 0] = 1
    model = ModelEvidence(name="m0", pool_features=features, labeled_features=features[:2],
                          snapshot_predictions=snapshots)
    evidence = Evidence("classification", np.arange(60, dtype=np.int64), (model,))
    selection = select_diam(evidence, budget=2, rng=np.random.default_rng(0), beta=-1.0, knn_fraction=0.1,
                            solver=solver)
    if solver == "greedy-swap":  # Eq. 9 is indifferent between any two informative non-neighbours
        assert selection.info["objective"] == -2.0 and selection.info["converged"]
        return
    assert sorted(selection.indices)[1] == 45 and sorted(selection.indices)[0] < 30
    assert selection.info["converged"]


def test_diam_rejects_unknown_solver_and_default_is_greedy_swap():
    evidence = _evidence(_one_hot_disagreement(20, 2, np.ones(20, dtype=int)))
    with pytest.raises(ValueError, match="option 'solver' = 'gurobi'.*greedy-swap"):
        run_strategy("diam", evidence, budget=2, rng=np.random.default_rng(0), solver="gurobi")
    assert select_diam(evidence, budget=2, rng=np.random.default_rng(0)).info["solver"] == "greedy-swap"


def test_greedy_swap_batch_is_no_worse_than_the_other_solvers_on_eq9():
    """The default's binary Eq. 9 objective against the relaxation's rounding and the authors' recipe."""
    from diamlib.selection.knn import knn_adjacency, neighbour_count
    from diamlib.selection.objective import diam_objective

    rng = np.random.default_rng(3)
    n_pool, n_models = 300, 3
    centres = rng.normal(scale=4.0, size=(6, 4))[rng.integers(0, 6, n_pool)]
    votes = rng.integers(0, n_models + 1, n_pool)
    models = []
    for i in range(n_models):
        features = centres + rng.normal(size=(n_pool, 4))
        snapshots = np.zeros((2, n_pool), dtype=np.int32)
        snapshots[1, votes > i] = 1
        models.append(ModelEvidence(name=f"m{i}", pool_features=features, labeled_features=features[:2],
                                    snapshot_predictions=snapshots))
    evidence = Evidence("classification", np.arange(n_pool, dtype=np.int64), tuple(models))
    graphs = [knn_adjacency(m.pool_features, neighbour_count(n_pool, 0.01)) for m in models]
    for beta in (-0.1, -1.0, -10.0):
        values = {}
        for solver in ("greedy-swap", "authors", "fista"):
            b = np.zeros(n_pool)
            b[select_diam(evidence, budget=20, rng=np.random.default_rng(0), beta=beta, solver=solver).indices] = 1
            values[solver] = diam_objective(b, graphs, votes.astype(float), beta)
        assert values["greedy-swap"] <= min(values["authors"], values["fista"]) + 1e-9, values
