"""The committed record can be re-analysed: one verdict row recomputed by hand from its curve.csv files.

``results/default`` commits every run's ``curve.csv``, ``queries.csv`` and ``run.json``, so the
verdict (``tables/04_verdict.csv``) must follow from them. This test reads the scikit-learn
Fashion-MNIST runs of DIAM and random with the ``csv`` module and computes the row with numpy
and scipy alone: per seed, the mean over the target models of DIAM's final accuracy minus
random's (points); then the mean, the 95 % t interval and the two-sided t-test over the seeds.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

RECORD = Path(__file__).resolve().parents[2] / "results" / "default"
RUNS = RECORD / "sklearn" / "classification" / "fashion-mnist"
FAMILY = "scikit-learn models"


def final_accuracy(curve: Path) -> dict[str, float]:
    """Model -> accuracy after the run's last round, read from one ``curve.csv``."""
    with curve.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["metric"] == "accuracy"]
    last = max(int(r["round"]) for r in rows)
    return {r["model"]: float(r["value"]) for r in rows if int(r["round"]) == last}


def seeds_of(method: str) -> list[str]:
    return sorted(p.name for p in (RUNS / method).glob("seed*") if (p / "curve.csv").is_file())


def verdict_row(baseline: str) -> dict[str, str]:
    with (RECORD / "tables" / "04_verdict.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["experiment"].startswith(FAMILY) and r["baseline"] == baseline
                and r["dataset"] == "fashion-mnist" and r["reference"] == "diam"]
    assert len(rows) == 1, f"the committed verdict has {len(rows)} rows of diam against {baseline} on {FAMILY}"
    return rows[0]


def test_the_record_commits_the_runs_that_notebook_04_reads():
    seeds = seeds_of("diam")
    assert len(seeds) >= 2 and seeds == seeds_of("random"), "results/default must commit the runs' curve.csv"
    for method in ("diam", "random"):
        for seed in seeds:
            assert (RUNS / method / seed / "run.json").is_file() and (RUNS / method / seed / "queries.csv").is_file()


def test_a_verdict_row_recomputed_by_hand_from_the_committed_curves():
    seeds = seeds_of("diam")
    per_seed = []
    for seed in seeds:
        diam, random = final_accuracy(RUNS / "diam" / seed / "curve.csv"), final_accuracy(
            RUNS / "random" / seed / "curve.csv")
        assert diam.keys() == random.keys()
        per_seed.append(np.mean([100 * (diam[m] - random[m]) for m in diam]))
    per_seed = np.array(per_seed)
    n = len(per_seed)
    mean, sd = per_seed.mean(), per_seed.std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    p_value = 2 * stats.t.sf(abs(mean / (sd / np.sqrt(n))), n - 1)

    row = verdict_row("random")
    assert int(row["n_seeds"]) == n
    assert float(row["effect"]) == pytest.approx(mean, abs=1e-4)
    assert float(row["low"]) == pytest.approx(mean - half, abs=1e-4)
    assert float(row["high"]) == pytest.approx(mean + half, abs=1e-4)
    assert float(row["p_value"]) == pytest.approx(p_value, rel=1e-3)
