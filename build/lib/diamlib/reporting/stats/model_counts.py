"""The number of target models: results of the first ``n`` models of a run.

References
----------
Fig. 2 and Fig. 4 of the paper (performance as the number of target models grows).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from diamlib.reporting.stats.common import require_columns


def largest_model_count(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the runs with the most target models of each (source, task, dataset).

    References
    ----------
    Fig. 1, 3 and Table 2 of the paper use all 12 target models.
    """
    require_columns(table, ["source", "task", "dataset", "n_models"], "largest_model_count")
    largest = table.groupby(["source", "task", "dataset"])["n_models"].transform("max")
    return table[table["n_models"] == largest]


def first_models(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """Rows of the first ``n`` target models of each run (by ``model_index``), as ``n``-model runs.

    Raises
    ------
    ValueError
        ``n < 1`` or no run has ``n`` models or more.

    References
    ----------
    Sec. 6.5 of the paper (the first 2, 4, 6, 8 models of the list in Sec. 6.1).
    """
    if n < 1:
        raise ValueError(f"the number of models must be >= 1; got {n}")
    rows = table[(table["n_models"] >= n) & (table["model_index"] < n)]
    if rows.empty:
        raise ValueError(f"no run has {n} target models or more (largest: {table['n_models'].max()})")
    return rows.assign(n_models=n)


def model_count_table(table: pd.DataFrame, counts: Sequence[int]) -> pd.DataFrame:
    """Tidy rows for each number of target models in ``counts``.

    For each (source, task, dataset), runs made with exactly ``n`` models are used where they
    exist (the authors' separate N-model runs); otherwise the first ``n`` models of the runs
    with the most models are taken (:func:`first_models`). Counts larger than every run are
    skipped.

    Returns
    -------
    DataFrame
        Tidy rows whose ``n_models`` is the requested count.

    Raises
    ------
    ValueError
        No count could be served.

    References
    ----------
    Sec. 6.5-6.6, Fig. 2 and Fig. 4 of the paper.
    """
    require_columns(table, ["source", "task", "dataset", "n_models", "model_index"], "model_count_table")
    parts = []
    for _, group in table.groupby(["source", "task", "dataset"], sort=False):
        available = set(group["n_models"].unique())
        largest = max(available)
        for n in counts:
            if n in available:
                parts.append(group[group["n_models"] == n])
            elif n < largest:
                parts.append(first_models(group[group["n_models"] == largest], n))
    if not parts:
        raise ValueError(f"no run has at least {min(counts)} target models")
    return pd.concat(parts, ignore_index=True)
