"""DIAM against a baseline with the seed as the unit of replication (ours), beside the paper's test.

Every target model of one seed learns from the same queried batches, so the (model, seed) pairs
of one experiment are not independent observations: the seed is what was replicated. The
functions here therefore summarise each seed first and infer over the seeds:

1. the **effect per pair** after the last round (:func:`pair_effects`): accuracy-like metrics
   in points, ``100 (DIAM - baseline)``; errors in percent lower than the baseline's,
   ``100 (baseline - DIAM) / baseline``; positive always means DIAM is better;
2. the **effect per seed** (:func:`seed_effects`): the mean of the pair effects over the seed's
   target models;
3. a **t interval over the seeds** (:func:`t_interval`) and its two-sided p-value (one-sample
   t-test of the per-seed effects against 0).

Why a t interval and not a cluster bootstrap over seeds: the experiments have 3 (OFA) to 10
(scikit-learn) seeds. A bootstrap over 3 clusters has 10 distinct resamples, and its percentile
interval is too narrow at such sizes (it ignores the uncertainty of the spread itself); the t
interval accounts for it through the t distribution with ``n_seeds - 1`` degrees of freedom and
assumes only that the per-seed effects, each a mean over the models, are roughly normal.

Beside it: **the paper's test** (:func:`papers_test_per_seed`): in each seed, the paired
t-test over the target models after the last round (Sec. 6.2), counted as Win/Tie/Loss over
the seeds; the **Holm adjustment** over a table's comparisons (:func:`holm_adjust`,
statsmodels' ``multipletests``); the **models gaining** (:func:`per_model_over_seeds`: a
model gains when its own interval over the seeds lies above 0); and the **minimum detectable
effect** (:func:`minimum_detectable_effect`: 80 % power at the experiment's number of seeds and
the observed spread of the per-seed effects, statsmodels' ``TTestPower``).

References
----------
Sec. 6.2 and Table 2 of the paper (paired t-test at the 0.05 level over the target models after
each iteration); Holm (1979) for the step-down adjustment. Inference over seeds is ours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from diamlib.reporting.stats.common import higher_is_better, require_columns
from diamlib.reporting.stats.wtl import paired_outcome

CONFIDENCE = 0.95
#: Power at which :func:`minimum_detectable_effect` is computed.
POWER = 0.8
#: How the adjustment over a table's comparisons is named in tables and notes.
ADJUSTMENT = "Holm"
#: The label of the paper's own test wherever it is shown.
PAPERS_TEST = "the paper's test (paired t-test over the target models, per seed)"


@dataclass(frozen=True)
class TInterval:
    """Mean of ``n`` values with a t interval, the two-sided p-value against 0 and the spread (ddof=1)."""

    mean: float
    low: float
    high: float
    p_value: float
    spread: float
    n: int


def final_pairs(table: pd.DataFrame, reference: str, baseline: str) -> pd.DataFrame:
    """The last round's value of every (model, seed) under both methods.

    Parameters
    ----------
    table : DataFrame
        Tidy results of one dataset and one metric (:data:`diamlib.reporting.results.TIDY_COLUMNS`).

    Returns
    -------
    DataFrame
        Index (model, seed), columns ``reference`` and ``baseline``; pairs that one method lacks
        are left out.

    Raises
    ------
    ValueError
        Columns missing, several metrics, a method absent, or no shared (model, seed) pair.
    """
    require_columns(table, ["method", "seed", "round", "model", "metric", "value"], "final_pairs")
    if table["metric"].nunique() != 1:
        raise ValueError(f"final_pairs compares one metric; the table holds {sorted(table['metric'].unique())}: "
                         f"filter it first, e.g. table[table['metric'] == 'accuracy']")
    missing = [m for m in (reference, baseline) if m not in set(table["method"])]
    if missing:
        raise ValueError(f"methods {missing} not in the results; methods present: {sorted(table['method'].unique())}")
    last = table[table["round"] == table["round"].max()]
    values = last.pivot_table(index=["model", "seed"], columns="method", values="value")
    both = values[[reference, baseline]].dropna()
    if both.empty:
        raise ValueError(f"{reference} and {baseline} share no (model, seed) after the last round")
    return both


def pair_effects(table: pd.DataFrame, reference: str, baseline: str) -> pd.Series:
    """DIAM's advantage over ``baseline`` after the last round, per (model, seed) pair.

    Returns
    -------
    Series
        Index (model, seed); accuracy-like metrics: ``100 (reference - baseline)`` (points);
        errors: ``100 (baseline - reference) / baseline`` (percent lower). Positive = DIAM better.
    """
    return _effects(final_pairs(table, reference, baseline), reference, baseline,
                    higher_is_better(str(table["metric"].iloc[0])))


def _effects(both: pd.DataFrame, reference: str, baseline: str, higher: bool) -> pd.Series:
    """:func:`pair_effects` from the :func:`final_pairs` table."""
    if higher:
        return 100.0 * (both[reference] - both[baseline])
    return 100.0 * (both[baseline] - both[reference]) / both[baseline]


def seed_effects(effects: pd.Series) -> pd.Series:
    """Per-seed effect: the mean of :func:`pair_effects` over the seed's target models (index: seed)."""
    return effects.groupby(level="seed").mean()


