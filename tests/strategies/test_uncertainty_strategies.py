"""Entropy, least confidence and margin on hand-made probabilities."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.strategies.uncertainty import (
    entropy_uncertainty,
    least_confidence_uncertainty,
    margin_uncertainty,
    select_entropy,
    select_least_confidence,
    select_margin,
)
from diamlib.strategies.run import run_strategy

RNG = np.random.default_rng(0)


def _evidence(*probs_per_model: list) -> Evidence:
    n_pool = len(probs_per_model[0])
    models = tuple(
        ModelEvidence(name=f"m{i}", pool_features=np.eye(n_pool, 2), labeled_features=np.zeros((1, 2)),
                      pool_probs=np.asarray(p, dtype=np.float64),
                      snapshot_predictions=np.zeros((2, n_pool), dtype=np.int32))
        for i, p in enumerate(probs_per_model)
    )
    return Evidence("classification", np.array([10, 20, 30, 40][:n_pool], dtype=np.int64), models)


def test_per_model_scores_on_known_probabilities():
    probs = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.3, 0.2]])
    np.testing.assert_allclose(entropy_uncertainty(probs),
                               [0.0, np.log(3), -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2))])
    np.testing.assert_allclose(least_confidence_uncertainty(probs), [0.0, 2 / 3, 0.5])
    np.testing.assert_allclose(margin_uncertainty(probs), [0.0, 1.0, 0.8])


def test_least_confidence_normalises_each_model_before_averaging():
    # model A: top probabilities 0.50, 0.52, 0.54, 0.60 -> 1-max = .50 .48 .46 .40 -> normalised 1, .8, .6, 0
    # model B: top probabilities 1.0, 0.8, 0.5, 0.6   -> 1-max = 0 .2 .5 .4     -> normalised 0, .4, 1, .8
    # mean: .5 .6 .8 .4 -> order 2, 1, 0, 3 (raw averaging would give 2, 3, 1, 0)
    a = [[0.50, 0.50], [0.52, 0.48], [0.54, 0.46], [0.60, 0.40]]
    b = [[1.0, 0.0], [0.8, 0.2], [0.5, 0.5], [0.6, 0.4]]
    selection = select_least_confidence(_evidence(a, b), budget=4, rng=RNG)
    np.testing.assert_array_equal(selection.indices, [30, 20, 10, 40])
    np.testing.assert_allclose(selection.scores, [0.5, 0.6, 0.8, 0.4])


def test_entropy_prefers_the_most_uniform_predictions():
    probs = [[0.9, 0.05, 0.05], [0.4, 0.3, 0.3], [0.98, 0.01, 0.01], [0.6, 0.2, 0.2]]
    selection = select_entropy(_evidence(probs, probs), budget=2, rng=RNG)
    np.testing.assert_array_equal(selection.indices, [20, 40])
    assert selection.scores[1] == pytest.approx(1.0) and selection.scores[2] == pytest.approx(0.0)


def test_margin_prefers_close_top_two_classes_regardless_of_the_third():
    # margins: .50, .05, .30, 0 (the two largest of the last row are 0.35 and 0.35)
    probs = [[0.7, 0.2, 0.1], [0.45, 0.40, 0.15], [0.6, 0.3, 0.1], [0.35, 0.30, 0.35]]
    selection = select_margin(_evidence(probs), budget=3, rng=RNG)
    np.testing.assert_array_equal(selection.indices, [40, 20, 30])


def test_exact_ties_go_to_the_lower_pool_position():
    probs = [[0.5, 0.5]] * 4
    selection = select_entropy(_evidence(probs), budget=4, rng=RNG)
    np.testing.assert_array_equal(selection.indices, [10, 20, 30, 40])


def test_logits_instead_of_probabilities_raise():
    with pytest.raises(ValueError, match="model 'm0': array 'pool_probs' rows must be probabilities"):
        run_strategy("entropy", _evidence([[2.0, -1.0]] * 4), budget=1, rng=RNG)


def test_margin_needs_two_classes():
    with pytest.raises(ValueError, match="n_classes>=2"):
        select_margin(_evidence([[1.0]] * 4), budget=1, rng=RNG)


def test_missing_probabilities_raise():
    evidence = _evidence([[0.5, 0.5]] * 4)
    m = evidence.models[0]
    broken = Evidence("classification", evidence.unlabeled_indices,
                      (ModelEvidence(name="m0", pool_features=m.pool_features, labeled_features=m.labeled_features),))
    with pytest.raises(ValueError, match="pool_probs is missing"):
        run_strategy("least-confidence", broken, budget=1, rng=RNG)
