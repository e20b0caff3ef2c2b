"""Win / tie / loss of the paper's method against each baseline, by a paired test over target models.

References
----------
Table 2 and Sec. 6.2 of the paper (paired t-test at alpha = 0.05 over the target models).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from diamlib.reporting.stats.common import (CONTEXT, OUTCOMES, TESTS, higher_is_better, order_methods, per_model_values,
                                            reference_methods, require_columns, single_context)


def paired_outcome(reference: np.ndarray, baseline: np.ndarray, *, higher_better: bool = True,
                   test: str = "t-test", alpha: float = 0.05) -> tuple[str, float, float]:
    """Win, Tie or Loss of ``reference`` against ``baseline`` by a paired two-sided test.

    Parameters
    ----------
    reference, baseline : ndarray, shape (n_models,)
        The metric of each target model under the two methods, paired by model.
    higher_better : bool
        ``False`` for errors (mse, mae): then a significantly lower value wins.
    test : {"t-test", "wilcoxon"}
        Paired t-test (the paper's) or Wilcoxon signed-rank test (our option).
    alpha : float
        Significance level.

    Returns
    -------
    outcome : {"Win", "Tie", "Loss"}
    statistic : float
        t statistic, or the Wilcoxon statistic (sum of ranks), of ``reference - baseline``.
    p_value : float

    Notes
    -----
    Identical values give a Tie (p = 1). Differences that are all equal and non-zero have
    zero variance; the t statistic is then infinite and the outcome follows its sign (p = 0).

    Raises
    ------
    ValueError
        Fewer than two target models, arrays of different shapes, non-finite values or an
        unknown test.

    References
    ----------
    Sec. 6.2 and Table 2 of the paper (paired t-tests at the 0.05 level over the target models).
    """
    reference = np.asarray(reference, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; use one of {TESTS}")
    if reference.shape != baseline.shape or reference.ndim != 1:
        raise ValueError(f"paired values need equal 1-d shapes; got {reference.shape} and {baseline.shape}")
    if len(reference) < 2:
        raise ValueError(f"a paired test needs at least 2 target models; got {len(reference)}")
    if not (np.isfinite(reference).all() and np.isfinite(baseline).all()):
        raise ValueError("paired values must be finite (a run may have failed to evaluate a model)")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha}")
    differences = reference - baseline
    if np.all(differences == 0.0):
        return "Tie", 0.0, 1.0
    if test == "t-test":
        if np.ptp(differences) == 0.0:
            statistic, p_value = math.copysign(math.inf, differences[0]), 0.0
        else:
            result = scipy_stats.ttest_rel(reference, baseline)
            statistic, p_value = float(result.statistic), float(result.pvalue)
    else:
        result = scipy_stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    if p_value >= alpha:
        return "Tie", statistic, p_value
    better = float(np.mean(differences)) > 0.0
    if not higher_better:
        better = not better
    return ("Win" if better else "Loss"), statistic, p_value


def resolve_baselines(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None = None) -> list[str]:
    """The baselines a reference is compared with, checked against the methods of ``table``.

    Parameters
    ----------
    table : DataFrame
        Tidy results (or :func:`per_model_values`) with columns ``method`` and ``strategy``.
    reference : str
        The method under test.
    baselines : sequence of str, optional
        Default: every other method whose strategy differs from the reference's (variants of
        the reference, e.g. other beta values, are left out), in :func:`order_methods`.

    Raises
    ------
    ValueError
        The reference or a baseline is not in ``table`` (the message lists the methods present).
    """
    methods = order_methods(table["method"])
    if reference not in methods:
        raise ValueError(f"reference method {reference!r} not in the results; methods present: {methods}")
    if baselines is None:
        strategy_of = table.groupby("method")["strategy"].first()
        return [m for m in methods if m != reference and strategy_of[m] != strategy_of[reference]]
    unknown = [b for b in baselines if b not in methods]
    if unknown:
        raise ValueError(f"baselines {unknown} not in the results; methods present: {methods}")
    return list(baselines)


def compare_methods(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None = None,
                    test: str = "t-test", alpha: float = 0.05, first_round: int = 1) -> pd.DataFrame:
    """Win/Tie/Loss of one method against each baseline after every query round.

    Parameters
    ----------
    table : DataFrame
        Tidy results of one context (one source, task, dataset, number of models, metric).
    reference : str
        The method under test, e.g. ``"diam"``.
    baselines : sequence of str, optional
        Default: every other method whose strategy differs from the reference's (so variants
        of the reference, e.g. other beta values, are left out), in :func:`order_methods`.
    test, alpha
        See :func:`paired_outcome`.
    first_round : int
        First round compared (1: after the first query batch; round 0 is the shared random
        start).

    Returns
    -------
    DataFrame
        One row per (baseline, round): :data:`CONTEXT`, ``reference``, ``baseline``,
        ``round``, ``n_labeled``, ``n_models_paired``, ``mean_difference`` (reference minus
        baseline, averaged over models), ``statistic``, ``p_value``, ``outcome``, ``test``,
        ``alpha``. Rounds are those both methods reached.

    Raises
    ------
    ValueError
        Several contexts in ``table``, an unknown method, different target models under the two
        methods, fewer than 2 models, or no common round.

    References
    ----------
    Table 2 of the paper.
    """
    require_columns(table, CONTEXT + ["method", "strategy", "round", "model", "value"], "compare_methods")
    context = single_context(table, "compare_methods")
    per_model = per_model_values(table)
    baselines = resolve_baselines(per_model, reference=reference, baselines=baselines)
    higher_better = higher_is_better(context["metric"])
    wide = per_model.pivot_table(index=["round", "model"], columns="method", values="value", aggfunc="first")
    n_labeled = per_model.groupby(["method", "round"])["n_labeled"].first()
    rows = []
    for baseline in baselines:
        pair = wide[[reference, baseline]]
        rounds = sorted(r for r in pair.index.get_level_values("round").unique() if r >= first_round)
        compared = 0
        for round_index in rounds:
            values = pair.xs(round_index, level="round")
            missing = values[values.isna().any(axis=1)]
            if len(missing) == len(values):
                continue
            if len(missing):
                raise ValueError(
                    f"round {round_index}: models {sorted(missing.index)} have results for only one of "
                    f"{reference!r} and {baseline!r}; both methods must train the same target models "
                    f"(compare the 'models' lists in their run.json and re-run the runs made with another zoo)"
                )
            outcome, statistic, p_value = paired_outcome(
                values[reference].to_numpy(), values[baseline].to_numpy(),
                higher_better=higher_better, test=test, alpha=alpha,
            )
            rows.append({
                **context, "reference": reference, "baseline": baseline, "round": int(round_index),
                "n_labeled": int(n_labeled[(reference, round_index)]), "n_models_paired": len(values),
                "mean_difference": float((values[reference] - values[baseline]).mean()),
                "statistic": statistic, "p_value": p_value, "outcome": outcome, "test": test, "alpha": alpha,
            })
            compared += 1
        if compared == 0:
            raise ValueError(f"{reference!r} and {baseline!r} share no round >= {first_round}")
    return pd.DataFrame(rows)


def compare_all(table: pd.DataFrame, *, references: dict[str, Sequence[str]] | None = None,
                test: str = "t-test", alpha: float = 0.05) -> pd.DataFrame:
    """:func:`compare_methods` for every context of ``table`` and every DIAM reference in it.

    Parameters
    ----------
    table : DataFrame
        Tidy results, any number of contexts.
    references : dict, optional
        Task -> reference methods. Default: :func:`reference_methods` of each task (``diam``
        for classification, ``diam-svd`` and ``diam-leverage`` for regression). References absent
        from a context are skipped, as are contexts with a single method.
    test, alpha
        See :func:`paired_outcome`.

    Returns
    -------
    DataFrame
        The concatenated :func:`compare_methods` rows (empty when nothing could be compared).

    References
    ----------
    Table 2 of the paper.
    """
    parts = []
    for context, group in table.groupby(CONTEXT, sort=False):
        task = context[CONTEXT.index("task")]
        methods = set(group["method"])
        for reference in (references.get(task, []) if references else reference_methods(task)):
            if reference in methods and len(methods) > 1:
                parts.append(compare_methods(group, reference=reference, test=test, alpha=alpha))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def wtl_totals(comparison: pd.DataFrame, by: str = "baseline") -> pd.DataFrame:
    """Counts of wins, ties and losses per baseline (``by="baseline"``) or per round.

    Returns
    -------
    DataFrame
        Index ``by``; columns ``Win``, ``Tie``, ``Loss`` (integers).

    References
    ----------
    Table 2 of the paper (the W./T./L. column and row).
    """
    require_columns(comparison, [by, "outcome"], "wtl_totals")
    counts = pd.crosstab(comparison[by], comparison["outcome"])
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0).astype(np.int64)
    if by == "baseline":
        counts = counts.reindex(list(dict.fromkeys(comparison["baseline"])))
    counts.columns.name = None
    return counts


def format_wtl(counts: pd.Series) -> str:
    """``"W/T/L"`` text of a row of :func:`wtl_totals` (counts under ``Win``, ``Tie``, ``Loss``)."""
    return f"{counts['Win']}/{counts['Tie']}/{counts['Loss']}"


def wtl_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 2 layout: one row per baseline, one column per query round.

    Cells are ``Win``/``Tie``/``Loss``; the last column ``W/T/L`` totals each baseline, the last
    row ``W/T/L`` totals each round (and everything in its last cell).

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`compare_methods` for one context and reference.

    Returns
    -------
    DataFrame
        Strings; index ``method`` (baselines, then ``W/T/L``); columns the rounds as strings,
        then ``W/T/L``.

    References
    ----------
    Table 2 of the paper.
    """
    require_columns(comparison, ["baseline", "round", "outcome"], "wtl_table")
    baselines = list(dict.fromkeys(comparison["baseline"]))
    rounds = sorted(comparison["round"].unique())
    cells = comparison.pivot(index="baseline", columns="round", values="outcome").reindex(
        index=baselines, columns=rounds)
    cells = cells.fillna("")

    fmt = format_wtl

    by_baseline = wtl_totals(comparison, "baseline")
    by_round = wtl_totals(comparison, "round")
    cells["W/T/L"] = [fmt(by_baseline.loc[b]) for b in baselines]
    total = by_baseline.sum()
    cells.loc["W/T/L"] = [fmt(by_round.loc[r]) for r in rounds] + [fmt(total)]
    cells.columns = [str(c) for c in cells.columns]
    cells.index.name = "method"
    return cells
