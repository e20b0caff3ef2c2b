"""Seed-level inference: one verdict row recomputed by hand (numpy, scipy) from small synthetic curve tables."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import optimize  # noqa: E402
from scipy import stats as scipy_stats  # noqa: E402

from diamlib.reporting.stats import seed_level  # noqa: E402
from diamlib.reporting.stats.regime import GateResult  # noqa: E402
from diamlib.reporting.stats.seed_level import (  # noqa: E402
    compare_over_seeds, holm_adjust, minimum_detectable_effect, outcome_of, pair_effects, papers_test_per_seed,
    per_model_over_seeds, t_interval)
from diamlib.reporting.verdict import CANNOT_TEST, Experiment, verdict  # noqa: E402

N_SEEDS, N_ROUNDS, N_MODELS = 4, 3, 5


BASE = np.random.default_rng(0).uniform(0.5, 0.8, size=(N_SEEDS, 1, N_MODELS))


def curves(seed: int, lift: float) -> np.ndarray:
    """(seeds, rounds, models) accuracies: round 0 shared by every method of a seed, then noisy gains."""
    rng = np.random.default_rng(seed)
    later = BASE + lift + rng.normal(0.0, 0.02, size=(N_SEEDS, N_ROUNDS - 1, N_MODELS))
    return np.concatenate([BASE, later], axis=1)


def by_hand_mde(spread: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The effect a two-sided one-sample t-test detects with ``power``, from the noncentral t (scipy)."""
    df, critical = n - 1, scipy_stats.t.ppf(1 - alpha / 2, n - 1)

    def shortfall(d):
        nc = d * math.sqrt(n)
        # P(T > c) + P(T < -c) under the noncentral t; the lower tail as P(T > c) at -nc (symmetry)
        return scipy_stats.nct.sf(critical, df, nc) + scipy_stats.nct.sf(critical, df, -nc) - power

    return optimize.brentq(shortfall, 1e-6, 10.0) * spread


def by_hand_holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


@pytest.fixture
def toy(make_tidy):
    arrays = {"diam": curves(1, 0.05), "random": curves(2, 0.0), "cal": curves(3, 0.04), "entropy": curves(4, -0.01)}
    return arrays, make_tidy(arrays, n_labeled=(10, 20, 30))


def test_one_verdict_row_recomputed_by_hand(toy):
    arrays, table = toy
    result = verdict([Experiment("toy", table, "diam", ("random", "cal", "entropy"))], alpha=0.05)
    rows = result.rows.set_index("baseline")
    p_by_hand = {}
    for baseline in ("random", "cal", "entropy"):
        final_diam, final_base = arrays["diam"][:, -1, :], arrays[baseline][:, -1, :]
        per_seed = 100 * (final_diam - final_base).mean(axis=1)  # mean over the seed's models
        mean, spread = per_seed.mean(), per_seed.std(ddof=1)
        half = scipy_stats.t.ppf(0.975, N_SEEDS - 1) * spread / math.sqrt(N_SEEDS)
        p_by_hand[baseline] = scipy_stats.ttest_1samp(per_seed, 0.0).pvalue
        row = rows.loc[baseline]
        assert (row["effect"], row["low"], row["high"]) == pytest.approx((mean, mean - half, mean + half))
        assert row["p_value"] == pytest.approx(p_by_hand[baseline])
        assert row["seed_spread"] == pytest.approx(spread)
        assert row["mde"] == pytest.approx(by_hand_mde(spread, N_SEEDS), rel=1e-4)
        assert row["n_seeds"] == N_SEEDS and row["n_models"] == N_MODELS
        papers = [scipy_stats.ttest_rel(final_diam[s], final_base[s]) for s in range(N_SEEDS)]
        wins = sum(t.pvalue < 0.05 and t.statistic > 0 for t in papers)
        losses = sum(t.pvalue < 0.05 and t.statistic < 0 for t in papers)
        assert (row["papers_win"], row["papers_tie"], row["papers_loss"]) == (wins, N_SEEDS - wins - losses, losses)
    names = ["random", "cal", "entropy"]
    holm = by_hand_holm(np.array([p_by_hand[b] for b in names]))
    for baseline, adjusted in zip(names, holm):
        assert rows.loc[baseline, "p_holm"] == pytest.approx(adjusted)
        expected = "Tie" if adjusted >= 0.05 else ("Win" if rows.loc[baseline, "effect"] > 0 else "Loss")
        assert rows.loc[baseline, "outcome"] == expected
    assert rows.loc["random", "outcome"] == "Win"  # a 5-point lift with 2-point noise per model is found
    # the per-model intervals over the seeds, and the models gaining, by hand
    per_model = result.per_model.set_index("model")
    for m in range(N_MODELS):
        effects = 100 * (arrays["diam"][:, -1, m] - arrays["random"][:, -1, m])
        half = scipy_stats.t.ppf(0.975, N_SEEDS - 1) * effects.std(ddof=1) / math.sqrt(N_SEEDS)
        assert per_model.loc[f"m{m}", "low"] == pytest.approx(effects.mean() - half)
        assert per_model.loc[f"m{m}", "gains"] == (effects.mean() - half > 0)
    gaining = int(per_model["gains"].sum())
    point = int((per_model["effect"] > 0).sum())
    column = [c for c in result.table.columns if c.startswith("models gaining")][0]
    assert result.table.loc["toy", column] == f"{gaining} of {N_MODELS} ({point})"
    assert "Holm-adjusted over the table's 3 comparisons" in result.markdown()


