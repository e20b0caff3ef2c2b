"""Prediction matrices of the toy classes."""
import numpy as np
import pytest

from diamlib.seeding import child_rng
from diamlib.theory.distribution import FiniteDistribution, uniform_grid, uniform_square
from diamlib.theory.hypotheses import (
    HypothesisClass,
    decision_stumps,
    intervals,
    linear_separators,
    thresholds,
    union_class,
)


def test_uniform_grid_midpoints():
    d = uniform_grid(4)
    np.testing.assert_allclose(d.points[:, 0], [0.125, 0.375, 0.625, 0.875])
    assert d.weights.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_points"):
        uniform_grid(1)


def test_distribution_validates_weights():
    with pytest.raises(ValueError, match="sum to 1"):
        FiniteDistribution(np.zeros((2, 1)), np.array([0.5, 0.6]))
    with pytest.raises(TypeError, match="Generator"):
        uniform_square(10, 0)


def test_thresholds_and_intervals():
    d = uniform_grid(4)
    t = thresholds(d, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_array_equal(t.predictions[1], [False, False, True, True])
    assert t.find(a=0.5) == 1
    i = intervals(d, np.array([0.0, 0.5, 1.0]))
    assert i.n_hypotheses == 4  # three intervals and the empty one
    np.testing.assert_array_equal(i.predictions[i.find(a=0.0, b=0.5)], [True, True, False, False])
    assert not i.predictions[-1].any()
    with pytest.raises(ValueError, match="match"):
        t.find(a=0.3)
    with pytest.raises(ValueError, match="unknown parameters"):
        t.find(b=0.5)


def test_planar_classes():
    d = uniform_square(50, child_rng(0, "test"))
    s = decision_stumps(d, 1, np.linspace(0, 1, 5))
    assert s.n_hypotheses == 10
    np.testing.assert_array_equal(s.predictions[:5], ~s.predictions[5:])
    lin = linear_separators(d, np.array([0.0, np.pi]), np.array([0.0]))
    # Opposite normals through the centre are complements (no point lies on the line).
    np.testing.assert_array_equal(lin.predictions[0], ~lin.predictions[1])
    with pytest.raises(ValueError, match="1-D points"):
        thresholds(d, np.array([0.5]))


def test_union_keeps_track_of_members():
    d = uniform_grid(10)
    u = union_class([thresholds(d, np.array([0.2, 0.4])), intervals(d, np.array([0.0, 0.5]))])
    assert u.hypotheses.n_hypotheses == 4
    np.testing.assert_array_equal(u.member, [0, 0, 1, 1])
    np.testing.assert_array_equal(u.member_index, [0, 1, 0, 1])


def test_hypothesis_class_validates():
    with pytest.raises(ValueError, match="binary"):
        HypothesisClass("bad", np.array([[0, 2]]), np.zeros(1), ("a",))
    with pytest.raises(ValueError, match="parameter row"):
        HypothesisClass("bad", np.array([[0, 1]]), np.zeros(2), ("a",))
