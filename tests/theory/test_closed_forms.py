"""Closed forms of theta (thresholds, intervals) and their numerical check."""
import pytest

from diamlib.theory.closed_forms import (
    interval_disagreement_coefficient,
    threshold_disagreement_coefficient,
)
from diamlib.theory.coefficients import assert_closed_forms, check_closed_forms


@pytest.mark.parametrize(
    ("t", "r0", "expected"),
    [(0.5, 0.0, 2.0), (0.5, 0.3, 2.0), (0.5, 0.8, 1.25), (0.1, 0.2, 1.5), (0.0, 0.1, 1.0), (0.5, 1.5, 1.0)],
)
def test_threshold_closed_form(t, r0, expected):
    assert threshold_disagreement_coefficient(t, r0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "r0", "step", "expected"),
    [
        (0.4, 0.7, 0.0, 0.0, 4.0),  # max(4, 1/w) with w = 0.3
        (0.45, 0.5, 0.0, 0.0, 20.0),  # 1 / w
        (0.45, 0.5, 0.0, 0.01, 1 / 0.06),  # grid: 1 / (w + step)
        (0.4, 0.7, 0.2, 0.0, 2 + 0.3 / 0.2),  # merged bands: (w + 2 r0) / r0
        (0.4, 0.5, 0.5, 0.0, 2.0),  # r0 > w: everything, 1 / r0
    ],
)
def test_interval_closed_form(a, b, r0, step, expected):
    assert interval_disagreement_coefficient(a, b, r0, step) == pytest.approx(expected)


def test_closed_forms_reject_bad_arguments():
    with pytest.raises(ValueError, match="t must"):
        threshold_disagreement_coefficient(1.5, 0.1)
    with pytest.raises(ValueError, match="0 <= a < b"):
        interval_disagreement_coefficient(0.5, 0.4, 0.1)
    with pytest.raises(ValueError, match="r0"):
        interval_disagreement_coefficient(0.1, 0.4, -1.0)


def test_numerical_coefficients_equal_closed_forms():
    frame = check_closed_forms(pool_size=200)
    assert len(frame) == 6 * 7
    assert_closed_forms(frame)
    assert frame["numeric"].max() > 20  # the narrow interval


def test_closed_form_check_fails_loudly_on_a_wrong_value():
    frame = check_closed_forms(pool_size=100, threshold_positions=(0.5,), interval_endpoints=(), radii=(0.0,))
    frame.loc[0, "closed_form"] = 3.0
    frame["abs_error"] = (frame["numeric"] - frame["closed_form"]).abs()
    with pytest.raises(AssertionError, match="differs from the closed form"):
        assert_closed_forms(frame)


def test_closed_form_check_needs_aligned_grid():
    with pytest.raises(ValueError, match="pool_size \\* step"):
        check_closed_forms(pool_size=110)
