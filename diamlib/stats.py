"""Statistics over the tidy results table of :mod:`diamlib.results`.

Each function takes the tidy table (or the learning curves computed from it) and returns a
tidy :class:`pandas.DataFrame`. A *context* is one comparable set of curves: the columns
:data:`CONTEXT` (source, task, dataset, number of target models, metric).

Seeds. Where a run was repeated over several seeds, a curve point is the mean over seeds of
the per-seed means over target models, and its spread is the standard deviation over target
models of the seed-averaged per-model values. Per-model comparisons (win/tie/loss, best and
worst model) also use the seed-averaged per-model values. Beyond the paper, the win/tie/loss
test can also be applied to each seed on its own (:func:`compare_per_seed`) or over all (model,
seed) pairs (:func:`compare_pooled`, :func:`pooled_summary`), and :func:`seed_curves` gives the
spread of the learning curves over seeds.

Standard deviations are population standard deviations (``ddof=0``): the target models, and
the points of a learning curve, are the whole population described, not a sample. With this
convention the best/worst summaries of the authors' raw results reproduce the published
Table 3a to the printed digits for the six baselines.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

#: Columns that identify one comparable set of learning curves.
CONTEXT = ["source", "task", "dataset", "n_models", "metric"]

#: Metric -> True when higher is better.
METRIC_DIRECTION = {"accuracy": True, "top5_accuracy": True, "mse": False, "mae": False}

#: The metric of each task that tables and figures report first.
PRIMARY_METRIC = {"classification": "accuracy", "regression": "mse"}

TESTS = ("t-test", "wilcoxon")
OUTCOMES = ("Win", "Tie", "Loss")


# --------------------------------------------------------------------------- helpers
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


def _require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; pass the tidy table from diamlib.results")
    if table.empty:
        raise ValueError(f"{what} got an empty table")


def _population_std(values: pd.Series) -> float:
    """Population standard deviation (``ddof=0``) of a group's values, for ``groupby.agg``.

    References
    ----------
    Error bars of Fig. 1-4 and the +/- of Tables 3a-3b of the paper (spread over target models
    or rounds, not an estimate of a wider population).
    """
    return float(np.std(values.to_numpy(), ddof=0))


def _single_context(table: pd.DataFrame, what: str) -> dict:
    """The one context of ``table``; a clear error if it mixes several."""
    contexts = table[CONTEXT].drop_duplicates()
    if len(contexts) != 1:
        listed = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in contexts.to_dict("records"))
        raise ValueError(
            f"{what} compares methods within one context, but the table holds {len(contexts)}: "
            f"{listed}. Filter first, e.g. diamlib.stats.select(table, dataset=..., metric=..., n_models=...)"
        )
    return contexts.iloc[0].to_dict()


def per_model_values(table: pd.DataFrame) -> pd.DataFrame:
    """Seed-averaged value of each target model at each round.

    Parameters
    ----------
    table : DataFrame
        Tidy results (:data:`diamlib.results.TIDY_COLUMNS`).

    Returns
    -------
    DataFrame
        One row per (context, method, round, model): columns :data:`CONTEXT`, ``method``,
        ``strategy``, ``beta``, ``round``, ``n_labeled``, ``model``, ``model_index``,
        ``value`` (mean over seeds), ``n_seeds``.
    """
    _require_columns(table, CONTEXT + ["method", "strategy", "beta", "seed", "round", "n_labeled",
                                       "model", "model_index", "value"], "per_model_values")
    keys = CONTEXT + ["method", "round", "model"]
    grouped = table.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        strategy=("strategy", "first"), beta=("beta", "first"), n_labeled=("n_labeled", "first"),
        model_index=("model_index", "first"), value=("value", "mean"), n_seeds=("seed", "nunique"),
    ).reset_index()
    return out


# --------------------------------------------------------------------------- learning curves
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
    _require_columns(table, CONTEXT + ["method", "strategy", "beta", "seed", "round", "n_labeled",
                                       "model", "value"], "learning_curves")
    curve_keys = CONTEXT + ["method", "round"]
    per_seed = (
        table.groupby(curve_keys + ["seed"], sort=False, dropna=False)["value"].mean()
        .groupby(curve_keys, sort=False, dropna=False).agg(mean="mean", n_seeds="size")
    )
    per_model = per_model_values(table)
    spread = per_model.groupby(curve_keys, sort=False, dropna=False).agg(
        strategy=("strategy", "first"), beta=("beta", "first"), n_labeled=("n_labeled", "first"),
        std=("value", _population_std),
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
    _require_columns(table, CONTEXT + ["method", "strategy", "seed", "round", "n_labeled", "model", "value"],
                     "seed_curves")
    keys = CONTEXT + ["method"] + (["model"] if per_model else []) + ["round"]
    per_seed = table.groupby(keys + ["seed"], sort=False, dropna=False).agg(
        strategy=("strategy", "first"), n_labeled=("n_labeled", "first"), value=("value", "mean"))
    out = per_seed.groupby(keys, sort=False, dropna=False).agg(
        strategy=("strategy", "first"), n_labeled=("n_labeled", "first"), mean=("value", "mean"),
        seed_min=("value", "min"), seed_max=("value", "max"), seed_std=("value", _population_std),
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
    _require_columns(curves, CONTEXT + ["method", "strategy", "beta", "mean", "std"], "curve_summary")
    grouped = curves.groupby(CONTEXT + ["method"], sort=False, dropna=False)
    out = grouped.agg(
        strategy=("strategy", "first"), beta=("beta", "first"),
        mean=("mean", "mean"), curve_std=("mean", _population_std),
        mean_model_std=("std", "mean"), n_rounds=("mean", "size"),
    ).reset_index()
    return out


# --------------------------------------------------------------------------- win / tie / loss
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
    _require_columns(table, CONTEXT + ["method", "strategy", "round", "model", "value"], "compare_methods")
    context = _single_context(table, "compare_methods")
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
    _require_columns(comparison, [by, "outcome"], "wtl_totals")
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
    _require_columns(comparison, ["baseline", "round", "outcome"], "wtl_table")
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


# --------------------------------------------------------------------------- several seeds
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
    _require_columns(table, CONTEXT + ["method", "strategy", "seed", "round", "model", "value"], what)
    _single_context(table, what)
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
    _require_columns(per_seed, ["seed", "baseline", "round", "outcome"], "wtl_by_seed")
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
    _require_columns(table, ["model", "seed"], "pooled_pairs")
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
    higher_better = higher_is_better(_single_context(table, "pooled_summary")["metric"])
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
    _require_columns(summary, ["baseline", "Win", "Tie", "Loss", "final_outcome", "final_mean_difference",
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


# --------------------------------------------------------------------------- best and worst models
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
        best_mean=("best", "mean"), best_std=("best", _population_std),
        worst_mean=("worst", "mean"), worst_std=("worst", _population_std), n_rounds=("best", "size"),
    ).reset_index()
    return out


# --------------------------------------------------------------------------- beta sensitivity
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
    _require_columns(table, ["strategy", "beta"], "beta_sensitivity")
    rows = table[(table["strategy"] == strategy) & table["beta"].notna()]
    if rows.empty:
        raise ValueError(f"no results of strategy {strategy!r} with a known beta")
    summary = curve_summary(learning_curves(rows))
    summary = summary.assign(abs_beta=summary["beta"].abs())
    summary = summary.sort_values(CONTEXT + ["abs_beta", "method"], kind="stable", ignore_index=True)
    return summary.drop(columns="abs_beta")


# --------------------------------------------------------------------------- number of models
def largest_model_count(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the runs with the most target models of each (source, task, dataset).

    References
    ----------
    Fig. 1, 3 and Table 2 of the paper use all 12 target models.
    """
    _require_columns(table, ["source", "task", "dataset", "n_models"], "largest_model_count")
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
    _require_columns(table, ["source", "task", "dataset", "n_models", "model_index"], "model_count_table")
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


