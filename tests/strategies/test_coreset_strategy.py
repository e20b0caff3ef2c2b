"""Coreset (k-center greedy) on the designated feature model."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.strategies.coreset import select_coreset
from diamlib.strategies.run import run_strategy


def _evidence(task: str = "regression") -> Evidence:
    # model 1 (the feature model): 1-D features, labeled at 0; pool at 1, 2, 10, 9.5
    decoy = ModelEvidence(name="small", pool_features=np.array([[9.0], [0.0], [0.0], [0.0]]),
                          labeled_features=np.array([[0.0]]))
    big = ModelEvidence(name="big", pool_features=np.array([[1.0], [2.0], [10.0], [9.5]]),
                        labeled_features=np.array([[0.0]]))
    return Evidence(task, np.array([50, 60, 70, 80], dtype=np.int64), (decoy, big), feature_model=1)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_coreset_picks_the_farthest_point_then_the_next_farthest(task):
    selection = select_coreset(_evidence(task), budget=2, rng=np.random.default_rng(0))
    # 10 is farthest from the labeled 0; then 2 (distance 2 to {0, 10}) beats 1 (1) and 9.5 (0.5)
    np.testing.assert_array_equal(selection.indices, [70, 60])
    assert selection.info["feature_model"] == "big"
    assert selection.info["covering_radius"] == pytest.approx(1.0)
    np.testing.assert_array_equal(selection.scores, [0, 1, 2, 0])


def test_coreset_uses_labeled_features_as_initial_centers():
    evidence = _evidence()
    model = evidence.models[1]
    moved = ModelEvidence(name="big", pool_features=model.pool_features, labeled_features=np.array([[10.0]]))
    shifted = Evidence("regression", evidence.unlabeled_indices, (evidence.models[0], moved), feature_model=1)
    assert select_coreset(shifted, budget=1, rng=np.random.default_rng(0)).indices.tolist() == [50]


def test_bad_feature_model_position_raises():
    evidence = _evidence()
    broken = Evidence("regression", evidence.unlabeled_indices, evidence.models, feature_model=2)
    with pytest.raises(ValueError, match="feature_model must be a position"):
        run_strategy("coreset", broken, budget=1, rng=np.random.default_rng(0))
