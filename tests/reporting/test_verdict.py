"""The one verdict: seed-level effects, the paper's test per seed, per-model gains, regimes and the gate, files."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from diamlib.reporting.stats.seed_level import pair_effects, papers_test_per_seed  # noqa: E402
from diamlib.reporting.verdict import (Experiment, constant_regime, diam_settings, disagreement_regime,  # noqa: E402
                                       per_model_gains, round_zero_regime, save_verdict, split_methods, verdict)

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


def test_verdict_effect_is_the_mean_of_per_seed_means(make_tidy):
    """The effect is the mean over seeds of each seed's mean over models; 18 pairs, but 3 replicates."""
    table = make_tidy({"diam": runs([0.05, -0.01, 0.02]), "random": runs([0.0] * 3, noise=0),
                       "cal": runs([0.0, 0.0, 0.0])}, n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("cal", "random"))])
    row = result.rows.set_index("baseline").loc["random"]
    per_seed = 100 * np.array([0.05, -0.01, 0.02])  # NOISE averages to 0 over the models
    assert row["effect"] == pytest.approx(per_seed.mean())
    assert row["seed_spread"] == pytest.approx(per_seed.std(ddof=1))
    assert row["n_seeds"] == 3 and row["n_models"] == 6
    assert row["outcome"] == "Tie"  # three seeds that disagree: no Win, although every pair test would say so


def test_per_seed_test_counts_one_outcome_per_seed(make_tidy):
    table = make_tidy({"diam": runs([0.05, -0.05, 0.0]), "random": runs([0.0] * 3, noise=0)},
                      n_labeled=(10, 20, 30))
    assert papers_test_per_seed(table, "diam", "random", alpha=0.05) == {"Win": 1, "Tie": 1, "Loss": 1}
    result = verdict([Experiment("toy", table, "diam", ("random",))])
    assert "paper's test 1/1/1" in result.table.loc["toy", "random"]


def test_per_model_gains_name_the_models_that_lose(make_tidy):
    lift = np.array([0.02, 0.02, 0.02, 0.02, 0.02, -0.03])  # the last model loses in every seed
    table = make_tidy({"diam": runs([lift, lift]), "random": runs([0.0, 0.0], noise=0)}, n_labeled=(10, 20, 30))
    gains = per_model_gains([Experiment("toy", table, "diam", ("random",))])
    # two seeds with identical effects: every interval collapses to its point
    assert gains["gains"].tolist() == [True] * 5 + [False]
    assert gains.loc[gains["model"] == "m5", "effect"].item() == pytest.approx(100 * (-0.03 + NOISE[5]))
    result = verdict([Experiment("toy", table, "diam", ("random",))])
    assert result.table.loc["toy", "models gaining vs random: interval > 0 (point > 0)"] == "5 of 6 (5)"


def test_regime_notes():
    assert disagreement_regime(pd.DataFrame(), 150) == ""
    votes = pd.DataFrame({"in some DIS region": [0.96, 0.99, 0.97], "max-vote tie": [38, 195, 66],
                          "round-0 accuracy": [0.55, 0.58, 0.6]})
    assert disagreement_regime(votes, 150) == (
        "at round 0: 96-99 % of the pool in some model's disagreement region; 38-195 points share the top vote, "
        "for a batch of 150; round-0 accuracy 55-60 %")
    calm = disagreement_regime(pd.DataFrame({"in some DIS region": [0.30, 0.45], "max-vote tie": [12, 12]}), 40)
    assert calm == ("at round 0: 30-45 % of the pool in some model's disagreement region; 12 points share the top "
                    "vote, for a batch of 40")
    results = pd.DataFrame({"dataset": "d", "method": ["a", "a", "b"], "seed": 0, "model": ["m0", "m1", "m0"],
                            "round": 2, "metric": "mse", "value": [0.5, 1.2, 0.9]})
    constant = pd.DataFrame({"dataset": "d", "method": ["a", "b"], "seed": 0, "round": 2, "metric": "mse",
                             "value": [1.0, 1.0]})
    assert constant_regime(results, constant).startswith("1 of 3 final (run, model) values not better")
    assert "every model beats" in constant_regime(results[results["value"] < 1], constant)
    assert constant_regime(results, constant.iloc[:0]) == "constant predictor not recorded"