def t_interval(values, confidence: float = CONFIDENCE) -> TInterval:
    """Mean, t interval and two-sided one-sample t-test against 0 of independent replicates.

    Parameters
    ----------
    values : array-like, shape (n,)
        One value per replicate (here: per seed).
    confidence : float
        Coverage of the interval.

    Returns
    -------
    TInterval
        With one value the interval is undefined (``low``, ``high``, ``p_value`` and ``spread``
        NaN). With zero spread the interval collapses to the mean and the p-value is 0 (or 1
        when the mean is 0).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"t_interval needs a non-empty 1-d array of finite values; got shape {values.shape}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    mean, n = float(values.mean()), int(values.size)
    if n < 2:
        return TInterval(mean, math.nan, math.nan, math.nan, math.nan, n)
    spread = float(values.std(ddof=1))
    if spread == 0.0:
        return TInterval(mean, mean, mean, 1.0 if mean == 0.0 else 0.0, 0.0, n)
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)) * spread / math.sqrt(n)
    p_value = float(scipy_stats.ttest_1samp(values, 0.0).pvalue)
    return TInterval(mean, mean - half, mean + half, p_value, spread, n)


def minimum_detectable_effect(spread: float, n: int, *, alpha: float = 0.05, power: float = POWER) -> float:
    """Smallest true mean effect that a two-sided one-sample t-test over ``n`` seeds detects with ``power``.

    ``d * spread``, with ``d`` the standardised effect at which statsmodels' ``TTestPower`` reaches
    ``power`` at level ``alpha`` with ``n`` observations. NaN with fewer than 2 seeds or an
    undefined spread; 0 with zero spread.

    Parameters
    ----------
    spread : float
        Standard deviation (ddof=1) of the per-seed effects, in the effect's units.
    n : int
        Number of seeds.
    """
    if n < 2 or not math.isfinite(spread):
        return math.nan
    if spread == 0.0:
        return 0.0
    from statsmodels.stats.power import TTestPower

    d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided")
    return float(np.asarray(d).item()) * spread


def papers_test_per_seed(table: pd.DataFrame, reference: str, baseline: str, *, alpha: float = 0.05) -> dict[str, int]:
    """The paper's test, counted over the seeds: per seed, the paired t-test over the target models.

    Returns
    -------
    dict
        ``{"Win": w, "Tie": t, "Loss": l}``: seeds in which DIAM is significantly better, not
        significantly different, significantly worse (paired t-test at ``alpha`` over the
        models after the last round, :func:`~diamlib.reporting.stats.wtl.paired_outcome`).

    References
    ----------
    Sec. 6.2 and Table 2 of the paper.
    """
    return _papers_counts(final_pairs(table, reference, baseline), reference, baseline,
                          higher_is_better(str(table["metric"].iloc[0])), alpha)


def _papers_counts(both: pd.DataFrame, reference: str, baseline: str, higher: bool, alpha: float) -> dict[str, int]:
    """:func:`papers_test_per_seed` from the :func:`final_pairs` table."""
    counts = {"Win": 0, "Tie": 0, "Loss": 0}
    for _, seed_rows in both.groupby(level="seed"):
        outcome, _, _ = paired_outcome(seed_rows[reference].to_numpy(), seed_rows[baseline].to_numpy(),
                                       higher_better=higher, alpha=alpha)
        counts[outcome] += 1
    return counts


def compare_over_seeds(table: pd.DataFrame, reference: str, baseline: str, *, alpha: float = 0.05,
                       confidence: float = CONFIDENCE) -> dict:
    """One comparison, DIAM against ``baseline``, inferred over the seeds (see the module docstring).

    Returns
    -------
    dict
        ``reference``, ``baseline``, ``metric``, ``unit``, ``n_seeds``, ``n_models``, ``effect``
        (mean of the per-seed effects), ``low``, ``high`` (t interval over the seeds),
        ``p_value`` (unadjusted), ``seed_spread`` (sd of the per-seed effects), ``mde`` (minimum
        detectable effect at 80 % power), ``papers_win`` / ``papers_tie`` / ``papers_loss``
        (:func:`papers_test_per_seed`).
    """
    metric = str(table["metric"].iloc[0])
    higher = higher_is_better(metric)
    both = final_pairs(table, reference, baseline)
    effects = _effects(both, reference, baseline, higher)
    summary = t_interval(seed_effects(effects).to_numpy(), confidence)
    papers = _papers_counts(both, reference, baseline, higher, alpha)
    return {"reference": reference, "baseline": baseline, "metric": metric,
            "unit": "points" if higher else "% lower MSE", "n_seeds": summary.n,
            "n_models": int(effects.index.get_level_values("model").nunique()), "effect": summary.mean,
            "low": summary.low, "high": summary.high, "p_value": summary.p_value, "seed_spread": summary.spread,
            "mde": minimum_detectable_effect(summary.spread, summary.n, alpha=alpha),
            "papers_win": papers["Win"], "papers_tie": papers["Tie"], "papers_loss": papers["Loss"]}


def per_model_over_seeds(table: pd.DataFrame, reference: str, baseline: str = "random", *,
                         confidence: float = CONFIDENCE) -> pd.DataFrame:
    """DIAM minus ``baseline`` for each target model, with a t interval over the seeds.

    Returns
    -------
    DataFrame
        One row per model (in the table's order): ``model``, ``effect`` (mean over seeds),
        ``low``, ``high``, ``n_seeds``, ``gains`` (interval above 0: the model gains),
        ``gains_point`` (effect above 0, the point estimate alone).
    """
    effects = pair_effects(table, reference, baseline)
    order = list(dict.fromkeys(table["model"]))
    rows = []
    for model, per_seed in effects.groupby(level="model"):
        summary = t_interval(per_seed.to_numpy(), confidence)
        rows.append({"model": model, "effect": summary.mean, "low": summary.low, "high": summary.high,
                     "n_seeds": summary.n, "gains": bool(summary.low > 0), "gains_point": summary.mean > 0})
    result = pd.DataFrame(rows)
    return result.set_index("model").loc[[m for m in order if m in set(result["model"])]].reset_index()


def holm_adjust(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm-adjusted p-values of a family of comparisons (statsmodels ``multipletests``).

    NaN p-values (comparisons not tested, e.g. one seed) stay NaN and are not part of the family.

    References
    ----------
    Holm, S. (1979), A simple sequentially rejective multiple test procedure.
    """
    from statsmodels.stats.multitest import multipletests

    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, math.nan)
    tested = np.isfinite(p_values)
    if tested.any():
        adjusted[tested] = multipletests(p_values[tested], alpha=alpha, method="holm")[1]
    return adjusted


