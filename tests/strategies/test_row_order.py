"""A batch does not depend on the order of the pool's rows (ties are broken from the run's seed).

A user's pool file may be sorted by class, by time or by a column. Votes and uncertainties tie
a lot (many points share the top vote), so a strategy that broke ties by position would take
its batch from the first rows of a sorted pool: here, a few classes out of 26.
"""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence, permute_pool
from diamlib.selection.objective import diam_objective
from diamlib.selection.knn import knn_adjacency, neighbour_count
from diamlib.strategies.disagreement import disagreement_votes, marginal_decrease
from diamlib.strategies.run import run_strategy

N_CLASSES, PER_CLASS, N_MODELS, BUDGET = 26, 30, 4, 100
RANKING = ["diam", "diam-nodiv", "cal", "entropy", "margin", "least-confidence", "coreset", "random"]


def class_sorted_pool() -> tuple[Evidence, np.ndarray]:
    """26 classes sorted by class; every model disagrees on every point (all votes tie) and its
    probabilities are uniform (all uncertainties tie); features cluster by class."""
    rng = np.random.default_rng(0)
    classes = np.repeat(np.arange(N_CLASSES), PER_CLASS)
    n = classes.size
    models = []
    for m in range(N_MODELS):
        centres = rng.normal(scale=3.0, size=(N_CLASSES, 8))
        pool = (centres[classes] + rng.normal(size=(n, 8))).astype(np.float32)
        labeled = (centres[:2] + rng.normal(size=(2, 8))).astype(np.float32)
        snapshots = np.stack([np.zeros(n), np.ones(n)]).astype(np.int32)
        models.append(ModelEvidence(name=f"m{m}", pool_features=pool, labeled_features=labeled,
                                    pool_probs=np.full((n, N_CLASSES), 1 / N_CLASSES, np.float32),
                                    snapshot_predictions=snapshots, n_parameters=m + 1))
    evidence = Evidence("classification", np.arange(n, dtype=np.int64), tuple(models), feature_model=N_MODELS - 1)
    return evidence, classes


def coverage(strategy: str, evidence: Evidence, classes_of_index: np.ndarray, seed: int) -> int:
    selection = run_strategy(strategy, evidence, budget=BUDGET, rng=np.random.default_rng(seed))
    return int(np.unique(classes_of_index[selection.indices]).size)


@pytest.mark.parametrize("strategy", RANKING)
def test_a_class_sorted_pool_and_a_shuffled_one_give_the_same_class_coverage(strategy):
    evidence, classes = class_sorted_pool()
    shuffled = permute_pool(evidence, np.random.default_rng(1).permutation(evidence.n_pool))
    sorted_coverage = [coverage(strategy, evidence, classes, seed) for seed in range(3)]
    shuffled_coverage = [coverage(strategy, shuffled, classes, seed) for seed in range(3)]
    # 100 points drawn from 26 classes of 30 cover about 25.5 classes at random
    assert min(sorted_coverage) >= 22, sorted_coverage
    assert abs(np.mean(sorted_coverage) - np.mean(shuffled_coverage)) <= 2.0, (sorted_coverage, shuffled_coverage)


def test_the_same_seed_gives_the_same_batch_and_another_seed_breaks_ties_otherwise():
    evidence, _ = class_sorted_pool()
    first, again, other = (run_strategy("diam-nodiv", evidence, budget=BUDGET, rng=np.random.default_rng(s)).indices
                           for s in (0, 0, 1))
    assert np.array_equal(first, again) and not np.array_equal(np.sort(first), np.sort(other))


def test_diam_scores_are_each_points_marginal_decrease_of_eq_9():
    evidence, _ = class_sorted_pool()
    small = permute_pool(evidence, np.arange(120))  # the first 120 rows (4 classes)
    small = Evidence("classification", small.unlabeled_indices[:120],
                     tuple(ModelEvidence(name=m.name, pool_features=m.pool_features[:120],
                                         snapshot_predictions=m.snapshot_predictions[:, :120])
                           for m in small.models))
    votes = disagreement_votes(small).astype(np.float64)
    graphs = [knn_adjacency(m.pool_features, neighbour_count(120, 0.05)) for m in small.models]
    summed = sum((g + g.T) / 2 for g in graphs)
    batch = np.array([0, 7, 31, 64, 90])
    scores = marginal_decrease(summed, votes, batch, beta=-1.0)

    def objective(positions):
        b = np.zeros(120)
        b[list(positions)] = 1.0
        return diam_objective(b, graphs, votes, -1.0)

    base = objective(batch)
    for j in (0, 64):
        assert scores[j] == pytest.approx(objective(set(batch) - {j}) - base)
    for j in (1, 50):
        assert scores[j] == pytest.approx(base - objective(set(batch) | {j}))
