"""Tables 2 and 3a recomputed from the authors' published raw results."""
from __future__ import annotations

import pytest

from diamlib.reporting import stats
from diamlib.strategies.registry import strategy_names

# Table 3a of the paper, Kuzushiji-MNIST column (percent): method -> (best mean, best std,
# worst mean, worst std). DIAM's published raw results differ from its printed row, so only
# the six baselines are checked.
TABLE_3A_KMNIST = {
    "entropy": (89.17, 5.26, 75.36, 11.41),
    "margin": (89.09, 5.22, 75.79, 10.99),
    "least-confidence": (88.86, 5.16, 75.05, 11.37),
    "cal": (89.17, 5.30, 74.94, 11.09),
    "random": (89.18, 5.35, 75.60, 10.75),
    "coreset": (89.58, 5.58, 73.94, 11.83),
}


def test_best_worst_reproduces_table_3a(authors):
    table = stats.select(authors, dataset="kmnist", n_models=12, metric="accuracy")
    result = stats.best_worst(table).set_index("method")
    for method, expected in TABLE_3A_KMNIST.items():
        row = result.loc[method]
        got = tuple(100 * row[c] for c in ("best_mean", "best_std", "worst_mean", "worst_std"))
        assert got == pytest.approx(expected, abs=0.006), method


def test_win_tie_loss_mnist_12_models(authors):
    """W/T/L of DIAM on MNIST with 12 models (the paper's Table 2 prints 40/14/0 for 9 batches)."""
    table = stats.select(authors, dataset="mnist", n_models=12, metric="accuracy")
    comparison = stats.compare_methods(table, reference="diam")
    assert sorted(comparison["round"].unique()) == list(range(1, 11))
    baselines = {"entropy", "margin", "least-confidence", "cal", "random", "coreset"}
    assert comparison["baseline"].unique().tolist() == [n for n in strategy_names("classification") if n in baselines]
    totals = stats.wtl_totals(comparison).sum()
    assert totals.tolist() == [48, 12, 0]
    nine = stats.wtl_totals(comparison[comparison["round"] <= 9]).sum()
    assert nine.tolist() == [42, 12, 0]
    table2 = stats.wtl_table(comparison)
    assert table2.loc["W/T/L", "W/T/L"] == "48/12/0"
    assert table2.loc["coreset", "W/T/L"] == "9/1/0"
    # every baseline ties with DIAM after the 8th batch (a round where ties dominate)
    assert table2["8"].iloc[:-1].eq("Tie").all()


def test_versus_printed_tables(authors):
    from diamlib.reporting import report

    twelve = stats.select(authors, n_models=12, metric="accuracy")
    comparison = stats.compare_all(twelve)
    table2 = report.versus_printed_table2(comparison)
    assert table2.loc[("mnist", "total"), "printed"] == "40/14/0"
    assert table2.loc[("mnist", "total"), "recomputed"] == "42/12/0"
    assert table2.loc[("kmnist", "Coreset"), "printed"] == "9/0/0"
    table3a = report.versus_printed_table3a(stats.best_worst(twelve))
    assert list(table3a.index.get_level_values(0).unique()) == ["kmnist"]
    row = table3a.loc[("kmnist", "Random")]
    assert row["best (recomputed)"] == row["best (printed)"] == "89.18 ± 5.35"
    findings = report.printed_differences(table2, table3a)
    assert findings[0].startswith("Table 2, kmnist (batches 1-9): W/T/L recomputed from the raw files 54/0/0 "
                                  "differs from the printed 45/9/0")
    assert "Coreset" not in findings[0]  # its row matches (9/0/0)
    assert findings[1].startswith("Table 2, mnist (batches 1-9): W/T/L recomputed from the raw files 42/12/0 "
                                  "differs from the printed 40/14/0")
    # Table 3a: every baseline's row matches; DIAM's does not
    assert findings[2] == ("Table 3a, kmnist: the rows of Entropy, Margin, Least conf., CAL, Random, Coreset "
                           "match the printed values; DIAM differs: best 91.99 ± 6.10 recomputed against "
                           "90.49 ± 5.92 printed, worst 78.67 ± 12.22 against 76.96 ± 11.73.")
