"""Figures, saved tables and the generated summary."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from diamlib.reporting import plots, report, stats, styles  # noqa: E402
from diamlib.strategies.registry import STRATEGIES  # noqa: E402

BASE = np.array([0.60, 0.70, 0.80, 0.90])
NOISE = np.array([0.001, -0.002, 0.0015, -0.0005])  # sums to zero


@pytest.fixture
def toy(make_tidy):
    """Model means 0.75, 0.80, 0.85 for diam, 0.75, 0.77, 0.79 for random, 0.75, 0.799, 0.848 for entropy.

    diam beats random clearly from round 1 on; entropy ties with diam (noisy small differences).
    """
    def rounds(lift, noise):
        return np.stack([BASE, BASE + lift + noise, BASE + 2 * lift - noise])[None]

    return pd.concat([
        make_tidy({"diam": rounds(0.05, NOISE), "random": rounds(0.02, NOISE),
                   "entropy": rounds(0.049, NOISE[::-1])},
                  dataset=name, n_labeled=(10, 20, 30))
        for name in ("mnist", "kmnist")
    ], ignore_index=True)


def test_display_names_and_the_proposed_method_come_from_the_registry():
    assert plots.display_name("least-confidence") == STRATEGIES["least-confidence"].display_name
    assert plots.display_name("diam-beta-0.1") == "diam-beta-0.1"
    assert plots.is_diam("diam-beta-0.1", "diam") and plots.is_diam("diam-svd") and not plots.is_diam("diam-nodiv")


def test_learning_curve_figure(toy, tmp_path):
    curves = stats.learning_curves(toy)
    fig = plots.plot_learning_curves(curves, metric="accuracy", datasets=["mnist", "kmnist"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["MNIST, 4 target models", "Kuzushiji-MNIST, 4 target models"]
    assert axes[0].get_xlabel() == "number of labeled examples" and axes[0].get_ylabel() == "accuracy (%)"
    lines = {line.get_label(): line for line in axes[0].get_lines()}
    assert set(lines) == {"DIAM", "Random", "Entropy"}
    assert lines["DIAM"].get_linewidth() > lines["Random"].get_linewidth()
    assert lines["DIAM"].get_zorder() > max(lines["Random"].get_zorder(), lines["Entropy"].get_zorder())
    assert matplotlib.colors.to_hex(lines["Random"].get_color()) == styles.STRATEGY_COLOURS["random"]
    # accuracy shown in percent: DIAM's last point
    assert lines["DIAM"].get_ydata()[-1] == pytest.approx(100 * (BASE.mean() + 0.1), abs=0.01)
    assert len(fig.legends) == 1
    paths = plots.save_figure(fig, tmp_path / "figures", "curves")
    assert [p.name for p in paths] == ["curves.png", "curves.svg"] and all(p.stat().st_size > 0 for p in paths)
    plt.close(fig)
    with pytest.raises(ValueError, match="no axis defined"):
        plots.plot_learning_curves(curves, metric="f1")


def test_figures_refuse_mixed_contexts(toy):
    mixed = pd.concat([toy, toy.assign(source="authors")])
    with pytest.raises(ValueError, match="would mix several"):
        plots.plot_learning_curves(stats.learning_curves(mixed), metric="accuracy")


def test_model_count_and_aulc_figures(toy, make_tidy):
    curves = stats.learning_curves(stats.model_count_table(toy, [2, 4]))
    fig = plots.plot_model_count_curves(curves, metric="accuracy")
    assert len(fig.axes) == 4 and fig.axes[1].get_title() == "Kuzushiji-MNIST, 4 models"
    plt.close(fig)
    fig = plots.plot_model_count_curves(curves, metric="accuracy", datasets=["mnist"])
    assert [ax.get_title() for ax in fig.axes] == ["MNIST, 2 models", "MNIST, 4 models"]
    plt.close(fig)
    fig = plots.plot_aulc(stats.area_under_curve(stats.learning_curves(toy)), metric="accuracy")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Random", "Entropy", "DIAM"]  # bottom to top
    # dots with their values, no bars whose length would start at a cut axis
    assert not fig.axes[0].patches and len(fig.axes[0].texts) == 3
    plt.close(fig)
    errors = make_tidy({"diam-svd": np.full((1, 2, 2), 0.1)}, metric="mse", task="regression", n_labeled=(5, 9))
    fig = plots.plot_learning_curves(stats.learning_curves(errors), metric="mse")
    assert fig.axes[0].get_ylabel() == "MSE"
    plt.close(fig)


def test_wtl_latex(toy):
    comparison = stats.compare_methods(stats.select(toy, dataset="mnist"), reference="diam")
    table = stats.wtl_table(comparison)
    assert table.loc["random"].tolist() == ["Win", "Win", "2/0/0"]
    tex = report.wtl_to_latex(table, caption="W/T/L", label="tab:wtl")
    assert r"\begin{tabular}{lccc}" in tex
    assert "Random & Win & Win & 2/0/0 \\\\" in tex
    assert "W./T./L. & " in tex and tex.count(r"\midrule") == 2


def test_mean_std_table_marks_the_best(toy, make_tidy):
    summary = stats.curve_summary(stats.learning_curves(toy))
    text, best = report.mean_std_table(summary, "mean", "curve_std")
    assert list(text.index) == ["DIAM", "Entropy", "Random"]
    assert text.loc["DIAM", "mnist"] == f"{100 * summary['mean'].max():.2f} ± {100 * summary['curve_std'].max():.2f}"
    assert best["mnist"].tolist() == [True, False, False]
    errors = make_tidy({"a": np.full((1, 1, 2), 0.2), "b": np.full((1, 1, 2), 0.1)}, metric="mae", n_labeled=(5,))
    _, best = report.mean_std_table(stats.curve_summary(stats.learning_curves(errors)), "mean", "curve_std", scale=1)
    assert best["toy"].tolist() == [False, True]
    html = report.html_table(text, caption="Table", table_id="x").data
    assert 'id="T_x"' in html and "Table" in html


def test_summary_is_generated_from_the_numbers(toy):
    curves = stats.learning_curves(toy)
    comparison = stats.compare_methods(stats.select(toy, dataset="mnist"), reference="diam")
    text = report.summary_text(curves, stats.area_under_curve(curves), comparison)
    kmnist, mnist = text.split("\n\n")
    assert "W/T/L" not in kmnist and "wins" not in kmnist
    assert mnist.startswith("mnist (our results, classification, 4 target models, accuracy):")
    final = 100 * (BASE.mean() + 0.1)
    assert f"at 30 labels: DIAM leads with {final:.2f}%" in mnist
    assert "DIAM against 2 baselines (t-test, alpha 0.05, rounds 1-2): 2 wins, 2 ties, 0 losses." in mnist
    assert "Mostly ties against: Entropy." in mnist
    assert "area under the learning curve: DIAM leads with 80.00% (next: " in mnist


def test_label_savings_table(toy):
    savings = stats.label_savings(stats.learning_curves(toy))
    table = report.label_savings_table(savings)
    assert table.loc[("mnist", "Random"), "labels saved"] == "0.0%"
    # random ends at 0.79; diam passes it between 10 (0.75) and 20 (0.80) labels: 18
    assert table.loc[("mnist", "DIAM"), "labels needed"] == "18"
    assert table.loc[("mnist", "DIAM"), "labels saved"] == "40.0%"
    assert report.format_value(float("nan"), "accuracy") == "n/a"
    assert report.format_value(0.123456, "mse") == "0.1235"


def test_save_wtl_tables_names_every_variant(toy, tmp_path):
    comparison = pd.concat([
        stats.compare_all(toy),
        stats.compare_all(toy.assign(source="authors")),
        stats.compare_all(toy, test="wilcoxon"),
    ])
    tables = report.save_wtl_tables(comparison, tmp_path)
    assert len(tables) == 6
    names = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert names == sorted([
        "wtl_classification_kmnist.csv", "wtl_classification_mnist.csv",
        "wtl_classification_kmnist_authors.csv", "wtl_classification_mnist_authors.csv",
        "wtl_classification_kmnist_wilcoxon.csv", "wtl_classification_mnist_wilcoxon.csv",
    ])
    assert len(list(tmp_path.glob("*.tex"))) == 6
    caption = next(iter(tables))
    assert caption.startswith("Win/Tie/Loss of DIAM against the other methods") and "t-test at the 0.05 level" in caption
    context = {"source": "ours", "task": "regression", "dataset": "celeba", "metric": "mae"}
    assert report.wtl_file_stem(context, "diam-leverage", "t-test") == "wtl_regression_celeba_diam-leverage_mae"
