"""What notebooks 02 and 03 show about their own runs: the checks of the runs and the final table.

:func:`check_runs` verifies that every method has a complete run per seed, that every round
added exactly ``query_size`` labels, that every target model was evaluated after every round
and that the metric values lie in their range; a failed check raises :class:`RunCheckError`.
:func:`final_table` gives, per method, the final and curve-averaged means of each metric and
the best and worst target model.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from diamlib.reporting import stats
from diamlib.reporting.styles import CONSTANT_PREDICTOR

#: Range of the values of each metric (inclusive bounds).
METRIC_RANGE = {"accuracy": (0.0, 1.0), "top5_accuracy": (0.0, 1.0), "mse": (0.0, math.inf), "mae": (0.0, math.inf)}

_RUN_KEYS = ["dataset", "method", "metric"]


class RunCheckError(ValueError):
    """A run is incomplete or holds impossible values."""


def check_runs(results: pd.DataFrame, *, seeds: Sequence[int], rounds: int, query_size: int) -> pd.DataFrame:
    """One row per (dataset, method, metric) of what was run; raise if a check fails.

    Parameters
    ----------
    results : DataFrame
        Tidy results of one task (:func:`diamlib.reporting.results.load_results`).
    seeds : sequence of int
        The profile's seeds: every method must have a run for each.
    rounds : int
        Query rounds per run (round 0, the initial labels, comes on top).
    query_size : int
        Labels added by each round.

    Returns
    -------
    DataFrame
        Index (dataset, method, metric); columns ``seeds``, ``rounds`` (rounds recorded, round 0
        included), ``models``, ``labels_first``, ``labels_last``, ``values in range``.

    Raises
    ------
    RunCheckError
        A run misses a seed or a round, a round did not add ``query_size`` labels, a target
        model was not evaluated after some round, or a value lies outside its metric's range;
        the message lists every failing run.

    References
    ----------
    Sec. 6.1 of the paper: ``query_size`` labels per round for every strategy.
    """
    unknown = sorted(set(results["metric"]) - set(METRIC_RANGE))
    if unknown:
        raise RunCheckError(f"unknown metrics {unknown}; known: {sorted(METRIC_RANGE)}")
    grouped = results.groupby(_RUN_KEYS)
    checks = grouped.agg(seeds=("seed", "nunique"), rounds=("round", "nunique"), models=("model", "nunique"),
                         labels_first=("n_labeled", "min"), labels_last=("n_labeled", "max"))
    checks["values in range"] = [_values_in_range(rows["value"], metric) for (_, _, metric), rows in grouped]

    problems = []
    for (dataset, method, metric), row in checks.iterrows():
        where = f"{dataset}/{method}/{metric}"
        if row["seeds"] != len(seeds):
            problems.append(f"{where}: {row['seeds']} seed(s), the profile has {len(seeds)}")
        if row["rounds"] != rounds + 1:
            problems.append(f"{where}: {row['rounds']} rounds recorded, expected {rounds + 1} (round 0 included)")
        if not row["values in range"]:
            problems.append(f"{where}: values outside {list(METRIC_RANGE[metric])}")
    for (dataset, method, metric, seed), run in results.groupby(_RUN_KEYS + ["seed"]):
        where = f"{dataset}/{method}/{metric}/seed{seed}"
        per_round = run.groupby("round").agg(n_labeled=("n_labeled", "unique"), models=("model", "nunique"))
        if any(len(labels) != 1 for labels in per_round["n_labeled"]):
            problems.append(f"{where}: models of one round saw different numbers of labels")
            continue
        added = np.diff([labels[0] for labels in per_round["n_labeled"]])
        if (added != query_size).any():
            problems.append(f"{where}: rounds added {added.tolist()} labels, expected {query_size} each")
        if per_round["models"].nunique() != 1 or per_round["models"].iloc[0] != run["model"].nunique():
            problems.append(f"{where}: not every target model was evaluated after every round")
    if problems:
        raise RunCheckError("the runs fail their checks:\n" + "\n".join(problems))
    return checks


def _values_in_range(values: pd.Series, metric: str) -> bool:
    low, high = METRIC_RANGE[metric]
    values = values.to_numpy(dtype=float)
    return bool(np.isfinite(values).all() and ((values >= low) & (values <= high)).all())


def final_table(results: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per method: final and curve-averaged mean of each metric, and the best and worst model.

    Parameters
    ----------
    results : DataFrame
        Tidy results of one task and one number of target models.
    metrics : sequence of str
        Metrics to report; rows are sorted by the first (best first).

    Returns
    -------
    DataFrame
        Index (dataset, method); for each metric the columns ``<metric> final mean`` and
        ``<metric> final std`` (mean and std over the target models after the last round),
        ``<metric> curve mean`` (mean of the learning curve over its rounds), ``<metric> best
        model`` and ``<metric> worst model`` (Table 3a: mean over rounds of the best and worst
        target model).

    References
    ----------
    Fig. 1, 3 and Table 3a of the paper.
    """
    missing = [m for m in metrics if m not in set(results["metric"])]
    if missing:
        raise ValueError(f"metrics {missing} have no results; present: {sorted(set(results['metric']))}")
    keys = ["dataset", "method"]
    columns = {}
    for metric in metrics:
        rows = stats.select(results, metric=metric)
        curves = stats.learning_curves(rows)
        last = curves[curves["round"] == curves["round"].max()].set_index(keys)
        summary = stats.curve_summary(curves).set_index(keys)
        extremes = stats.best_worst(rows).set_index(keys)
        columns.update({
            f"{metric} final mean": last["mean"], f"{metric} final std": last["std"],
            f"{metric} curve mean": summary["mean"], f"{metric} best model": extremes["best_mean"],
            f"{metric} worst model": extremes["worst_mean"],
        })
    table = pd.DataFrame(columns)
    return table.sort_values(f"{metrics[0]} final mean", ascending=not stats.higher_is_better(metrics[0]))