def test_round_zero_regime_joins_the_votes_and_the_round_0_accuracy(make_tidy):
    table = make_tidy({"diam": runs([0.05, 0.04]), "random": runs([0.0, 0.0], noise=0)}, n_labeled=(10, 20, 30))
    votes = pd.DataFrame({"seed": [0, 1], "in some DIS region": [0.4, 0.3], "max-vote tie": [10, 20]})
    numbers = round_zero_regime(votes, table, "diam").set_index("seed")
    assert numbers.loc[1, "max-vote tie"] == 20 and numbers.loc[0, "round-0 accuracy"] == pytest.approx(BASE.mean())
    unrecorded = round_zero_regime(pd.DataFrame(), table, "diam")
    assert unrecorded["in some DIS region"].isna().all() and len(unrecorded) == 2


def test_references_and_baselines_come_from_the_strategy_registry(make_tidy):
    arrays = {m: runs([0.0]) for m in ("random", "diam", "diam-nodiv", "cal")}
    table = make_tidy(arrays, strategies={"diam-beta-0.1": "diam"}, n_labeled=(10, 20, 30))
    variant = make_tidy({"diam-beta-0.1": runs([0.0])}, strategies={"diam-beta-0.1": "diam"}, n_labeled=(10, 20, 30))
    references, baselines = split_methods(pd.concat([table, variant]), "classification")
    assert references == ["diam"]  # the registry's proposed strategy; the beta variant is no baseline either
    assert set(baselines) == {"random", "diam-nodiv", "cal"}
    regression = make_tidy({m: runs([0.0]) for m in ("diam-svd", "diam-leverage", "random")}, metric="mse",
                           task="regression", n_labeled=(10, 20, 30))
    assert split_methods(regression, "regression") == (["diam-svd", "diam-leverage"], ("random",))


def test_verdict_files_and_markdown(make_tidy, tmp_path):
    table = make_tidy({"diam": runs([0.05, 0.04, 0.05, 0.045]), "random": runs([0.0] * 4, noise=0)},
                      n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("random",), regime="a note")])
    written = save_verdict(result, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == ["figures/04_verdict_forest.png", "figures/04_verdict_forest.svg", "tables/04_verdict.csv",
                     "tables/04_verdict.md", "tables/04_verdict_per_model.csv"]
    markdown = (tmp_path / "tables" / "04_verdict.md").read_text()
    assert markdown == result.markdown()
    header, rule, row = markdown.splitlines()[:3]
    assert header.split(" | ")[0] == "| experiment" and row.startswith("| toy | diam | points | 4 | +")
    assert "Win" in row and "a note" in row and result.notes == ["toy: a note"]
    assert "Regime gate:" in markdown and "Holm-adjusted" in markdown
    assert pd.read_csv(tmp_path / "tables" / "04_verdict.csv")["outcome"].tolist() == ["Win"]


def test_no_experiment_is_a_clear_error():
    from diamlib.reporting.results import NoResultsError
    with pytest.raises(NoResultsError, match="run notebooks 02, 03 or 05"):
        verdict([])


def test_which_diam_ran_is_shown_wherever_diam_is(make_tidy):
    assert diam_settings("diam", {}) == "solver greedy-swap, beta -0.1"  # the defaults (the paper's beta), filled in
    assert diam_settings("diam", {"beta": -0.1, "solver": "authors"}) == "solver authors, beta -0.1"
    assert diam_settings("diam-svd", {}) == ""  # no solver, no beta
    table = make_tidy({"diam": runs([0.05, 0.04, 0.05]), "random": runs([0.0] * 3, noise=0)}, n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("random",), settings=diam_settings("diam", {"beta": -0.1}))])
    assert result.table.loc["toy", "DIAM"] == "diam (solver greedy-swap, beta -0.1)"
    assert set(result.per_model["reference"]) == {"diam (solver greedy-swap, beta -0.1)"}
    assert result.rows["reference_settings"].tolist() == ["solver greedy-swap, beta -0.1"]
    assert "| toy | diam (solver greedy-swap, beta -0.1) |" in result.markdown()
    from diamlib.reporting.verdict import verdict_sentences

    (sentence,) = verdict_sentences(result.rows, "random")
    assert sentence.startswith("toy: DIAM diam (solver greedy-swap, beta -0.1) vs random +")