def outcome_of(effect: float, p_adjusted: float, alpha: float = 0.05) -> str:
    """Win / Loss when the adjusted p-value is below ``alpha`` (by the effect's sign), Tie otherwise."""
    if not math.isfinite(p_adjusted) or p_adjusted >= alpha:
        return "Tie"
    return "Win" if effect > 0 else "Loss"


def signed_number(value: float) -> str:
    """``"+1.2"`` (one decimal, signed), ``"n/a"`` for NaN or infinity: how effects and interval ends are printed."""
    return f"{value:+.1f}" if math.isfinite(value) else "n/a"


def effect_sentences(table: pd.DataFrame, reference: str, baselines, *, confidence: float = CONFIDENCE) -> list[str]:
    """One sentence per baseline: ``reference``'s seed-level effect after the last round and its t interval.

    The same numbers as the verdict's cells (:func:`compare_over_seeds`), without an outcome:
    the outcome depends on the regime gate and on the Holm adjustment over the whole verdict
    table, which only the verdict (notebook 04) has.

    Returns
    -------
    list of str
        E.g. ``"diam vs random: +1.2 points [-1.4, +3.7] (95 % t interval over 3 seeds)"``;
        ``[n/a, n/a]`` with one seed.
    """
    sentences = []
    for baseline in baselines:
        row = compare_over_seeds(table, reference, baseline, confidence=confidence)
        sentences.append(f"{reference} vs {baseline}: {signed_number(row['effect'])} {row['unit']} "
                         f"[{signed_number(row['low'])}, {signed_number(row['high'])}] ({100 * confidence:.0f} % t interval "
                         f"over {row['n_seeds']} seed{'s' if row['n_seeds'] != 1 else ''})")
    return sentences