# --------------------------------------------------------------------------- beyond the paper
def area_under_curve(curves: pd.DataFrame, *, common_range: bool = True) -> pd.DataFrame:
    """Normalised area under each mean learning curve (AULC).

    The trapezoidal area under the mean curve divided by the width of the label range, i.e.
    the curve's average value over that range (in the metric's units). With
    ``common_range`` every method of a context is integrated over the label range that all
    of them cover (curves are linearly interpolated at its ends), so runs of different
    lengths stay comparable.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`learning_curves`.

    Returns
    -------
    DataFrame
        One row per (context, method): ``aulc``, ``n_labeled_from``, ``n_labeled_to``. ``aulc``
        is NaN when the range has zero width (a single point).

    References
    ----------
    Not in the paper; a summary of Fig. 1-4 over the whole label budget.
    """
    _require_columns(curves, CONTEXT + ["method", "n_labeled", "mean"], "area_under_curve")
    rows = []
    for context, group in curves.groupby(CONTEXT, sort=False):
        spans = group.groupby("method")["n_labeled"].agg(["min", "max"])
        for method in order_methods(group["method"]):
            curve = group[group["method"] == method].sort_values("n_labeled")
            x = curve["n_labeled"].to_numpy(dtype=np.float64)
            y = curve["mean"].to_numpy(dtype=np.float64)
            lo, hi = (spans["min"].max(), spans["max"].min()) if common_range else (x[0], x[-1])
            rows.append({**dict(zip(CONTEXT, context)), "method": method,
                         "aulc": normalised_area(x, y, lo, hi),
                         "n_labeled_from": lo, "n_labeled_to": hi})
    return pd.DataFrame(rows)


