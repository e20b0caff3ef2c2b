"""Theorem 1: err(argmin_{C_i} d(., h_A)) - nu_i <= 2 d(h_A, h*)."""
import numpy as np
import pytest

from diamlib.theory.coefficients import check_pseudometric, coefficient_table
from diamlib.theory.experiments import make_setting
from diamlib.theory.projection import (
    assert_projection_bound,
    check_projection_bound,
    projections,
    union_scores,
)


@pytest.mark.parametrize("name", ["thresholds+intervals", "stumps+linear"])
@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_projection_bound_holds(name, noise):
    setting = make_setting(name, 200, noise, seed=0)
    frame = check_projection_bound(setting)
    assert frame["holds"].all()
    assert (frame["max_ratio"] <= 2 + 1e-9).all()
    # The bound is attained up to a factor: some projection loses more than d(h_A, h*).
    assert frame["max_ratio"].max() > 1.0
    assert_projection_bound(frame)


def test_projection_bound_check_fails_loudly():
    frame = check_projection_bound(make_setting("thresholds+intervals", 200, 0.0, seed=0))
    frame.loc[0, "holds"] = False
    with pytest.raises(AssertionError, match="Theorem 1"):
        assert_projection_bound(frame)


def test_projection_needs_target_in_union():
    with pytest.raises(ValueError, match="union"):
        check_projection_bound(make_setting("quadrant", 200, 0.0, seed=0))


def test_union_scores_of_the_target_are_zero():
    setting = make_setting("thresholds+intervals", 200, 0.0, seed=0)
    predictions, scores = union_scores(setting)
    target_rows = np.flatnonzero((predictions == setting.problem.target).all(axis=1))
    assert target_rows.size >= 1
    assert np.all(scores[target_rows] == 0.0)
    proj = projections(setting)
    np.testing.assert_array_equal(proj[0][0], np.arange(setting.classes[0].n_hypotheses))


def test_pseudometric_and_coefficients_of_a_setting():
    setting = make_setting("stumps+linear", 200, 0.0, seed=1)
    assert 0 < check_pseudometric(setting, max_hypotheses=120) <= 1
    table = coefficient_table(setting, [0.05])
    assert set(table["class"]) == {"stumps(x1)", "stumps(x2)", "linear", "union"}
    assert (table["theta"] >= 1).all()
