"""The best and the worst target model of each method, after the last round.

References
----------
Table 3 of the paper (mean and spread of the best and worst model over rounds).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from diamlib.reporting.stats.common import CONTEXT, higher_is_better, per_model_values, population_std


def best_worst(table: pd.DataFrame) -> pd.DataFrame:
    """Learning curves of the best and of the worst target model, summarised by mean and std.

    At each round the best performance is the maximum over target models (minimum for error
    metrics) of the seed-averaged per-model values, the worst the opposite; each of these two
    curves is summarised by its mean and population standard deviation over all rounds
    (round 0 included). This is the definition that reproduces the published Table 3a from
    the authors' raw results (the best model may change from round to round).

    Parameters
    ----------
    table : DataFrame
        Tidy results, any number of contexts and methods.

    Returns
    -------
    DataFrame
        One row per (context, method): ``best_mean``, ``best_std``, ``worst_mean``,
        ``worst_std``, ``n_rounds``.

    References
    ----------
    Sec. 6.3 and Table 3a of the paper.
    """
    per_model = per_model_values(table)
    keys = CONTEXT + ["method"]
    per_round = per_model.groupby(keys + ["round"], sort=False, dropna=False)["value"].agg(["max", "min"])
    per_round = per_round.reset_index()
    higher = per_round["metric"].map(higher_is_better).astype(bool)
    per_round["best"] = np.where(higher, per_round["max"], per_round["min"])
    per_round["worst"] = np.where(higher, per_round["min"], per_round["max"])

    out = per_round.groupby(keys, sort=False, dropna=False).agg(
        best_mean=("best", "mean"), best_std=("best", population_std),
        worst_mean=("worst", "mean"), worst_std=("worst", population_std), n_rounds=("best", "size"),
    ).reset_index()
    return out
