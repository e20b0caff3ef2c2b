"""Several seeds, beyond the paper: the win / tie / loss test per seed and over (model, seed) pairs.

Where runs were repeated over seeds, :func:`compare_per_seed` applies the paper's test to each
seed on its own, and :func:`compare_pooled` / :func:`pooled_summary` pair every (target
model, seed) after the last round and over the learning curve.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from diamlib.reporting.stats.common import CONTEXT, higher_is_better, require_columns, single_context
from diamlib.reporting.stats.efficiency import normalised_area
from diamlib.reporting.stats.wtl import compare_methods, format_wtl, paired_outcome, resolve_baselines, wtl_totals


#: The pairing unit of the pooled test (our addition), recorded in its rows.
POOLED_UNIT = "(model, seed)"


def _shared_seeds(table: pd.DataFrame, methods: Sequence[str], what: str) -> list[int]:
    """The seeds of ``methods[0]``, checked to be those of every other method in ``methods``.

    Raises
    ------
    ValueError
        A method lacks a seed that another has (the message lists each method's seeds).
    """
    seeds = {m: sorted(int(s) for s in table.loc[table["method"] == m, "seed"].unique()) for m in methods}
    reference_seeds = seeds[methods[0]]
    differing = {m: s for m, s in seeds.items() if s != reference_seeds}
    if differing:
        listed = "; ".join(f"{m}: {s}" for m, s in seeds.items())
        raise ValueError(
            f"{what} pairs runs by seed, but the methods ran different seeds ({listed}); run the "
            f"missing seeds, or keep the shared ones, e.g. table[table['seed'].isin([...])]"
        )
    return reference_seeds


def _seed_paired_setup(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None,
                       what: str) -> tuple[list[str], list[int]]:
    """Check ``table`` for a comparison paired by seed; return its baselines and their shared seeds.

    ``table`` must hold the tidy columns of one context; the baselines are resolved by
    :func:`resolve_baselines`, and the reference and every baseline must have run the same seeds
    (:func:`_shared_seeds`). ``what`` names the caller in the error messages.

    Returns
    -------
    baselines : list of str
    seeds : list of int
    """
    require_columns(table, CONTEXT + ["method", "strategy", "seed", "round", "model", "value"], what)
    single_context(table, what)
    baselines = resolve_baselines(table, reference=reference, baselines=baselines)
    return baselines, _shared_seeds(table, [reference, *baselines], what)


def compare_per_seed(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None = None,
                     test: str = "t-test", alpha: float = 0.05, first_round: int = 1) -> pd.DataFrame:
    """The paper's Win/Tie/Loss test, applied to each seed on its own.

    For each seed, :func:`compare_methods` on that seed's runs: after every query round, a paired
    test over the target models of the reference's values against the baseline's.

    Parameters
    ----------
    table : DataFrame
        Tidy results of one context, with one or more seeds; the reference and every baseline
        must have run the same seeds.
    reference, baselines, test, alpha, first_round
        See :func:`compare_methods`.

    Returns
    -------
    DataFrame
        The :func:`compare_methods` rows of every seed, with a ``seed`` column after
        ``baseline``; sorted by seed, then baseline and round.

    Raises
    ------
    ValueError
        Those of :func:`compare_methods`, or methods that ran different seeds.

    References
    ----------
    Sec. 6.2 and Table 2 of the paper (paired t-tests over the target models after each
    iteration); the paper reports one run, here every seed gets its own table.
    """
    baselines, seeds = _seed_paired_setup(table, reference=reference, baselines=baselines, what="compare_per_seed")
    parts = []
    for seed in seeds:
        part = compare_methods(table[table["seed"] == seed], reference=reference, baselines=baselines,
                               test=test, alpha=alpha, first_round=first_round)
        part.insert(part.columns.get_loc("baseline") + 1, "seed", seed)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def wtl_by_seed(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Win/Tie/Loss counts over the rounds, one row per seed and one column per baseline.

    Parameters
    ----------
    per_seed : DataFrame
        Output of :func:`compare_per_seed` (one context and reference).

    Returns
    -------
    DataFrame
        Strings ``"W/T/L"``; index ``seed`` (the seeds, then ``all seeds``, the totals of each
        baseline); columns the baselines, then ``W/T/L`` (the totals of each seed).

    References
    ----------
    Table 2 of the paper (its W./T./L. column), once per seed.
    """
    require_columns(per_seed, ["seed", "baseline", "round", "outcome"], "wtl_by_seed")
    baselines = list(dict.fromkeys(per_seed["baseline"]))
    seeds = sorted(per_seed["seed"].unique())
    cells = pd.DataFrame(index=pd.Index([*seeds, "all seeds"], name="seed"), columns=[*baselines, "W/T/L"],
                         dtype=object)
    groups = [(seed, per_seed[per_seed["seed"] == seed]) for seed in seeds] + [("all seeds", per_seed)]
    for label, rows in groups:
        counts = wtl_totals(rows)
        for baseline in baselines:
            cells.loc[label, baseline] = format_wtl(counts.loc[baseline])
        cells.loc[label, "W/T/L"] = format_wtl(counts.sum())
    return cells


def pooled_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy table with each (model, seed) made a target model of its own.

    ``model`` becomes ``"<model> [seed <s>]"``, so :func:`per_model_values` (and hence
    :func:`compare_methods`) pairs the values of two methods by model *and* seed instead of
    averaging the seeds first. Not in the paper (our addition).
    """
    require_columns(table, ["model", "seed"], "pooled_pairs")
    return table.assign(model=table["model"].astype(str) + " [seed " + table["seed"].astype(str) + "]")


def compare_pooled(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None = None,
                   test: str = "t-test", alpha: float = 0.05, first_round: int = 1) -> pd.DataFrame:
    """Win/Tie/Loss after every round by one paired test over all (model, seed) pairs (our addition).

    The paper pairs the target models of one run. With several seeds, this test pairs every
    target model of every seed (e.g. 6 models x 3 seeds = 18 pairs) with the same model and seed
    under the baseline (the same initial labels and initialisations), through
    :func:`compare_methods` on :func:`pooled_pairs`. The pairs of one model share that model's
    architecture, so they are not independent draws; read the p-value as a summary of the
    evidence, not as an exact error rate.

    Parameters
    ----------
    table : DataFrame
        Tidy results of one context; the reference and every baseline must have run the same
        seeds.
    reference, baselines, test, alpha, first_round
        See :func:`compare_methods`.

    Returns
    -------
    DataFrame
        The :func:`compare_methods` columns, with ``n_models_paired`` renamed ``n_pairs`` and
        the columns ``n_seeds`` and ``pairs`` (:data:`POOLED_UNIT`) added.

    Raises
    ------
    ValueError
        Those of :func:`compare_methods`, or methods that ran different seeds.

    References
    ----------
    Not in the paper; the test of Sec. 6.2 (Table 2) with the seeds as further pairs.
    """
    baselines, seeds = _seed_paired_setup(table, reference=reference, baselines=baselines, what="compare_pooled")
    rows = compare_methods(pooled_pairs(table), reference=reference, baselines=baselines, test=test,
                           alpha=alpha, first_round=first_round)
    rows = rows.rename(columns={"n_models_paired": "n_pairs"})
    position = rows.columns.get_loc("n_pairs") + 1
    rows.insert(position, "n_seeds", len(seeds))
    rows.insert(position + 1, "pairs", POOLED_UNIT)
    return rows


def pair_areas(table: pd.DataFrame, method: str, lo: float, hi: float) -> pd.Series:
    """Normalised area under the learning curve of each (model, seed) of ``method`` over ``[lo, hi]``.

    Returns
    -------
    Series
        Index (model, seed); values :func:`normalised_area` of that model's curve in that seed.

    References
    ----------
    Not in the paper; :func:`area_under_curve` per target model and seed.
    """
    rows = table[table["method"] == method]
    areas = {}
    for key, curve in rows.groupby(["model", "seed"], sort=True):
        curve = curve.sort_values("n_labeled")
        areas[key] = normalised_area(curve["n_labeled"].to_numpy(dtype=np.float64),
                                     curve["value"].to_numpy(dtype=np.float64), lo, hi)
    return pd.Series(areas, dtype=np.float64).rename_axis(["model", "seed"])


def pooled_summary(table: pd.DataFrame, *, reference: str, baselines: Sequence[str] | None = None,
                   test: str = "t-test", alpha: float = 0.05, first_round: int = 1) -> pd.DataFrame:
    """Per baseline, the pooled test over (model, seed) pairs summarised (our addition).

    Three readings of :func:`compare_pooled`'s test (:func:`paired_outcome` over all (model,
    seed) pairs): the Win/Tie/Loss counts over the query rounds; the final round alone; and the
    normalised area under each (model, seed) learning curve (:func:`pair_areas`, over the label
    range both methods cover, round 0 included).

    Parameters
    ----------
    table : DataFrame
        Tidy results of one context.
    reference, baselines, test, alpha, first_round
        See :func:`compare_methods`.

    Returns
    -------
    DataFrame
        One row per baseline: :data:`CONTEXT`, ``reference``, ``baseline``, ``n_pairs``,
        ``n_seeds``, ``Win``, ``Tie``, ``Loss`` (over rounds), ``final_round``,
        ``final_mean_difference``, ``final_p_value``, ``final_outcome``,
        ``aulc_mean_difference``, ``aulc_p_value``, ``aulc_outcome`` (differences are reference
        minus baseline, averaged over the pairs, in the metric's units), ``test``, ``alpha``.

    References
    ----------
    Not in the paper; Sec. 6.2's paired test over (model, seed) pairs.
    """
    rounds = compare_pooled(table, reference=reference, baselines=baselines, test=test, alpha=alpha,
                            first_round=first_round)
    higher_better = higher_is_better(single_context(table, "pooled_summary")["metric"])
    counts = wtl_totals(rounds)
    span = table.groupby("method")["n_labeled"].agg(["min", "max"])
    rows = []
    for baseline, per_round in rounds.groupby("baseline", sort=False):
        final = per_round.loc[per_round["round"].idxmax()]
        lo = max(span.loc[reference, "min"], span.loc[baseline, "min"])
        hi = min(span.loc[reference, "max"], span.loc[baseline, "max"])
        areas = pd.concat({"reference": pair_areas(table, reference, lo, hi),
                           "baseline": pair_areas(table, baseline, lo, hi)}, axis=1)
        outcome, _, p_value = paired_outcome(areas["reference"].to_numpy(), areas["baseline"].to_numpy(),
                                             higher_better=higher_better, test=test, alpha=alpha)
        rows.append({
            **{c: final[c] for c in CONTEXT}, "reference": reference, "baseline": baseline,
            "n_pairs": int(final["n_pairs"]), "n_seeds": int(final["n_seeds"]),
            **counts.loc[baseline].to_dict(),
            "final_round": int(final["round"]), "final_mean_difference": float(final["mean_difference"]),
            "final_p_value": float(final["p_value"]), "final_outcome": final["outcome"],
            "aulc_mean_difference": float((areas["reference"] - areas["baseline"]).mean()),
            "aulc_p_value": p_value, "aulc_outcome": outcome, "test": test, "alpha": alpha,
        })
    return pd.DataFrame(rows)


def pooled_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`pooled_summary` as a table to display: one row per baseline, short text cells.

    Returns
    -------
    DataFrame
        Strings; index ``baseline``; columns ``pooled W/T/L (ours)`` (over rounds), ``final
        round``, ``final: mean diff``, ``final: p``, ``AULC``, ``AULC: mean diff``, ``AULC: p``.
        Differences are reference minus baseline in the metric's units (accuracy 0.012 = 1.2
        points).

    References
    ----------
    Not in the paper (our addition beside Table 2).
    """
    require_columns(summary, ["baseline", "Win", "Tie", "Loss", "final_outcome", "final_mean_difference",
                               "final_p_value", "aulc_outcome", "aulc_mean_difference", "aulc_p_value"],
                     "pooled_table")
    table = pd.DataFrame({
        "pooled W/T/L (ours)": [format_wtl(row) for _, row in summary.iterrows()],
        "final round": summary["final_outcome"].to_list(),
        "final: mean diff": [f"{v:+.4f}" for v in summary["final_mean_difference"]],
        "final: p": [f"{v:.3g}" for v in summary["final_p_value"]],
        "AULC": summary["aulc_outcome"].to_list(),
        "AULC: mean diff": [f"{v:+.4f}" for v in summary["aulc_mean_difference"]],
        "AULC: p": [f"{v:.3g}" for v in summary["aulc_p_value"]],
    }, index=pd.Index(summary["baseline"], name="baseline"))
    return table