def test_mse_effects_are_percent_lower_per_pair_then_mean_over_models_then_seeds(make_tidy):
    diam = np.array([[[1.0, 1.0], [0.5, 0.8]], [[1.0, 1.0], [0.6, 0.9]]])  # (2 seeds, 2 rounds, 2 models)
    random = np.array([[[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [0.8, 1.0]]])
    table = make_tidy({"diam-svd": diam, "random": random}, metric="mse", task="regression", n_labeled=(10, 20))
    row = compare_over_seeds(table, "diam-svd", "random")
    per_seed = [np.mean([50.0, 20.0]), np.mean([25.0, 10.0])]
    assert row["effect"] == pytest.approx(np.mean(per_seed)) and row["unit"] == "% lower MSE"
    assert pair_effects(table, "diam-svd", "random").loc[("m0", 1)] == pytest.approx(25.0)


def test_t_interval_edge_cases():
    assert math.isnan(t_interval([2.0]).low) and t_interval([2.0]).mean == 2.0
    constant = t_interval([1.5, 1.5, 1.5])
    assert (constant.low, constant.high, constant.p_value) == (1.5, 1.5, 0.0)
    assert t_interval([0.0, 0.0]).p_value == 1.0
    with pytest.raises(ValueError, match="finite"):
        t_interval([1.0, math.nan])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.5)


def test_minimum_detectable_effect_shrinks_with_seeds_and_matches_the_noncentral_t():
    assert minimum_detectable_effect(2.0, 3) == pytest.approx(by_hand_mde(2.0, 3), rel=1e-4)
    assert minimum_detectable_effect(2.0, 10) < minimum_detectable_effect(2.0, 3)
    assert math.isnan(minimum_detectable_effect(2.0, 1)) and minimum_detectable_effect(0.0, 5) == 0.0


def test_holm_leaves_untested_comparisons_out_of_the_family():
    p = np.array([0.01, math.nan, 0.04, 0.03])
    adjusted = holm_adjust(p)
    assert math.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2, 3]], by_hand_holm(p[[0, 2, 3]]))
    assert outcome_of(1.0, 0.01) == "Win" and outcome_of(-1.0, 0.01) == "Loss" and outcome_of(1.0, 0.2) == "Tie"
    assert outcome_of(1.0, math.nan) == "Tie"


def test_a_row_that_cannot_test_the_claim_is_not_scored_and_leaves_the_family(toy):
    _, table = toy
    open_row = Experiment("open", table, "diam", ("random", "cal"))
    gated = Experiment("gated", table, "diam", ("random", "cal"), gate=GateResult(False, ("too saturated",)))
    result = verdict([open_row, gated])
    rows = result.rows
    assert set(rows.loc[rows["experiment"] == "gated", "outcome"]) == {CANNOT_TEST}
    assert rows.loc[rows["experiment"] == "gated", "p_holm"].isna().all()
    alone = verdict([open_row]).rows
    np.testing.assert_allclose(rows.loc[rows["experiment"] == "open", "p_holm"], alone["p_holm"])
    assert CANNOT_TEST in result.table.loc["gated", "random"]
    assert "cannot test the claim: too saturated" in result.table.loc["gated", "regime"]  # no numbers: the reasons
    numbered = Experiment("numbered", table, "diam", ("random",), regime="at round 0: 99 % ...",
                          gate=GateResult(False, ("99 % of the pool ...",), ("disagreement share",)))
    assert verdict([numbered]).table.loc["numbered", "regime"] == ("at round 0: 99 % ...; cannot test the claim "
                                                                   "(disagreement share)")
    assert "over the table's 2 comparisons" in result.markdown()


def test_papers_test_and_per_model_gains_are_labelled_and_exported():
    from diamlib.reporting import stats

    assert "paper's test" in seed_level.PAPERS_TEST
    assert stats.compare_over_seeds is compare_over_seeds and stats.papers_test_per_seed is papers_test_per_seed
    assert stats.per_model_over_seeds is per_model_over_seeds


def test_effect_sentences_give_the_verdicts_numbers_without_an_outcome(make_tidy):
    from diamlib.reporting.stats import effect_sentences

    rng = np.random.default_rng(0)
    lifts = 0.02 + 0.01 * rng.standard_normal(4)
    table = make_tidy({"diam": np.stack([np.full((3, 6), 0.6) + np.array([0, l, l])[:, None] for l in lifts]),
                       "random": np.full((4, 3, 6), 0.6)}, n_labeled=(10, 20, 30))
    (sentence,) = effect_sentences(table, "diam", ["random"])
    row = compare_over_seeds(table, "diam", "random")
    assert sentence == (f"diam vs random: {row['effect']:+.1f} points [{row['low']:+.1f}, {row['high']:+.1f}] "
                        f"(95 % t interval over 4 seeds)")
    one = table[table["seed"] == 0]
    assert effect_sentences(one, "diam", ["random"])[0].endswith("[n/a, n/a] (95 % t interval over 1 seed)")
