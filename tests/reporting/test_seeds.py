"""Several seeds: per-seed and pooled Win/Tie/Loss, and learning curves with a band over seeds."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import ttest_rel  # noqa: E402

from diamlib.reporting import plots, stats, styles  # noqa: E402

BASE = np.array([0.60, 0.70, 0.80, 0.90, 0.75, 0.65])
NOISE = np.array([0.001, -0.002, 0.0015, -0.001, 0.002, -0.0015])  # sums to zero
N_LABELED = (10, 20, 30)


def runs(lifts, noises=None):
    """Array (n_seeds, 3 rounds, 6 models): round 0 = BASE, rounds 1-2 = BASE + lift_s + noise_s."""
    noises = noises if noises is not None else [NOISE] * len(lifts)
    return np.stack([np.stack([BASE, BASE + lift + noise, BASE + lift + noise])
                     for lift, noise in zip(lifts, noises)])


def baseline(n_seeds):
    return runs([0.0] * n_seeds, [np.zeros_like(NOISE)] * n_seeds)


# --------------------------------------------------------------------------- per seed
def test_clear_win_in_every_seed_and_pooled(make_tidy):
    table = make_tidy({"diam": runs([0.05] * 3), "random": baseline(3)}, n_labeled=N_LABELED)
    per_seed = stats.compare_per_seed(table, reference="diam")
    assert per_seed["seed"].tolist() == [0, 0, 1, 1, 2, 2]
    assert set(per_seed["outcome"]) == {"Win"}
    assert per_seed.columns.get_loc("seed") == per_seed.columns.get_loc("baseline") + 1
    summary = stats.pooled_summary(table, reference="diam")
    row = summary.iloc[0]
    assert (row["Win"], row["Tie"], row["Loss"]) == (2, 0, 0)
    assert row["n_pairs"] == 18 and row["n_seeds"] == 3
    assert row["final_outcome"] == "Win" and row["final_mean_difference"] == pytest.approx(0.05)
    # area difference per pair: the trapezoid of (0, d, d) over labels 10..30 is 0.75 d; mean d = 0.05
    assert row["aulc_outcome"] == "Win" and row["aulc_mean_difference"] == pytest.approx(0.0375)


def test_tie_when_differences_cancel(make_tidy):
    noises = [NOISE, NOISE[::-1], np.roll(NOISE, 2)]
    table = make_tidy({"diam": runs([0.0] * 3, noises), "random": baseline(3)}, n_labeled=N_LABELED)
    assert set(stats.compare_per_seed(table, reference="diam")["outcome"]) == {"Tie"}
    pooled = stats.compare_pooled(table, reference="diam")
    assert set(pooled["outcome"]) == {"Tie"} and pooled["n_pairs"].tolist() == [18, 18]
    row = stats.pooled_summary(table, reference="diam").iloc[0]
    assert (row["Win"], row["Tie"], row["Loss"]) == (0, 2, 0)
    assert row["final_outcome"] == "Tie" and row["aulc_outcome"] == "Tie"


def test_seeds_that_disagree(make_tidy):
    lifts = [0.05, -0.05, 0.05]
    table = make_tidy({"diam": runs(lifts), "random": baseline(3)}, n_labeled=N_LABELED)
    per_seed = stats.compare_per_seed(table, reference="diam")
    by_seed = per_seed.groupby("seed")["outcome"].unique().map(list).to_dict()
    assert by_seed == {0: ["Win"], 1: ["Loss"], 2: ["Win"]}
    wtl = stats.wtl_by_seed(per_seed)
    assert wtl.index.tolist() == [0, 1, 2, "all seeds"] and wtl.columns.tolist() == ["random", "W/T/L"]
    assert wtl["random"].tolist() == ["2/0/0", "0/0/2", "2/0/0", "4/0/2"]
    assert wtl.loc["all seeds", "W/T/L"] == "4/0/2"

    # the pooled test: 18 paired differences, checked against scipy on the hand-made pairs
    pooled = stats.compare_pooled(table, reference="diam")
    differences = np.concatenate([lift + NOISE for lift in lifts])
    expected = ttest_rel(np.tile(BASE, 3) + differences, np.tile(BASE, 3))
    final = pooled[pooled["round"] == 2].iloc[0]
    assert final["p_value"] == pytest.approx(expected.pvalue) and final["statistic"] == pytest.approx(expected.statistic)
    assert final["outcome"] == "Tie" and final["pairs"] == stats.POOLED_UNIT
    # averaging the seeds first (the paper's test on seed means) hides the losing seed: a Win
    assert set(stats.compare_methods(table, reference="diam")["outcome"]) == {"Win"}


def test_lower_is_better_metric(make_tidy):
    table = make_tidy({"diam": runs([-0.05] * 2), "random": baseline(2)}, metric="mse", n_labeled=N_LABELED)
    row = stats.pooled_summary(table, reference="diam").iloc[0]
    assert row["final_outcome"] == "Win" and row["aulc_outcome"] == "Win" and row["Win"] == 2
    assert set(stats.compare_per_seed(table, reference="diam")["outcome"]) == {"Win"}


def test_pooled_table_is_one_row_per_baseline(make_tidy):
    table = make_tidy({"diam": runs([0.05] * 2), "random": baseline(2), "entropy": runs([0.0] * 2)},
                      n_labeled=N_LABELED)
    shown = stats.pooled_table(stats.pooled_summary(table, reference="diam"))
    assert shown.index.tolist() == ["entropy", "random"]  # registry order
    assert shown.loc["random", "pooled W/T/L (ours)"] == "2/0/0" and shown.loc["random", "AULC"] == "Win"
    assert shown.loc["entropy", "final: mean diff"] == "+0.0500"


def test_methods_with_different_seeds_are_refused(make_tidy):
    table = make_tidy({"diam": runs([0.05] * 3), "random": baseline(2)}, n_labeled=N_LABELED)
    for compare in (stats.compare_per_seed, stats.compare_pooled):
        with pytest.raises(ValueError, match=r"different seeds \(diam: \[0, 1, 2\]; random: \[0, 1\]\)"):
            compare(table, reference="diam")
    with pytest.raises(ValueError, match="reference method 'cal' not in the results"):
        stats.compare_pooled(table, reference="cal")


# --------------------------------------------------------------------------- seed bands
@pytest.fixture
def three_seeds(make_tidy):
    return make_tidy({"diam": runs([0.05, 0.03, 0.04]), "random": baseline(3), "entropy": runs([0.0, 0.01, 0.02])},
                     n_labeled=N_LABELED)


def test_seed_curves_mean_and_spread(three_seeds):
    curves = stats.seed_curves(three_seeds)
    diam = curves[(curves["method"] == "diam") & (curves["round"] == 1)].iloc[0]
    assert diam["mean"] == pytest.approx(BASE.mean() + 0.04)
    assert (diam["seed_min"], diam["seed_max"]) == pytest.approx((BASE.mean() + 0.03, BASE.mean() + 0.05))
    assert diam["seed_std"] == pytest.approx(np.std([0.05, 0.03, 0.04]))
    assert diam["n_seeds"] == 3
    # the mean is the learning curve's
    reference = stats.learning_curves(three_seeds)
    assert np.allclose(curves["mean"], reference["mean"])
    per_model = stats.seed_curves(three_seeds, per_model=True)
    assert len(per_model) == 3 * 3 * 6 and per_model["seed_std"].ge(0).all()


def test_seed_band_figure_has_one_line_per_method(three_seeds):
    fig = plots.plot_seed_bands(three_seeds, metric="accuracy")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    colours = styles.palette()
    assert {line.get_color() for line in lines} == {colours[m] for m in ("diam", "random", "entropy")}
    assert "min-max over seeds" in fig.axes[0].get_ylabel()
    plt.close(fig)

    fig = plots.plot_seed_bands(three_seeds, metric="accuracy", band="std", per_model=True, columns=4)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 1 + 6 and all(len(ax.get_lines()) == 3 for ax in visible)
    plt.close(fig)


def test_seed_band_figure_errors(three_seeds, make_tidy):
    with pytest.raises(ValueError, match="unknown band"):
        plots.plot_seed_bands(three_seeds, metric="accuracy", band="iqr")
    with pytest.raises(ValueError, match="no rows of metric 'mse'"):
        plots.plot_seed_bands(three_seeds, metric="mse")
    other = make_tidy({"diam": runs([0.05])}, dataset="other", n_labeled=N_LABELED)
    with pytest.raises(ValueError, match="draws one context"):
        plots.plot_seed_bands(pd.concat([three_seeds, other]), metric="accuracy")


@pytest.mark.parametrize("band", ["minmax", "std"])
def test_seed_band_spans_the_seeds(three_seeds, band):
    """Each method's band is drawn from the seed curves: min to max, or mean +/- seed std, in percent."""
    curves = stats.seed_curves(three_seeds)
    fig = plots.plot_seed_bands(three_seeds, metric="accuracy", band=band)
    ax = fig.axes[0]
    colour_of = {line.get_color(): line.get_label() for line in ax.get_lines()}
    names = {plots.display_name(m): m for m in curves["method"].unique()}
    assert len(ax.collections) == 3
    for band_patch, line in zip(ax.collections, ax.get_lines()):
        method = names[colour_of[line.get_color()]]
        rows = curves[curves["method"] == method].sort_values("n_labeled")
        if band == "minmax":
            low, high = rows["seed_min"], rows["seed_max"]
        else:
            low, high = rows["mean"] - rows["seed_std"], rows["mean"] + rows["seed_std"]
        y = band_patch.get_paths()[0].vertices[:, 1]
        assert y.min() == pytest.approx(100 * low.min()) and y.max() == pytest.approx(100 * high.max())
    plt.close(fig)
