"""Learning curves: the mean metric over target models against the number of labels, with its spread.

References
----------
Fig. 1-4 of the paper (mean over target models, error bars one standard deviation).
"""
from __future__ import annotations

import pandas as pd

from diamlib.reporting.stats.common import CONTEXT, per_model_values, population_std, require_columns


def learning_curves(table: pd.DataFrame) -> pd.DataFrame:
    """Mean metric over target models against the number of labels, with the models' spread.

    Parameters
    ----------
    table : DataFrame
        Tidy results, any number of contexts and methods.

    Returns
    -------
    DataFrame
        One row per (context, method, round): :data:`CONTEXT`, ``method``, ``strategy``,
        ``beta``, ``round``, ``n_labeled``, ``mean`` (mean over seeds of the per-seed means
        over models), ``std`` (population std over models of the seed-averaged per-model
        values), ``n_seeds``.

    References
    ----------
    Fig. 1-4 of the paper (mean accuracy / MSE of the target models; error bars = std of the
    target models' performances).
    """
    require_columns(table, CONTEXT + ["method", "strategy", "beta", "seed", "round", "n_labeled",
                                       "model", "value"], "learning_curves")
    curve_keys = CONTEXT + ["method", "round"]
    per_seed = (
        table.groupby(curve_keys + ["seed"], sort=False, dropna=False)["value"].mean()
        .groupby(curve_keys, sort=False, dropna=False).agg(mean="mean", n_seeds="size")
    )
    per_model = per_model_values(table)
    spread = per_model.groupby(curve_keys, sort=False, dropna=False).agg(
        strategy=("strategy", "first"), beta=("beta", "first"), n_labeled=("n_labeled", "first"),
        std=("value", population_std),
    )
    curves = spread.join(per_seed).reset_index()
    curves = curves[CONTEXT + ["method", "strategy", "beta", "round", "n_labeled", "mean", "std", "n_seeds"]]
    return curves.sort_values(CONTEXT + ["method", "round"], kind="stable", ignore_index=True)


def seed_curves(table: pd.DataFrame, *, per_model: bool = False) -> pd.DataFrame:
    """Learning curves with their spread over seeds (our addition).

    Each seed gives one curve: the mean over target models (or, with ``per_model``, each
    model's own curve). At every round this returns the mean of the seeds' curves (the same
    ``mean`` as :func:`learning_curves`) and their minimum, maximum and population standard
    deviation (``ddof=0``) over the seeds.

    Parameters
    ----------
    table : DataFrame
        Tidy results, any number of contexts and methods.
    per_model : bool
        One curve per target model instead of the mean over models.

    Returns
    -------
    DataFrame
        One row per (context, method, [model,] round): :data:`CONTEXT`, ``method``,
        ``strategy``, ``[model,]`` ``round``, ``n_labeled``, ``mean``, ``seed_min``,
        ``seed_max``, ``seed_std``, ``n_seeds``.

    References
    ----------
    Not in the paper (one run per setting there); the curves of Fig. 1-4 with a band over seeds.
    """
    require_columns(table, CONTEXT + ["method", "strategy", "seed", "round", "n_labeled", "model", "value"],
                     "seed_curves")
    keys = CONTEXT + ["method"] + (["model"] if per_model else []) + ["round"]
    per_seed = table.groupby(keys + ["seed"], sort=False, dropna=False).agg(
        strategy=("strategy", "first"), n_labeled=("n_labeled", "first"), value=("value", "mean"))
    out = per_seed.groupby(keys, sort=False, dropna=False).agg(
        strategy=("strategy", "first"), n_labeled=("n_labeled", "first"), mean=("value", "mean"),
        seed_min=("value", "min"), seed_max=("value", "max"), seed_std=("value", population_std),
        n_seeds=("value", "size"),
    ).reset_index()
    columns = CONTEXT + ["method", "strategy"] + (["model"] if per_model else []) + \
        ["round", "n_labeled", "mean", "seed_min", "seed_max", "seed_std", "n_seeds"]
    return out[columns].sort_values(keys, kind="stable", ignore_index=True)


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the points of each learning curve.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`learning_curves`.

    Returns
    -------
    DataFrame
        One row per (context, method): ``mean`` (of the mean curve over all its rounds,
        round 0 included), ``curve_std`` (population std of the mean curve over its rounds),
        ``mean_model_std`` (average over rounds of the std over models), ``n_rounds``.

    References
    ----------
    Table 3b of the paper (mean +/- std of the learning curve for each beta).
    """
    require_columns(curves, CONTEXT + ["method", "strategy", "beta", "mean", "std"], "curve_summary")
    grouped = curves.groupby(CONTEXT + ["method"], sort=False, dropna=False)
    out = grouped.agg(
        strategy=("strategy", "first"), beta=("beta", "first"),
        mean=("mean", "mean"), curve_std=("mean", population_std),
        mean_model_std=("std", "mean"), n_rounds=("mean", "size"),
    ).reset_index()
    return out