def constant_predictor_rows(constant: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """The constant predictor as a row per dataset of :func:`final_table` (method ``constant predictor``).

    Its value at a round is the mean over runs of the labeled-mean predictor's test error; its
    "best" and "worst model" are that same value (it is one model).

    Parameters
    ----------
    constant : DataFrame
        :func:`diamlib.reporting.results.load_constant_predictor`.
    metrics : sequence of str
    """
    columns = {}
    for metric in metrics:
        rows = constant[constant["metric"] == metric]
        per_round = rows.groupby(["dataset", "round"])["value"].mean().reset_index()
        last = per_round[per_round["round"] == per_round["round"].max()].set_index("dataset")["value"]
        curve = per_round.groupby("dataset")["value"].mean()
        columns.update({f"{metric} final mean": last, f"{metric} final std": last * 0.0,
                        f"{metric} curve mean": curve, f"{metric} best model": curve,
                        f"{metric} worst model": curve})
    table = pd.DataFrame(columns)
    table.index = pd.MultiIndex.from_tuples([(dataset, CONSTANT_PREDICTOR) for dataset in table.index],
                                            names=["dataset", "method"])
    return table



def models_worse_than_constant(results: pd.DataFrame, constant: pd.DataFrame) -> pd.DataFrame:
    """Every (run, round, target model) whose test MSE is not below the constant predictor's.

    Parameters
    ----------
    results : DataFrame
        Tidy regression results (:func:`diamlib.reporting.results.load_results`).
    constant : DataFrame
        :func:`diamlib.reporting.results.load_constant_predictor` of the same runs.

    Returns
    -------
    DataFrame
        Columns ``dataset, method, seed, round, n_labeled, model, mse, constant mse``; empty when
        every model beats the constant predictor at every round.
    """
    keys = ["dataset", "method", "seed", "round"]
    mse = results[results["metric"] == "mse"][keys + ["n_labeled", "model", "value"]]
    reference = constant[constant["metric"] == "mse"][keys + ["value"]].rename(columns={"value": "constant mse"})
    joined = mse.merge(reference, on=keys, how="inner").rename(columns={"value": "mse"})
    return joined[joined["mse"] >= joined["constant mse"]].reset_index(drop=True)

