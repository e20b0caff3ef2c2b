"""Checks of a task's runs and the final table of notebooks 02 and 03."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from diamlib.reporting import stats
from diamlib.reporting.tables import RunCheckError, check_runs, final_table

VALUES = {  # (seeds, rounds, models)
    "diam": np.array([[[0.5, 0.6, 0.7], [0.6, 0.8, 0.9], [0.7, 0.9, 0.95]]]),
    "random": np.array([[[0.5, 0.6, 0.7], [0.55, 0.65, 0.75], [0.6, 0.7, 0.8]]]),
}


@pytest.fixture
def runs(make_tidy):
    return make_tidy(VALUES, n_labeled=(10, 20, 30))


def test_complete_runs_pass_and_are_summarised(runs):
    checks = check_runs(runs, seeds=[0], rounds=2, query_size=10)
    assert list(checks.index) == [("toy", "diam", "accuracy"), ("toy", "random", "accuracy")]
    assert checks["rounds"].tolist() == [3, 3] and checks["models"].tolist() == [3, 3]
    assert checks["labels_first"].tolist() == [10, 10] and checks["labels_last"].tolist() == [30, 30]
    assert checks["values in range"].all()


@pytest.mark.parametrize("change, message", [
    (lambda t: t[~((t["method"] == "diam") & (t["round"] == 2))], "diam/accuracy: 2 rounds recorded, expected 3"),
    (lambda t: t.assign(n_labeled=t["n_labeled"].where(t["round"] < 2, 35)), "rounds added [10, 15] labels"),
    (lambda t: t[~((t["method"] == "random") & (t["round"] == 1) & (t["model"] == "m2"))],
     "not every target model was evaluated"),
    (lambda t: t.assign(value=t["value"].where(t["method"] != "diam", 1.5)), "values outside [0.0, 1.0]"),
])
def test_a_failed_check_is_raised_naming_the_run(runs, change, message):
    with pytest.raises(RunCheckError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_runs(change(runs), seeds=[0], rounds=2, query_size=10)


def test_a_missing_seed_is_raised(runs):
    with pytest.raises(RunCheckError, match="1 seed\\(s\\), the profile has 2"):
        check_runs(runs, seeds=[0, 1], rounds=2, query_size=10)


def test_final_table_holds_the_stats_numbers_best_first(runs):
    table = final_table(runs, ["accuracy"])
    assert list(table.index) == [("toy", "diam"), ("toy", "random")]
    assert table.loc[("toy", "diam"), "accuracy final mean"] == pytest.approx(np.mean([0.7, 0.9, 0.95]))
    assert table.loc[("toy", "diam"), "accuracy final std"] == pytest.approx(np.std([0.7, 0.9, 0.95]))
    assert table.loc[("toy", "diam"), "accuracy best model"] == pytest.approx(np.mean([0.7, 0.9, 0.95]))
    assert table.loc[("toy", "random"), "accuracy worst model"] == pytest.approx(np.mean([0.5, 0.55, 0.6]))
    curve = stats.curve_summary(stats.learning_curves(runs)).set_index("method")["mean"]
    assert table["accuracy curve mean"].droplevel(0).to_dict() == pytest.approx(curve.to_dict())


def test_final_table_of_errors_puts_the_lowest_first(make_tidy):
    errors = make_tidy({m: 1.0 - v for m, v in VALUES.items()}, metric="mse", task="regression", n_labeled=(10, 20, 30))
    other = errors.assign(metric="mae")
    table = final_table(pd.concat([errors, other]), ["mse", "mae"])
    assert list(table.index.get_level_values("method")) == ["diam", "random"]
    assert [c for c in table.columns if c.endswith("final mean")] == ["mse final mean", "mae final mean"]
    with pytest.raises(ValueError, match=r"metrics \['accuracy'\] have no results"):
        final_table(errors, ["accuracy"])


def test_the_constant_predictor_is_a_row_of_the_final_table():
    import pandas as pd

    from diamlib.reporting.tables import constant_predictor_rows

    constant = pd.DataFrame({
        "dataset": ["d"] * 4, "method": ["a", "a", "b", "b"], "seed": [0] * 4, "round": [0, 1, 0, 1],
        "n_labeled": [10, 20, 10, 20], "metric": ["mse"] * 4, "value": [0.04, 0.02, 0.04, 0.03],
        "worse_than_constant": [[]] * 4})
    rows = constant_predictor_rows(constant, ["mse"])
    assert rows.index.tolist() == [("d", "constant predictor")]
    assert rows.loc[("d", "constant predictor"), "mse final mean"] == pytest.approx(0.025)
    assert rows.loc[("d", "constant predictor"), "mse curve mean"] == pytest.approx(0.0325)
