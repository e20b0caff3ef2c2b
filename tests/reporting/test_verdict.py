"""The one verdict: pooled effects with intervals, the per-seed test, per-model gains, regimes, files."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats as scipy_stats  # noqa: E402

from diamlib.reporting import stats  # noqa: E402
from diamlib.reporting.verdict import (Experiment, constant_regime, disagreement_regime, interval,  # noqa: E402
                                       pair_effects, per_model_gains, per_seed_wtl, save_verdict, verdict)

BASE = np.array([0.60, 0.70, 0.80, 0.90, 0.75, 0.65])
NOISE = np.array([0.001, -0.002, 0.0015, -0.001, 0.002, -0.0015])


def runs(lifts, *, noise=NOISE):
    """(n_seeds, 3 rounds, 6 models): round 0 = BASE, later rounds BASE + lift (+ noise)."""
    return np.stack([np.stack([BASE, BASE + lift + noise, BASE + lift + noise]) for lift in lifts])


def test_accuracy_effect_is_points_and_mse_effect_is_percent_lower(make_tidy):
    accuracy = make_tidy({"diam": runs([0.05, 0.05]), "random": runs([0.0, 0.0], noise=0)}, n_labeled=(10, 20, 30))
    effects = pair_effects(accuracy, "diam", "random")
    assert len(effects) == 12 and effects.index.names == ["model", "seed"]
    # index (model, seed): m0 seed 0, m0 seed 1, m1 seed 0, ...; the effect in points
    np.testing.assert_allclose(effects.to_numpy(), 100 * (0.05 + np.repeat(NOISE, 2)), atol=1e-9)
    mse = make_tidy({"diam-svd": np.full((1, 3, 2), 0.5), "random": np.full((1, 3, 2), 1.0)}, metric="mse",
                    task="regression", n_labeled=(10, 20, 30))
    # half the baseline's error = 50 % lower; positive means DIAM better for errors too
    np.testing.assert_allclose(pair_effects(mse, "diam-svd", "random").to_numpy(), [50.0, 50.0])


def test_interval_is_the_t_interval_and_agrees_with_the_t_test():
    effects = np.array([1.0, 2.0, 4.0, 3.5, 0.5])
    mean, low, high, p_value = interval(effects)
    half = scipy_stats.t.ppf(0.975, 4) * effects.std(ddof=1) / np.sqrt(5)
    assert (mean, low, high) == pytest.approx((2.2, 2.2 - half, 2.2 + half))
    assert p_value == pytest.approx(scipy_stats.ttest_1samp(effects, 0.0).pvalue)
    assert (low > 0) == (p_value < 0.05)
    assert interval(np.array([2.0, 2.0])) == (2.0, 2.0, 2.0, 0.0)
    assert interval(np.zeros(3)) == (0.0, 0.0, 0.0, 1.0)


def test_verdict_outcome_equals_the_pooled_test_of_notebook_02(make_tidy):
    """The verdict's Win/Tie/Loss on accuracy is notebook 02's pooled final-round test, not a second one."""
    table = make_tidy({"diam": runs([0.05, -0.01, 0.02]), "random": runs([0.0] * 3, noise=0),
                       "cal": runs([0.0, 0.0, 0.0])}, n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("cal", "random"))])
    pooled = stats.pooled_summary(table, reference="diam").set_index("baseline")
    for _, row in result.rows.iterrows():
        assert row["outcome"] == pooled.loc[row["baseline"], "final_outcome"]
        assert row["effect"] == pytest.approx(100 * pooled.loc[row["baseline"], "final_mean_difference"])
        assert row["n_pairs"] == 18 and row["n_seeds"] == 3


def test_per_seed_test_counts_one_outcome_per_seed(make_tidy):
    table = make_tidy({"diam": runs([0.05, -0.05, 0.0]), "random": runs([0.0] * 3, noise=0)},
                      n_labeled=(10, 20, 30))
    assert per_seed_wtl(table, "diam", "random", alpha=0.05) == {"Win": 1, "Tie": 1, "Loss": 1}


def test_per_model_gains_name_the_models_that_lose(make_tidy):
    lift = np.array([0.02, 0.02, 0.02, 0.02, 0.02, -0.03])  # the last model loses in every seed
    table = make_tidy({"diam": runs([lift, lift]), "random": runs([0.0, 0.0], noise=0)}, n_labeled=(10, 20, 30))
    gains = per_model_gains([Experiment("toy", table, "diam", ("random",))])
    assert gains["gains"].tolist() == [True] * 5 + [False]
    assert gains.loc[gains["model"] == "m5", "effect"].item() == pytest.approx(100 * (-0.03 + NOISE[5]))
    result = verdict([Experiment("toy", table, "diam", ("random",))])
    assert result.table.loc["toy", "models gaining vs random"] == "5 of 6"


def test_regime_notes():
    assert disagreement_regime(pd.DataFrame(), 150) == ""
    votes = pd.DataFrame({"in some DIS region": [0.96, 0.99, 0.97], "max-vote tie": [38, 195, 66]})
    saturated = disagreement_regime(votes, 150)
    assert saturated.startswith("96-99 % of the pool in some model's disagreement region at round 0; "
                                "38-195 points share the top vote, for a batch of 150: far from the paper's regime")
    assert "CAL is then close to random" in saturated
    calm = disagreement_regime(pd.DataFrame({"in some DIS region": [0.30, 0.45], "max-vote tie": [12, 12]}), 40)
    assert calm == "30-45 % of the pool in some model's disagreement region at round 0; 12 points share the top vote, for a batch of 40"
    results = pd.DataFrame({"dataset": "d", "method": ["a", "a", "b"], "seed": 0, "model": ["m0", "m1", "m0"],
                            "round": 2, "metric": "mse", "value": [0.5, 1.2, 0.9]})
    constant = pd.DataFrame({"dataset": "d", "method": ["a", "b"], "seed": 0, "round": 2, "metric": "mse",
                             "value": [1.0, 1.0]})
    assert constant_regime(results, constant).startswith("1 of 3 final (run, model) values not better")
    assert "every model beats" in constant_regime(results[results["value"] < 1], constant)
    assert constant_regime(results, constant.iloc[:0]) == "constant predictor not recorded"


def test_verdict_files_and_markdown(make_tidy, tmp_path):
    table = make_tidy({"diam": runs([0.05, 0.04]), "random": runs([0.0, 0.0], noise=0)}, n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("random",), regime="a note")])
    written = save_verdict(result, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == ["figures/04_verdict_forest.png", "figures/04_verdict_forest.svg", "tables/04_verdict.csv",
                     "tables/04_verdict.md", "tables/04_verdict_per_model.csv"]
    markdown = (tmp_path / "tables" / "04_verdict.md").read_text()
    assert markdown == result.markdown()
    header, rule, row = markdown.splitlines()
    assert header.split(" | ")[0] == "| experiment" and row.startswith("| toy | diam | points | +")
    assert "Win" in row and "a note" in row and result.notes == ["toy: a note"]
    assert pd.read_csv(tmp_path / "tables" / "04_verdict.csv")["outcome"].tolist() == ["Win"]


def test_no_experiment_is_a_clear_error():
    from diamlib.reporting.results import NoResultsError
    with pytest.raises(NoResultsError, match="run notebooks 02, 03 or 05"):
        verdict([])
