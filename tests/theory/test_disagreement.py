"""Definitions 3-4: d(h, g), DIS(V), theta_h(r0) on hand-checkable classes."""
import numpy as np
import pytest

from diamlib.theory.disagreement import (
    assert_pseudometric,
    ball,
    disagreement_coefficient,
    disagreement_mass,
    disagreement_matrix,
    disagreement_region,
)
from diamlib.theory.distribution import uniform_grid
from diamlib.theory.hypotheses import intervals, thresholds

WEIGHTS = np.array([0.1, 0.2, 0.3, 0.4])
PREDICTIONS = np.array(
    [
        [0, 0, 1, 1],
        [0, 1, 1, 1],
        [1, 1, 1, 1],
        [0, 0, 1, 1],
    ],
    dtype=bool,
)


def test_disagreement_matrix_matches_hand_computation():
    d = disagreement_matrix(PREDICTIONS, WEIGHTS)
    assert d[0, 1] == pytest.approx(0.2)
    assert d[0, 2] == pytest.approx(0.3)
    assert d[1, 2] == pytest.approx(0.1)
    assert d[0, 3] == pytest.approx(0.0)
    np.testing.assert_allclose(d, d.T)


def test_disagreement_matrix_between_two_sets():
    d = disagreement_matrix(PREDICTIONS[:2], WEIGHTS, PREDICTIONS[2:])
    assert d.shape == (2, 2)
    assert d[1, 0] == pytest.approx(0.1)


def test_disagreement_region_and_mass():
    region = disagreement_region(PREDICTIONS[:3])
    np.testing.assert_array_equal(region, [True, True, False, False])
    assert disagreement_mass(PREDICTIONS[:3], WEIGHTS) == pytest.approx(0.3)
    assert not disagreement_region(PREDICTIONS[[0, 3]]).any()
    assert not disagreement_region(np.zeros((0, 4), dtype=bool)).any()


def test_ball_uses_closed_radius():
    d = disagreement_matrix(PREDICTIONS, WEIGHTS)[0]
    np.testing.assert_array_equal(ball(d, 0.2), [0, 1, 3])
    np.testing.assert_array_equal(ball(d, 0.0), [0, 3])
    with pytest.raises(ValueError, match="radius"):
        ball(d, -0.1)


def test_threshold_coefficient_is_two_in_the_middle():
    distribution = uniform_grid(100)
    cls = thresholds(distribution, np.linspace(0, 1, 21))
    result = disagreement_coefficient(cls.predictions, distribution.weights, cls.find(a=0.5), 0.0)
    assert result.theta == pytest.approx(2.0)
    # Large r0: the ball covers everything, theta = max(1, 1/r0 * mass).
    result = disagreement_coefficient(cls.predictions, distribution.weights, cls.find(a=0.5), 0.6)
    assert result.theta == pytest.approx(1 / 0.6)


def test_small_interval_has_large_coefficient():
    distribution = uniform_grid(100)
    cls = intervals(distribution, np.linspace(0, 1, 51))
    result = disagreement_coefficient(cls.predictions, distribution.weights, cls.find(a=0.5, b=0.52), 0.0)
    # 1 / (w + step) with w = step = 0.02.
    assert result.theta == pytest.approx(25.0)
    assert result.argmax_radius == pytest.approx(0.04)


def test_coefficient_rejects_bad_arguments():
    with pytest.raises(ValueError, match="h_index"):
        disagreement_coefficient(PREDICTIONS, WEIGHTS, 7, 0.1)
    with pytest.raises(ValueError, match="r0"):
        disagreement_coefficient(PREDICTIONS, WEIGHTS, 0, -0.1)
    with pytest.raises(ValueError, match="weights"):
        disagreement_matrix(PREDICTIONS, WEIGHTS[:3])


def test_pseudometric_check_passes_on_d_and_fails_on_a_broken_matrix():
    d = disagreement_matrix(PREDICTIONS, WEIGHTS)
    assert_pseudometric(d)
    broken = np.array([[0.0, 1.0, 0.1], [1.0, 0.0, 0.1], [0.1, 0.1, 0.0]])
    with pytest.raises(AssertionError, match="triangle"):
        assert_pseudometric(broken)
    with pytest.raises(AssertionError, match="symmetric"):
        assert_pseudometric(np.array([[0.0, 0.2], [0.1, 0.0]]))


@pytest.mark.parametrize("seed", range(3))
def test_disagreement_region_matches_the_definition_pair_by_pair(seed):
    """Oracle: x is in DIS(V) iff some pair (h, g) of V has h(x) != g(x) (Definition 4)."""
    rng = np.random.default_rng(seed)
    predictions = rng.random((5, 40)) < rng.random(40)
    expected = [any(predictions[h, x] != predictions[g, x] for h in range(5) for g in range(5))
                for x in range(40)]
    np.testing.assert_array_equal(disagreement_region(predictions), expected)
