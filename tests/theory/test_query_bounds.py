"""Theorem 2's Lambda_2 (constant 1), VC-dimension bounds, and its comparison with measured labels."""
import math

import numpy as np
import pandas as pd
import pytest

from diamlib.seeding import child_rng
from diamlib.theory.experiments import (
    DIAM_ONLINE,
    assert_labels_grow_slower_than_theorem2,
    compare_agnostic,
    compare_with_theorem2,
    make_setting,
    theorem2_bounds,
)
from diamlib.theory.hypotheses import HypothesisClass, shatters, vc_dimension_bound
from diamlib.theory.query_bounds import (
    paper_log,
    theorem2_lambda2,
    theorem2_lambda2_terms,
    theorem2_terms_table,
)


def test_lambda2_matches_a_case_computed_by_hand():
    # eps = 0.1, delta = 0.05: Log(1/eps) = ln 10 = 2.302585; Log(Log(1/eps)/delta) = ln 46.0517 = 3.829765.
    # class 1: theta 2, nu 0.25, d 2: Log 2 = max(0.693, 1) = 1
    #   2 * (0.0625 / 0.01 + 2.302585) * (2 * 1 + 3.829765) = 2 * 8.552585 * 5.829765 = 99.7191
    # class 2: theta 4, nu 0.1, d 3: Log 4 = 1.386294
    #   4 * (0.01 / 0.01 + 2.302585) * (3 * 1.386294 + 3.829765) = 4 * 3.302585 * 7.988648 = 105.5328
    terms = theorem2_lambda2_terms(np.array([0.25, 0.1]), np.array([2.0, 4.0]), np.array([2, 3]), 0.1, 0.05)
    np.testing.assert_allclose(terms, [99.7191, 105.5328], rtol=1e-5)
    assert theorem2_lambda2([0.25, 0.1], [2.0, 4.0], [2, 3], 0.1, 0.05) == pytest.approx(205.2519, rel=1e-5)


def test_lambda2_uses_the_papers_log_floor():
    # eps = delta = 0.5: Log(2) = 1 and Log(Log(2) / 0.5) = Log(2) = 1, so 1 * (0 + 1) * (1 * 1 + 1) = 2
    assert theorem2_lambda2([0.0], [1.0], [1], 0.5, 0.5) == pytest.approx(2.0)
    assert paper_log(math.e**2) == pytest.approx(2.0)
    assert paper_log(2.0) == 1.0


def test_lambda2_rejects_bad_input():
    with pytest.raises(ValueError, match=">= 1"):
        theorem2_lambda2([0.1], [0.5], [1], 0.1, 0.05)
    with pytest.raises(ValueError, match="common length"):
        theorem2_lambda2([0.1, 0.2], [2.0], [1], 0.1, 0.05)
    with pytest.raises(ValueError, match="epsilon"):
        theorem2_lambda2([0.1], [2.0], [1], 1.0, 0.05)
    with pytest.raises(ValueError, match="a > 0"):
        paper_log(0.0)


def test_vc_dimension_bound_is_attained_on_the_quadrant_classes():
    setting = make_setting("quadrant", 300, 0.05, seed=0)
    bounds = {c.name: vc_dimension_bound(c) for c in setting.classes}
    assert bounds == {"stumps(x1)": 2, "stumps(x2)": 2, "linear": 3}
    rng = child_rng(0, "test-shatter")
    for c in setting.classes:
        d = bounds[c.name]
        found = any(shatters(c.predictions, rng.choice(c.n_points, d, replace=False)) for _ in range(2000))
        assert found, f"{c.name}: no shattered set of size {d} found, so d = {d} would not be exact"


def test_vc_dimension_bound_falls_back_to_log2_of_the_distinct_rows():
    rows = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]], dtype=bool)
    no_family = HypothesisClass("five distinct rows", rows, np.arange(6), ("i",))
    assert vc_dimension_bound(no_family) == 2  # floor(log2 5)
    assert shatters(rows, np.array([0, 1])) and not shatters(rows, np.array([0, 1, 2]))
    small_family = HypothesisClass("family bound", rows, np.arange(6), ("i",), family_vc_dimension=1)
    assert vc_dimension_bound(small_family) == 1
    with pytest.raises(ValueError, match="family_vc_dimension"):
        HypothesisClass("bad", rows, np.arange(6), ("i",), family_vc_dimension=-1)


def test_terms_table_uses_the_exact_best_errors():
    setting = make_setting("quadrant", 300, 0.05, seed=1)
    table = theorem2_terms_table(setting, [0.2, 0.05], delta=0.05)
    assert len(table) == 2 * len(setting.classes)
    for epsilon, rows in table.groupby("epsilon"):
        np.testing.assert_allclose(rows["nu"].to_numpy(), setting.best_errors())
        assert (rows["theta"] >= 1).all()
        assert rows["term"].sum() == pytest.approx(
            theorem2_lambda2(rows["nu"], rows["theta"], rows["d"], epsilon, 0.05)
        )
    lam = table.groupby("epsilon")["term"].sum()
    assert lam[0.05] > lam[0.2]  # nu_i^2 / eps^2 grows as eps shrinks


def test_comparison_with_measured_labels_and_its_check():
    kwargs = dict(seeds=[0], epsilons=[0.2, 0.1], pool_size=200, noise=0.05, delta=0.05)
    result = compare_agnostic("quadrant", stream_log2=11, **kwargs)
    bounds = theorem2_bounds("quadrant", **kwargs)
    comparison = compare_with_theorem2(result.labels, bounds)
    assert set(comparison["output"]) == {"erm", "version_space"}
    erm = comparison[comparison["output"] == "erm"].set_index("epsilon")
    measured = result.labels[(result.labels["method"] == DIAM_ONLINE) & (result.labels["output"] == "erm")]
    assert erm.loc[0.2, "mean_labels"] == measured.set_index("epsilon").loc[0.2, "labels"]
    assert erm.loc[0.2, "ratio"] == pytest.approx(erm.loc[0.2, "mean_labels"] / erm.loc[0.2, "lambda2"])
    with pytest.raises(ValueError, match="same seeds"):
        compare_with_theorem2(result.labels, bounds.assign(seed=7))


def test_growth_check_fails_when_labels_outgrow_the_expression():
    comparison = pd.DataFrame({
        "output": ["erm"] * 3,
        "epsilon": [0.2, 0.1, 0.05],
        "mean_labels": [10.0, 50.0, np.nan],
        "lambda2": [100.0, 300.0, 1000.0],
    })
    comparison["ratio"] = comparison["mean_labels"] / comparison["lambda2"]
    with pytest.raises(AssertionError, match="does not fall"):
        assert_labels_grow_slower_than_theorem2(comparison, "erm")
    falling = comparison.assign(mean_labels=[10.0, 20.0, np.nan])
    falling["ratio"] = falling["mean_labels"] / falling["lambda2"]
    assert assert_labels_grow_slower_than_theorem2(falling, "erm") == pytest.approx((0.1, 20.0 / 300.0))
    with pytest.raises(AssertionError, match="fewer than two"):
        assert_labels_grow_slower_than_theorem2(falling.iloc[[0, 2]], "erm")
