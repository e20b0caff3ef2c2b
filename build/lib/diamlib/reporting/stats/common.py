"""What every statistic of :mod:`diamlib.reporting.stats` shares: contexts, metrics, method order, row selection.

A *context* is one comparable set of curves: the columns :data:`CONTEXT` (source, task,
dataset, number of target models, metric). :func:`per_model_values` averages each target
model's value over seeds, the input of the per-model comparisons.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

#: Columns that identify one comparable set of learning curves.
CONTEXT = ["source", "task", "dataset", "n_models", "metric"]

#: Metric -> True when higher is better.
METRIC_DIRECTION = {"accuracy": True, "top5_accuracy": True, "mse": False, "mae": False}

#: The metric of each task that tables and figures report first.
PRIMARY_METRIC = {"classification": "accuracy", "regression": "mse"}

TESTS = ("t-test", "wilcoxon")
OUTCOMES = ("Win", "Tie", "Loss")


def higher_is_better(metric: str) -> bool:
    """Whether larger values of ``metric`` are better (accuracy) or worse (mse, mae)."""
    try:
        return METRIC_DIRECTION[metric]
    except KeyError:
        raise ValueError(
            f"unknown metric {metric!r}; known metrics: {sorted(METRIC_DIRECTION)}"
        ) from None


def order_methods(methods: Iterable[str]) -> list[str]:
    """Distinct method names in strategy registration order, other names (variants) after them alphabetically."""
    from diamlib.strategies.registry import strategy_names

    names = list(dict.fromkeys(methods))
    registered = strategy_names()
    return [m for m in registered if m in names] + sorted(m for m in names if m not in registered)


def reference_methods(task: str) -> list[str]:
    """The paper's methods (DIAM) of ``task``, the references of win/tie/loss tables, in registry order."""
    from diamlib.strategies.registry import proposed_strategies

    return proposed_strategies(task)


def default_reference(task: str) -> str:
    """The first DIAM method of ``task`` in the registry (``diam``, ``diam-svd``): the default reference."""
    references = reference_methods(task)
    if not references:
        raise ValueError(f"no DIAM strategy is registered for {task!r}")
    return references[0]


def select(table: pd.DataFrame, **equals) -> pd.DataFrame:
    """Rows of ``table`` whose columns equal the given values (``None`` values are ignored).

    Raises
    ------
    ValueError
        A column is missing, or no row matches (the message lists the values present).
    """
    mask = pd.Series(True, index=table.index)
    for column, value in equals.items():
        if value is None:
            continue
        if column not in table.columns:
            raise ValueError(f"no column {column!r}; columns are {list(table.columns)}")
        mask &= table[column] == value
    subset = table[mask]
    if subset.empty:
        present = {c: sorted(map(str, table[c].unique())) for c in equals if c in table.columns}
        raise ValueError(f"no rows with {equals}; values present: {present}")
    return subset


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; pass the tidy table from diamlib.reporting.results")
    if table.empty:
        raise ValueError(f"{what} got an empty table")


def population_std(values: pd.Series) -> float:
    """Population standard deviation (``ddof=0``) of a group's values, for ``groupby.agg``.

    References
    ----------
    Error bars of Fig. 1-4 and the +/- of Tables 3a-3b of the paper (spread over target models
    or rounds, not an estimate of a wider population).
    """
    return float(np.std(values.to_numpy(), ddof=0))


def single_context(table: pd.DataFrame, what: str) -> dict:
    """The one context of ``table``; a clear error if it mixes several."""
    contexts = table[CONTEXT].drop_duplicates()
    if len(contexts) != 1:
        listed = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in contexts.to_dict("records"))
        raise ValueError(
            f"{what} compares methods within one context, but the table holds {len(contexts)}: "
            f"{listed}. Filter first, e.g. diamlib.reporting.stats.select(table, dataset=..., metric=..., n_models=...)"
        )
    return contexts.iloc[0].to_dict()


def per_model_values(table: pd.DataFrame) -> pd.DataFrame:
    """Seed-averaged value of each target model at each round.

    Parameters
    ----------
    table : DataFrame
        Tidy results (:data:`diamlib.reporting.results.TIDY_COLUMNS`).

    Returns
    -------
    DataFrame
        One row per (context, method, round, model): columns :data:`CONTEXT`, ``method``,
        ``strategy``, ``beta``, ``round``, ``n_labeled``, ``model``, ``model_index``,
        ``value`` (mean over seeds), ``n_seeds``.
    """
    require_columns(table, CONTEXT + ["method", "strategy", "beta", "seed", "round", "n_labeled",
                                       "model", "model_index", "value"], "per_model_values")
    keys = CONTEXT + ["method", "round", "model"]
    grouped = table.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        strategy=("strategy", "first"), beta=("beta", "first"), n_labeled=("n_labeled", "first"),
        model_index=("model_index", "first"), value=("value", "mean"), n_seeds=("seed", "nunique"),
    ).reset_index()
    return out
