"""Statistics on hand-made tables whose answers are known."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from diamlib.reporting import stats

BASE = np.array([0.60, 0.70, 0.80, 0.90, 0.75, 0.65])
NOISE = np.array([0.001, -0.002, 0.0015, -0.001, 0.002, -0.0015])


# --------------------------------------------------------------------------- paired outcome
def test_paired_outcome_clear_win_loss_and_tie():
    better = BASE + 0.05 + NOISE
    assert stats.paired_outcome(better, BASE)[0] == "Win"
    assert stats.paired_outcome(BASE, better)[0] == "Loss"
    outcome, _, p_value = stats.paired_outcome(BASE + NOISE, BASE)
    assert outcome == "Tie" and p_value > 0.05


def test_paired_outcome_matches_scipy_t_test():
    from scipy.stats import ttest_rel

    a, b = BASE + 0.01 + NOISE, BASE
    _, statistic, p_value = stats.paired_outcome(a, b)
    expected = ttest_rel(a, b)
    assert statistic == pytest.approx(expected.statistic) and p_value == pytest.approx(expected.pvalue)


def test_paired_outcome_lower_is_better():
    lower = BASE - 0.05 + NOISE
    assert stats.paired_outcome(lower, BASE, higher_better=False)[0] == "Win"
    assert stats.paired_outcome(BASE, lower, higher_better=False)[0] == "Loss"


def test_paired_outcome_degenerate_cases():
    assert stats.paired_outcome(BASE, BASE.copy()) == ("Tie", 0.0, 1.0)
    outcome, statistic, p_value = stats.paired_outcome(BASE + 0.01, BASE)
    assert outcome == "Win" and statistic == math.inf and p_value == 0.0
    assert stats.paired_outcome(BASE - 0.01, BASE, higher_better=False)[0] == "Win"
    with pytest.raises(ValueError, match="at least 2 target models"):
        stats.paired_outcome(np.array([0.9]), np.array([0.8]))
    with pytest.raises(ValueError, match="equal 1-d shapes"):
        stats.paired_outcome(BASE, BASE[:3])
    with pytest.raises(ValueError, match="unknown test"):
        stats.paired_outcome(BASE, BASE, test="anova")


def test_paired_outcome_wilcoxon_option():
    better = BASE + 0.05 + NOISE
    outcome, statistic, p_value = stats.paired_outcome(better, BASE, test="wilcoxon")
    # six positive differences: exact two-sided p = 2 / 2**6
    assert outcome == "Win" and p_value == pytest.approx(2 / 64) and statistic == 0.0
    # five models cannot reach p < 0.05 with the exact test (minimum 2 / 32)
    assert stats.paired_outcome(better[:5], BASE[:5], test="wilcoxon")[0] == "Tie"


# --------------------------------------------------------------------------- W/T/L tables
def _three_rounds(make_tidy, metric="accuracy", sign=1.0):
    """diam: round 1 tie with all, round 2 beats 'a' and loses to 'b' (sign flips for errors)."""
    diam = np.stack([BASE, BASE + NOISE, BASE + sign * 0.05 + NOISE])[None]
    a = np.stack([BASE, BASE, BASE])[None]
    b = np.stack([BASE, BASE, BASE + sign * 0.10 + NOISE])[None]
    return make_tidy({"diam": diam, "a": a, "b": b}, metric=metric, n_labeled=(10, 20, 30))


def test_compare_methods_and_table(make_tidy):
    comparison = stats.compare_methods(_three_rounds(make_tidy), reference="diam")
    assert list(comparison["baseline"]) == ["a", "a", "b", "b"]
    assert list(comparison["round"]) == [1, 2, 1, 2]
    assert list(comparison["outcome"]) == ["Tie", "Win", "Tie", "Loss"]
    assert list(comparison["n_labeled"]) == [20, 30, 20, 30]
    table = stats.wtl_table(comparison)
    assert list(table.columns) == ["1", "2", "W/T/L"]
    assert table.loc["a"].tolist() == ["Tie", "Win", "1/1/0"]
    assert table.loc["b"].tolist() == ["Tie", "Loss", "0/1/1"]
    assert table.loc["W/T/L"].tolist() == ["0/2/0", "1/0/1", "1/2/1"]
    totals = stats.wtl_totals(comparison)
    assert totals.loc["a"].tolist() == [1, 1, 0] and totals.loc["b"].tolist() == [0, 1, 1]


def test_compare_methods_lower_is_better(make_tidy):
    # errors: diam's mse drops by 0.05 (win vs a), b's drops by 0.10 (diam loses)
    comparison = stats.compare_methods(_three_rounds(make_tidy, metric="mse", sign=-1.0), reference="diam")
    assert list(comparison["outcome"]) == ["Tie", "Win", "Tie", "Loss"]


def test_compare_methods_averages_seeds_before_pairing(make_tidy):
    # seed 0 much better, seed 1 much worse: the seed average equals the baseline -> Tie
    diam = np.stack([np.stack([BASE, BASE + 0.1]), np.stack([BASE, BASE - 0.1])])
    base = np.stack([np.stack([BASE, BASE]), np.stack([BASE, BASE])])
    comparison = stats.compare_methods(make_tidy({"diam": diam, "random": base}), reference="diam")
    assert comparison["outcome"].tolist() == ["Tie"]
    assert comparison["mean_difference"].iloc[0] == pytest.approx(0.0, abs=1e-12)


def test_compare_methods_leaves_out_variants_of_the_reference(make_tidy):
    rounds = np.stack([BASE, BASE + 0.05 + NOISE])[None]
    table = make_tidy({"diam": rounds, "diam-beta-0.1": rounds, "random": np.stack([BASE, BASE])[None]},
                      strategies={"diam-beta-0.1": "diam"})
    comparison = stats.compare_methods(table, reference="diam")
    assert comparison["baseline"].unique().tolist() == ["random"]


def test_compare_methods_errors(make_tidy):
    one = np.stack([BASE, BASE])[None]
    mixed = pd.concat([make_tidy({"diam": one, "random": one}, dataset="x"),
                       make_tidy({"diam": one, "random": one}, dataset="y")])
    with pytest.raises(ValueError, match="within one context"):
        stats.compare_methods(mixed, reference="diam")
    with pytest.raises(ValueError, match="reference method 'cal' not in the results"):
        stats.compare_methods(make_tidy({"diam": one, "random": one}), reference="cal")
    single = np.array([[[0.5], [0.6]]])
    with pytest.raises(ValueError, match="at least 2 target models"):
        stats.compare_methods(make_tidy({"diam": single, "random": single}), reference="diam")


# --------------------------------------------------------------------------- curves
def test_learning_curve_mean_and_std_over_models_and_seeds(make_tidy):
    # two seeds, one round, two models
    values = np.array([[[0.6, 0.8]], [[0.7, 1.0]]])
    curves = stats.learning_curves(make_tidy({"diam": values}, n_labeled=(50,)))
    row = curves.iloc[0]
    assert row["mean"] == pytest.approx(np.mean([0.7, 0.85]))  # mean over seeds of model means
    assert row["std"] == pytest.approx(np.std([0.65, 0.9]))  # std over models of seed means
    assert row["n_seeds"] == 2 and row["n_labeled"] == 50


def test_curve_summary_and_best_worst(make_tidy):
    values = np.array([[[0.5, 0.7, 0.6], [0.9, 0.8, 0.6]]])
    table = make_tidy({"diam": values}, n_labeled=(10, 20))
    summary = stats.curve_summary(stats.learning_curves(table)).iloc[0]
    # model means per round: 0.6 and 0.7667
    assert summary["mean"] == pytest.approx((0.6 + 2.3 / 3) / 2)
    assert summary["curve_std"] == pytest.approx((2.3 / 3 - 0.6) / 2)
    assert summary["mean_model_std"] == pytest.approx(np.mean([np.std([0.5, 0.7, 0.6]), np.std([0.9, 0.8, 0.6])]))
    bw = stats.best_worst(table).iloc[0]
    # best per round: 0.7, 0.9 (model changes between rounds); worst: 0.5, 0.6
    assert bw["best_mean"] == pytest.approx(0.8) and bw["best_std"] == pytest.approx(0.1)
    assert bw["worst_mean"] == pytest.approx(0.55) and bw["worst_std"] == pytest.approx(0.05)
    errors = stats.best_worst(make_tidy({"diam": values}, metric="mse", n_labeled=(10, 20))).iloc[0]
    assert errors["best_mean"] == pytest.approx(0.55) and errors["worst_mean"] == pytest.approx(0.8)


def test_beta_sensitivity(make_tidy):
    low = np.array([[[0.6, 0.6], [0.8, 0.8]]])
    high = np.array([[[0.6, 0.6], [0.7, 0.7]]])
    table = make_tidy({"diam": low, "diam-beta-10": high, "random": high},
                      strategies={"diam-beta-10": "diam"}, betas={"diam": -1.0, "diam-beta-10": -10.0},
                      n_labeled=(10, 20))
    result = stats.beta_sensitivity(table)
    assert result["beta"].tolist() == [-1.0, -10.0]
    assert result["mean"].tolist() == pytest.approx([0.7, 0.65])
    assert result["curve_std"].tolist() == pytest.approx([0.1, 0.05])
    with pytest.raises(ValueError, match="known beta"):
        stats.beta_sensitivity(table[table["method"] == "random"])


def test_model_subsets(make_tidy):
    values = np.arange(8, dtype=float).reshape(1, 2, 4) / 10
    table = make_tidy({"diam": values}, n_labeled=(10, 20))
    two = stats.first_models(table, 2)
    assert set(two["model"]) == {"m0", "m1"} and set(two["n_models"]) == {2}
    counts = stats.model_count_table(table, [2, 4, 6])
    assert sorted(counts.groupby("n_models")["model"].nunique().items()) == [(2, 2), (4, 4)]
    with pytest.raises(ValueError, match="no run has 6 target models"):
        stats.first_models(table, 6)
    # a dedicated 2-model run is preferred over the first two models of the 4-model run
    dedicated = make_tidy({"diam": np.full((1, 2, 2), 0.99)}, n_labeled=(10, 20))
    counts = stats.model_count_table(pd.concat([table, dedicated]), [2])
    assert counts["value"].unique().tolist() == [0.99]


# --------------------------------------------------------------------------- beyond the paper
def test_normalised_area_and_aulc(make_tidy):
    x = np.array([0.0, 10.0])
    assert stats.normalised_area(x, np.array([0.0, 1.0]), 0.0, 10.0) == pytest.approx(0.5)
    assert stats.normalised_area(x, np.array([0.0, 1.0]), 0.0, 5.0) == pytest.approx(0.25)
    assert math.isnan(stats.normalised_area(x, np.array([0.0, 1.0]), 5.0, 5.0))
    # a: 0.5, 0.7, 0.9 at 10, 20, 30; b stops at 20 -> common range [10, 20]
    a = np.array([[[0.5, 0.5], [0.7, 0.7], [0.9, 0.9]]])
    b = np.array([[[0.5, 0.5], [0.5, 0.5]]])
    curves = stats.learning_curves(make_tidy({"a": a}, n_labeled=(10, 20, 30)).pipe(
        lambda t: pd.concat([t, make_tidy({"b": b}, n_labeled=(10, 20))])))
    area = stats.area_under_curve(curves).set_index("method")
    assert area.loc["a", "aulc"] == pytest.approx(0.6) and area.loc["b", "aulc"] == pytest.approx(0.5)
    assert area.loc["a", "n_labeled_to"] == 20
    own = stats.area_under_curve(curves, common_range=False).set_index("method")
    assert own.loc["a", "aulc"] == pytest.approx(0.7)


def test_labels_to_reach():
    x = np.array([100, 200, 300])
    y = np.array([0.5, 0.7, 0.8])
    assert stats.labels_to_reach(x, y, 0.6) == pytest.approx(150)
    assert stats.labels_to_reach(x, y, 0.75) == pytest.approx(250)
    assert stats.labels_to_reach(x, y, 0.4) == 100
    assert math.isnan(stats.labels_to_reach(x, y, 0.9))
    errors = np.array([0.5, 0.3, 0.2])
    assert stats.labels_to_reach(x, errors, 0.4, higher_better=False) == pytest.approx(150)
    # the first crossing counts, even if the curve dips afterwards
    assert stats.labels_to_reach(x, np.array([0.5, 0.9, 0.6]), 0.7) == pytest.approx(150)


def test_label_savings(make_tidy):
    random = np.array([[[0.5, 0.5], [0.6, 0.6], [0.7, 0.7]]])
    diam = np.array([[[0.5, 0.5], [0.7, 0.7], [0.8, 0.8]]])
    weak = np.array([[[0.5, 0.5], [0.55, 0.55], [0.6, 0.6]]])
    curves = stats.learning_curves(make_tidy({"diam": diam, "random": random, "weak": weak},
                                             n_labeled=(100, 200, 300)))
    savings = stats.label_savings(curves).set_index("method")
    assert savings.loc["random", "target"] == pytest.approx(0.7)
    assert savings.loc["diam", "labels_needed"] == pytest.approx(200)
    assert savings.loc["diam", "labels_saved"] == pytest.approx(100)
    assert savings.loc["diam", "saved_fraction"] == pytest.approx(1 / 3)
    assert not savings.loc["weak", "reached"] and math.isnan(savings.loc["weak", "labels_needed"])
    explicit = stats.label_savings(curves, target=0.6).set_index("method")
    assert explicit.loc["diam", "labels_needed"] == pytest.approx(150)
    with pytest.raises(ValueError, match="baseline 'passive'"):
        stats.label_savings(curves, baseline="passive")


def test_select_and_metric_direction(make_tidy):
    table = make_tidy({"diam": np.ones((1, 1, 2))}, n_labeled=(10,))
    assert len(stats.select(table, method="diam", metric=None)) == 2
    with pytest.raises(ValueError, match="values present"):
        stats.select(table, dataset="mnist")
    assert stats.higher_is_better("accuracy") and not stats.higher_is_better("mae")
    with pytest.raises(ValueError, match="unknown metric"):
        stats.higher_is_better("f1")


def test_compare_all_and_largest_model_count(make_tidy):
    rounds = np.stack([BASE, BASE + 0.05 + NOISE])[None]
    flat = np.stack([BASE, BASE])[None]
    classification = make_tidy({"diam": rounds, "random": flat})
    regression = make_tidy({"diam-svd": flat, "diam-leverage": flat, "coreset": rounds}, metric="mse",
                           task="regression")
    alone = make_tidy({"random": flat}, dataset="other")
    comparison = stats.compare_all(pd.concat([classification, regression, alone]))
    pairs = list(zip(comparison["reference"], comparison["baseline"], comparison["outcome"]))
    assert pairs == [("diam", "random", "Win"), ("diam-svd", "diam-leverage", "Tie"), ("diam-svd", "coreset", "Win"),
                     ("diam-leverage", "diam-svd", "Tie"), ("diam-leverage", "coreset", "Win")]
    small = stats.first_models(classification, 2)
    both = pd.concat([classification, small])
    assert set(stats.largest_model_count(both)["n_models"]) == {6}


def test_compare_methods_refuses_different_target_models(make_tidy):
    rounds = np.stack([BASE, BASE + 0.05])[None]
    table = make_tidy({"diam": rounds, "random": rounds})
    other = table["method"] == "random"
    table.loc[other, "model"] = table.loc[other, "model"].str.replace("m0", "x0")
    with pytest.raises(ValueError, match=r"models \['m0', 'x0'\] have results for only one of 'diam' and 'random'"):
        stats.compare_methods(table, reference="diam")