def test_one_seed_gives_no_interval_and_no_outcome(make_tidy):
    from diamlib.reporting.verdict import TOO_FEW_SEEDS

    table = make_tidy({"diam": runs([0.05]), "random": runs([0.0], noise=0)}, n_labeled=(10, 20, 30))
    result = verdict([Experiment("toy", table, "diam", ("random",))])
    row = result.rows.iloc[0]
    assert row["outcome"] == TOO_FEW_SEEDS and np.isnan(row["low"]) and np.isnan(row["mde"])
    assert result.table.loc["toy", "random"].startswith("+5.0 [n/a, n/a] one seed: no test")
    assert result.table.loc["toy", "MDE vs random (80 % power)"] == "n/a"
    assert "over the table's 0 comparisons" in result.markdown()  # an untested row is not in Holm's family


def test_another_solver_is_judged_and_the_beta_sweep_is_compared_with_diam(make_tidy):
    from diamlib.reporting.verdict import sweep_sentences, variant_rows, variants_table

    strategies = {"diam-authors": "diam", "diam-beta-1": "diam"}
    table = make_tidy({"diam": runs([0.05, 0.04, 0.05]), "diam-authors": runs([0.01, 0.005, 0.012]),
                       "diam-beta-1": runs([0.05, 0.041, 0.05]), "random": runs([0.0] * 3, noise=0)},
                      strategies=strategies, n_labeled=(10, 20, 30))
    solvers = {"diam": "greedy-swap", "diam-authors": "authors", "diam-beta-1": "greedy-swap", "random": ""}
    references, baselines = split_methods(table, "classification", solvers)
    assert references == ["diam", "diam-authors"] and baselines == ("random",)  # the sweep is neither
    experiment = Experiment("toy", table, "diam", baselines, settings="solver greedy-swap, beta -0.1",
                            variants=(("diam-authors", "solver authors, beta -0.1", "solver"),
                                      ("diam-beta-1", "solver greedy-swap, beta -1", "beta")))
    rows = variant_rows([experiment])
    assert rows["variant"].tolist() == ["diam-authors (solver authors, beta -0.1)", "diam-beta-1 (solver greedy-swap, beta -1)"]
    assert (rows["against"] == "diam (solver greedy-swap, beta -0.1)").all()
    authors, beta = rows.iloc[0], rows.iloc[1]
    assert authors["effect"] == pytest.approx(-(4.0 + 3.5 + 3.8) / 3, abs=1e-6) and authors["outcome"] == "Loss"
    assert abs(beta["effect"]) < 0.1 and beta["outcome"] == "Tie" and len(rows["p_holm"].dropna()) == 2
    assert variants_table(rows).index.tolist() == ["toy", "toy"]
    assert sweep_sentences(rows) == ["toy: no other beta beats diam (solver greedy-swap, beta -0.1) after the Holm "
                                     "adjustment, so the sweep gives no reason to leave its beta."]
    result = verdict([experiment])
    assert "DIAM's variants against the verdict's DIAM" in result.markdown()
    assert "| toy | diam-beta-1 (solver greedy-swap, beta -1) |" in result.markdown()


