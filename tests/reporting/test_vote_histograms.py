"""plot_vote_histograms: one panel per seed, one bar group per round, shares of the pool."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from diamlib.reporting.plots import plot_vote_histograms

COLUMN = "v histogram (0..n_models)"


def _votes():
    return pd.DataFrame([
        {"seed": 0, "round": 0, COLUMN: [1, 2, 3, 4]},
        {"seed": 0, "round": 1, COLUMN: [4, 3, 2, 1]},
        {"seed": 1, "round": 0, COLUMN: [0, 0, 5, 5]},
    ])


def test_one_panel_per_seed_and_bars_are_shares_of_the_pool():
    fig = plot_vote_histograms(_votes(), n_models=3)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["seed 0", "seed 1"]
    heights = [bar.get_height() for bar in axes[0].patches]
    assert len(heights) == 8  # two rounds x (v = 0..3)
    np.testing.assert_allclose(heights[:4], [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose([bar.get_height() for bar in axes[1].patches], [0, 0, 0.5, 0.5])


def test_histogram_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="needs 5 counts, got 4"):
        plot_vote_histograms(_votes(), n_models=4)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="missing"):
        plot_vote_histograms(_votes().drop(columns=[COLUMN]), n_models=3)


def test_many_seeds_wrap_into_a_grid_of_readable_width():
    votes = pd.DataFrame([{"seed": s, "round": 0, COLUMN: [1, 2, 3, 4]} for s in range(10)])
    fig = plot_vote_histograms(votes, n_models=3)
    width, height = fig.get_size_inches()
    assert width == pytest.approx(4 * 3.6) and height == pytest.approx(3 * 3.0)  # 4 columns, 3 rows
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [f"seed {s}" for s in range(10)]