def normalised_area(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Average of the piecewise-linear curve ``(x, y)`` over ``[lo, hi]``; NaN if ``hi <= lo``.

    Parameters
    ----------
    x, y : ndarray, shape (n_points,)
        Increasing label counts and curve values.
    """
    if hi <= lo:
        return math.nan
    inside = (x > lo) & (x < hi)
    xs = np.concatenate([[lo], x[inside], [hi]])
    ys = np.interp(xs, x, y)
    return float(np.trapezoid(ys, xs) / (hi - lo))


def labels_to_reach(n_labeled: np.ndarray, values: np.ndarray, target: float, *,
                    higher_better: bool = True) -> float:
    """Number of labels at which a learning curve first reaches ``target``.

    The curve is read as piecewise linear: between the last point short of the target and
    the first point that reaches it, the label count is interpolated linearly.

    Parameters
    ----------
    n_labeled : ndarray, shape (n_points,)
        Increasing label counts.
    values : ndarray, shape (n_points,)
        Mean metric at each count.
    target : float
        Level to reach (``>=`` when higher is better, ``<=`` for errors).

    Returns
    -------
    float
        The interpolated label count; the first count if already reached there; NaN if never.

    References
    ----------
    Not in the paper; a reading of Fig. 1-4 in labels rather than accuracy.
    """
    x = np.asarray(n_labeled, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError(f"n_labeled and values need equal non-empty 1-d shapes; got {x.shape}, {y.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("n_labeled must be strictly increasing")
    reached = y >= target if higher_better else y <= target
    hits = np.flatnonzero(reached)
    if len(hits) == 0:
        return math.nan
    i = int(hits[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def label_savings(curves: pd.DataFrame, *, baseline: str = "random",
                  target: float | None = None) -> pd.DataFrame:
    """Labels each method needs to reach a target level, against a baseline (random).

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`learning_curves`.
    baseline : str
        Method the savings are measured against.
    target : float, optional
        Level to reach in the metric's units (e.g. 0.95 accuracy). Default: the baseline's
        mean at its last round (what passive learning reaches with the whole budget).

    Returns
    -------
    DataFrame
        One row per (context, method): ``target``, ``labels_needed`` (NaN: not reached),
        ``baseline_labels``, ``labels_saved`` (baseline minus method), ``saved_fraction``
        (``labels_saved / baseline_labels``), ``reached``. Contexts without the baseline are
        skipped.

    Raises
    ------
    ValueError
        The baseline appears in no context.

    References
    ----------
    Not in the paper; the label cost of Fig. 1-4.
    """
    _require_columns(curves, CONTEXT + ["method", "n_labeled", "mean"], "label_savings")
    if baseline not in set(curves["method"]):
        raise ValueError(f"baseline {baseline!r} not in the curves; methods: {order_methods(curves['method'])}")
    rows = []
    for context, group in curves.groupby(CONTEXT, sort=False):
        if baseline not in set(group["method"]):
            continue
        higher_better = higher_is_better(context[CONTEXT.index("metric")])

        def needed(method: str, level: float) -> float:
            curve = group[group["method"] == method].sort_values("n_labeled")
            return labels_to_reach(curve["n_labeled"].to_numpy(), curve["mean"].to_numpy(), level,
                                   higher_better=higher_better)

        base_curve = group[group["method"] == baseline].sort_values("n_labeled")
        level = float(base_curve["mean"].iloc[-1]) if target is None else float(target)
        base_labels = needed(baseline, level)
        for method in order_methods(group["method"]):
            labels = needed(method, level)
            saved = base_labels - labels
            rows.append({**dict(zip(CONTEXT, context)), "method": method, "target": level,
                         "labels_needed": labels, "baseline_labels": base_labels,
                         "labels_saved": saved, "saved_fraction": saved / base_labels if base_labels else math.nan,
                         "reached": not math.isnan(labels)})
    return pd.DataFrame(rows)