def test_each_baseline_is_set_against_random_once_per_dataset(make_tidy):
    from diamlib.reporting.verdict import standing_rows, standing_table

    table = make_tidy({"diam": runs([0.05, 0.04, 0.05]), "entropy": runs([-0.08, -0.07, -0.09]),
                       "random": runs([0.0] * 3, noise=0)}, n_labeled=(10, 20, 30))
    experiments = [Experiment(f"toy, {r}", table, r, ("entropy", "random"), experiment_group="toy")
                   for r in ("diam", "diam-other")]
    standing = standing_rows(experiments)
    assert standing[["experiment", "baseline"]].values.tolist() == [["toy", "entropy"]]  # once, not per DIAM
    assert standing["effect"].iloc[0] == pytest.approx(-8.0, abs=0.05) and standing["high"].iloc[0] < 0
    assert standing_table(standing).loc["toy", "entropy"].startswith("-8.0 [")
    assert "Each baseline against random sampling" in verdict(experiments[:1]).markdown()


def test_the_papers_effect_stands_beside_the_mde(make_tidy):
    table = make_tidy({"diam": runs([0.05, 0.04]), "random": runs([0.0] * 2, noise=0)}, dataset="fashion-mnist",
                      n_labeled=(10, 20, 30))
    other = table.assign(dataset="digits")
    result = verdict([Experiment("fm", table, "diam", ("random",)), Experiment("dg", other, "diam", ("random",))])
    column = result.table["the paper's effect vs random"]
    assert column["fm"] == "+0.5 points (best model), +0.7 points (worst model); Table 3a, curve means"
    assert column["dg"] == "not in the paper"


def test_diam_svd_below_full_rank_cannot_test_problem_1(make_tidy):
    from diamlib.reporting.stats.regime import GateResult
    from diamlib.reporting.verdict import _with_row_space

    table = make_tidy({"diam-svd": np.full((2, 3, 2), 0.5), "random": np.full((2, 3, 2), 1.0)}, metric="mse",
                      task="regression", n_labeled=(100, 250, 400))
    meta = {"model_info": [{"feature_dim": 448}, {"feature_dim": 320}]}
    regime, gate = _with_row_space("every model beats the constant predictor", GateResult(True), table, meta)
    assert not gate.passes and "rank" in gate.failed
    assert "at most 250 labels at a selection round against 320-448 feature dimensions" in regime
    wide = {"model_info": [{"feature_dim": 200}]}  # 250 labels reach a 200-dimensional feature space
    assert _with_row_space("", GateResult(True), table, wide) == ("", GateResult(True))


def test_when_cal_is_a_random_draw_only_its_cell_cannot_test_the_claim(make_tidy):
    from diamlib.reporting.stats.regime import GateResult
    from diamlib.reporting.verdict import CANNOT_TEST

    table = make_tidy({"diam": runs([0.05, 0.04, 0.05]), "cal": runs([0.0] * 3), "random": runs([0.0] * 3, noise=0)},
                      n_labeled=(10, 20, 30))
    gate = GateResult(True, cal_reason="CAL is close to a random draw: 96 % of the pool in some disagreement region")
    result = verdict([Experiment("toy", table, "diam", ("cal", "random"), gate=gate)])
    outcomes = result.rows.set_index("baseline")["outcome"]
    assert outcomes["cal"] == CANNOT_TEST and outcomes["random"] == "Win"
    assert result.rows.set_index("baseline").loc["cal", "gate"].endswith("96 % of the pool in some disagreement region")
    assert "over the table's 1 comparisons" in result.markdown()  # CAL's cell leaves Holm's family
    assert result.table.loc["toy", "regime"].startswith("CAL is close to a random draw: 96 %")
    numbers = Experiment("toy", table, "diam", ("cal", "random"), gate=gate, regime="at round 0: 96 % of the pool ...")
    assert verdict([numbers]).table.loc["toy", "regime"] == "at round 0: 96 % of the pool ...; CAL: close to a random draw"
