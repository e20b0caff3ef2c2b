"""Sensitivity of DIAM to its trade-off ``beta`` (Eq. 9).

References
----------
Sec. 6.4 of the paper (beta in {-0.1, -1, -10}).
"""
from __future__ import annotations

import pandas as pd

from diamlib.reporting.stats.common import CONTEXT, require_columns
from diamlib.reporting.stats.curves import curve_summary, learning_curves


def beta_sensitivity(table: pd.DataFrame, *, strategy: str = "diam") -> pd.DataFrame:
    """Mean and std over the learning curve of each beta value used with ``strategy``.

    Parameters
    ----------
    table : DataFrame
        Tidy results; rows of ``strategy`` with a known ``beta`` are used (one method folder
        per beta, e.g. ``diam``, ``diam-beta-0.1``).
    strategy : str
        The strategy whose trade-off parameter is studied.

    Returns
    -------
    DataFrame
        :func:`curve_summary` rows of those methods, sorted by context and ``|beta|``.

    Raises
    ------
    ValueError
        No rows of ``strategy`` with a known beta.

    References
    ----------
    Sec. 6.4 and Table 3b of the paper (beta in {-0.1, -1, -10}).
    """
    require_columns(table, ["strategy", "beta"], "beta_sensitivity")
    rows = table[(table["strategy"] == strategy) & table["beta"].notna()]
    if rows.empty:
        raise ValueError(f"no results of strategy {strategy!r} with a known beta")
    summary = curve_summary(learning_curves(rows))
    summary = summary.assign(abs_beta=summary["beta"].abs())
    summary = summary.sort_values(CONTEXT + ["abs_beta", "method"], kind="stable", ignore_index=True)
    return summary.drop(columns="abs_beta")
