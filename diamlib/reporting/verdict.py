"""One verdict: does DIAM beat each baseline, in every experiment this project ran?

Each experiment is one comparable set of runs (:class:`Experiment`: one dataset, one metric,
the same target models and seeds for every method). For each (experiment, baseline) the
verdict gives

- the **effect**: DIAM's advantage after the last round, pooled over the (model, seed) pairs
  (the same model and seed under both methods share their initial labels and initial
  weights), with a 95 % confidence interval (t interval over the pairs). Accuracy: points
  (DIAM minus baseline); errors (MSE): percent lower than the baseline's (per pair,
  ``100 (baseline - DIAM) / baseline``). Positive always means DIAM is better. *Win* / *Loss*:
  the interval lies above / below zero; *Tie* otherwise;
- the **paper's test per seed**: in each seed, the paired t-test over the target models after
  the last round (Sec. 6.2), counted as W/T/L over the seeds;
- for the multi-model claim (every model gains), DIAM minus random **per target model**,
  averaged over the seeds, and how many models gain;
- the **regime**: where the runs cannot test the claim well, a note beside the number (the
  round-0 share of the pool in some model's disagreement region, or regression models no
  better than the constant predictor).

The pairs of one model share its architecture, so they are not independent draws: read the
intervals as a summary of the evidence over seeds and models.

References
----------
Sec. 6.2 (paired t-test over the target models, Table 2) and the claim of Sec. 1 that one
labeled set trains all target models well; pooling over seeds and intervals are ours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as scipy_stats

from diamlib.config import SKLEARN_DIR
from diamlib.fileio import atomic_write_text
from diamlib.paths import figures_dir, tables_dir
from diamlib.reporting.plots import save_figure
from diamlib.reporting.report import save_table
from diamlib.reporting.results import NoResultsError, load_constant_predictor, load_results, vote_diagnostics
from diamlib.reporting.stats import higher_is_better, paired_outcome

#: The DIAM method of each task's verdict, and the other DIAM variants that are not baselines.
REFERENCES = {"classification": ("diam",), "regression": ("diam-svd", "diam-leverage")}
#: Share of the pool in some disagreement region at round 0 above which the votes barely rank it.
SATURATED_DISAGREEMENT = 0.9
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Experiment:
    """One comparable set of runs.

    Attributes
    ----------
    name : str
        How the verdict names it, e.g. ``"OFA subnets, fashion-mnist"``.
    results : DataFrame
        Tidy results (:func:`~diamlib.reporting.results.load_results`) of one dataset and one
        metric.
    reference : str
        The DIAM method (``diam``, ``diam-svd``, ...).
    baselines : tuple of str
        The methods it is compared with.
    regime : str
        What limits the test in this regime ("" when nothing does).
    """

    name: str
    results: pd.DataFrame
    reference: str
    baselines: tuple[str, ...]
    regime: str = ""

    @property
    def metric(self) -> str:
        return str(self.results["metric"].iloc[0])


@dataclass(frozen=True)
class Verdict:
    """The verdict's parts: tidy rows, a display table, per-model gains, a forest plot, Markdown."""

    rows: pd.DataFrame
    table: pd.DataFrame
    per_model: pd.DataFrame
    figure: Figure
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The display table as Markdown (the README's verdict)."""
        header = "| experiment | " + " | ".join(self.table.columns) + " |"
        lines = [header, "|" + "---|" * (len(self.table.columns) + 1)]
        lines += ["| " + name + " | " + " | ".join(str(v) for v in row) + " |" for name, row in self.table.iterrows()]
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- effects
def pair_effects(results: pd.DataFrame, reference: str, baseline: str) -> pd.Series:
    """DIAM's advantage over ``baseline`` after the last round, per (model, seed) pair.

    Returns
    -------
    Series
        Index (model, seed); accuracy-like metrics: ``100 (reference - baseline)`` (points);
        errors: ``100 (baseline - reference) / baseline`` (percent lower). Positive = DIAM better.
    """
    last = results[results["round"] == results["round"].max()]
    values = last.pivot_table(index=["model", "seed"], columns="method", values="value")
    both = values[[reference, baseline]].dropna()
    if higher_is_better(str(results["metric"].iloc[0])):
        return 100.0 * (both[reference] - both[baseline])
    return 100.0 * (both[baseline] - both[reference]) / both[baseline]


def interval(effects: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """Mean, t-interval bounds and two-sided p-value of a paired effect (zero-variance safe)."""
    effects = np.asarray(effects, dtype=np.float64)
    mean = float(effects.mean())
    spread = float(effects.std(ddof=1)) if effects.size > 1 else 0.0
    if spread == 0.0:
        return mean, mean, mean, (1.0 if mean == 0.0 else 0.0)
    half = scipy_stats.t.ppf(0.5 + confidence / 2, effects.size - 1) * spread / np.sqrt(effects.size)
    p_value = float(scipy_stats.ttest_1samp(effects, 0.0).pvalue)
    return mean, mean - half, mean + half, p_value


def outcome_of(low: float, high: float) -> str:
    """Win when the interval lies above zero, Loss below, Tie otherwise."""
    return "Win" if low > 0 else ("Loss" if high < 0 else "Tie")


def per_seed_wtl(results: pd.DataFrame, reference: str, baseline: str, alpha: float) -> dict[str, int]:
    """The paper's test (paired over the target models, after the last round), counted over the seeds."""
    last = results[results["round"] == results["round"].max()]
    counts = {"Win": 0, "Tie": 0, "Loss": 0}
    higher = higher_is_better(str(results["metric"].iloc[0]))
    for _, seed_rows in last.groupby("seed"):
        values = seed_rows.pivot_table(index="model", columns="method", values="value")[[reference, baseline]].dropna()
        outcome, _, _ = paired_outcome(values[reference].to_numpy(), values[baseline].to_numpy(),
                                       higher_better=higher, alpha=alpha)
        counts[outcome] += 1
    return counts


def verdict_rows(experiments: Sequence[Experiment], *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (experiment, baseline): the pooled effect with its interval and the per-seed W/T/L."""
    rows = []
    for experiment in experiments:
        unit = "points" if higher_is_better(experiment.metric) else "% lower MSE"
        for baseline in experiment.baselines:
            effects = pair_effects(experiment.results, experiment.reference, baseline)
            mean, low, high, p_value = interval(effects.to_numpy())
            seeds = per_seed_wtl(experiment.results, experiment.reference, baseline, alpha)
            rows.append({"experiment": experiment.name, "reference": experiment.reference, "baseline": baseline,
                         "metric": experiment.metric, "unit": unit, "n_pairs": int(effects.size),
                         "n_seeds": int(experiment.results["seed"].nunique()), "effect": mean, "low": low,
                         "high": high, "p_value": p_value, "outcome": outcome_of(low, high),
                         "seeds_win": seeds["Win"], "seeds_tie": seeds["Tie"], "seeds_loss": seeds["Loss"],
                         "regime": experiment.regime})
    return pd.DataFrame(rows)


def per_model_gains(experiments: Sequence[Experiment], baseline: str = "random") -> pd.DataFrame:
    """DIAM minus ``baseline`` for every target model, averaged over the seeds (the multi-model claim).

    Returns
    -------
    DataFrame
        One row per (experiment, model): ``effect`` (mean over seeds, the units of
        :func:`pair_effects`), ``low``, ``high`` (95 % t interval over the seeds; equal to the
        mean with one seed), ``n_seeds``, ``gains`` (effect > 0).
    """
    rows = []
    for experiment in experiments:
        if baseline not in experiment.baselines:
            continue
        effects = pair_effects(experiment.results, experiment.reference, baseline)
        for model, per_seed in effects.groupby(level="model", sort=False):
            mean, low, high, _ = interval(per_seed.to_numpy())
            rows.append({"experiment": experiment.name, "reference": experiment.reference, "model": model,
                         "effect": mean, "low": low, "high": high, "n_seeds": int(per_seed.size), "gains": mean > 0})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- presentation
def _cell(row: pd.Series) -> str:
    return (f"{row['effect']:+.1f} [{row['low']:+.1f}, {row['high']:+.1f}] {row['outcome']}; "
            f"seeds {row['seeds_win']}/{row['seeds_tie']}/{row['seeds_loss']}")


def verdict_table(rows: pd.DataFrame, per_model: pd.DataFrame) -> pd.DataFrame:
    """Experiments x baselines of short text cells, then the models that gain over random, the regime."""
    order = list(dict.fromkeys(rows["experiment"]))
    baselines = list(dict.fromkeys(rows["baseline"]))
    table = pd.DataFrame(index=pd.Index(order, name="experiment"), columns=["DIAM", "unit", *baselines],
                         dtype=object).fillna("")
    for _, row in rows.iterrows():
        table.loc[row["experiment"], row["baseline"]] = _cell(row)
        table.loc[row["experiment"], "DIAM"] = row["reference"]
        table.loc[row["experiment"], "unit"] = row["unit"]
    gains = per_model.groupby("experiment")["gains"].agg(["sum", "size"]) if len(per_model) else None
    table["models gaining vs random"] = [f"{int(gains.loc[e, 'sum'])} of {int(gains.loc[e, 'size'])}"
                                         if gains is not None and e in gains.index else "" for e in order]
    table["regime"] = [rows.loc[rows["experiment"] == e, "regime"].iloc[0] for e in order]
    return table


def plot_forest(rows: pd.DataFrame) -> Figure:
    """Forest plot: DIAM's pooled effect with its 95 % interval, one line per (experiment, baseline).

    One panel per unit (accuracy points, percent lower MSE); a Win is green, a Loss red, a Tie grey.
    """
    units = list(dict.fromkeys(rows["unit"]))
    heights = [max(2.0, 0.28 * (rows["unit"] == unit).sum() + 0.8) for unit in units]
    fig, axes = plt.subplots(len(units), 1, figsize=(7.5, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, constrained_layout=True)
    colours = {"Win": "#2e7d32", "Tie": "#757575", "Loss": "#c62828"}
    for ax, unit in zip(axes[:, 0], units):
        part = rows[rows["unit"] == unit].iloc[::-1]
        y = np.arange(len(part))
        for position, (_, row) in zip(y, part.iterrows()):
            ax.plot([row["low"], row["high"]], [position, position], color=colours[row["outcome"]], linewidth=2)
            ax.plot(row["effect"], position, "o", color=colours[row["outcome"]], markersize=5)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, [f"{row['experiment']} vs {row['baseline']}" for _, row in part.iterrows()],
                      fontsize="small")
        ax.set_xlabel(f"DIAM's advantage after the last round ({unit}; 95 % interval over (model, seed) pairs)")
    fig.suptitle("Does DIAM beat each baseline? (right of the line: DIAM better)")
    return fig


def verdict(experiments: Sequence[Experiment], *, alpha: float = 0.05) -> Verdict:
    """The verdict over ``experiments`` (see the module docstring)."""
    if not experiments:
        raise NoResultsError("no experiment to judge: run notebooks 02, 03 or 05 for this profile first")
    rows = verdict_rows(experiments, alpha=alpha)
    per_model = per_model_gains(experiments)
    notes = [f"{e.name}: {e.regime}" for e in experiments if e.regime]
    figure = plot_forest(rows)
    plt.close(figure)  # shown where the caller displays it, not again at the end of a notebook cell
    return Verdict(rows=rows, table=verdict_table(rows, per_model), per_model=per_model, figure=figure, notes=notes)


#: File stem of the verdict's tables (CSV, Markdown) and forest plot.
VERDICT_STEM = "04_verdict"


def save_verdict(result: Verdict, out_dir: Path) -> list[Path]:
    """Write the verdict under a profile's results folder.

    ``tables/04_verdict.csv`` (the tidy rows), ``tables/04_verdict.md`` (the display table, as
    the README shows it), ``tables/04_verdict_per_model.csv`` and
    ``figures/04_verdict_forest.png`` / ``.svg``.

    Returns
    -------
    list of Path
        The files written.
    """
    tables = tables_dir(Path(out_dir))
    written = [save_table(result.rows, tables, VERDICT_STEM),
               save_table(result.per_model, tables, f"{VERDICT_STEM}_per_model")]
    markdown = tables / f"{VERDICT_STEM}.md"
    atomic_write_text(markdown, result.markdown())
    written.append(markdown)
    written += save_figure(result.figure, figures_dir(Path(out_dir)), f"{VERDICT_STEM}_forest")
    return written


# --------------------------------------------------------------------------- the project's experiments
def round_zero_votes(task_dir: Path, dataset: str, reference: str = "diam") -> pd.DataFrame:
    """Round-0 vote diagnostics of ``reference``'s runs, one row per seed (:func:`vote_diagnostics`)."""
    seeds = sorted(int(p.name.removeprefix("seed"))
                   for p in (Path(task_dir) / "classification" / dataset / reference).glob("seed*"))
    votes = vote_diagnostics(task_dir, [dataset], seeds, method=reference)
    return votes[votes["round"] == 0] if not votes.empty else votes


def _span(values: Sequence[float], scale: float = 1.0, unit: str = "") -> str:
    low, high = scale * min(values), scale * max(values)
    return f"{low:.0f}{unit}" if round(low) == round(high) else f"{low:.0f}-{high:.0f}{unit}"


def disagreement_regime(round_zero: pd.DataFrame, batch_size: int) -> str:
    """The regime note of a classification experiment from DIAM's round-0 votes.

    States the share of the pool in some model's disagreement region and how many points share
    the top vote against the batch size. With :data:`SATURATED_DISAGREEMENT` or more of the pool
    inside some region (the paper's regime has most of it outside every region), CAL is close to
    random sampling and the votes can only rank by how many models disagree: the note says so.
    """
    if round_zero.empty:
        return ""
    shares = round_zero["in some DIS region"].dropna().tolist()
    ties = round_zero["max-vote tie"].dropna().tolist()
    note = f"{_span(shares, 100, ' %')} of the pool in some model's disagreement region at round 0" if shares else ""
    if ties:
        note += f"; {_span(ties)} points share the top vote, for a batch of {batch_size}"
    if shares and min(shares) >= SATURATED_DISAGREEMENT:
        note += (": far from the paper's regime, where most of the pool leaves every region; CAL is then "
                 "close to random, and DIAM ranks by how many models disagree and by diversity")
    return note


def constant_regime(results: pd.DataFrame, constant: pd.DataFrame) -> str:
    """The regime note of a regression experiment: models not better than the constant predictor."""
    if constant.empty:
        return "constant predictor not recorded"
    final = results[(results["metric"] == "mse") & (results["round"] == results["round"].max())]
    reference = constant[(constant["metric"] == "mse") & (constant["round"] == constant["round"].max())]
    joined = final.merge(reference[["dataset", "method", "seed", "value"]].rename(columns={"value": "constant"}),
                         on=["dataset", "method", "seed"])
    worse = int((joined["value"] >= joined["constant"]).sum())
    if worse:
        return (f"{worse} of {len(joined)} final (run, model) values not better than the constant predictor: "
                f"those models learnt nothing, so they cannot test the claim")
    highest = 100 * (joined["value"] / joined["constant"]).max()
    return f"every model beats the constant predictor after the last round (at most {highest:.0f} % of its MSE)"


def _batch_size(results: pd.DataFrame) -> int:
    """Labels added by one query round (the difference of the first two label counts)."""
    counts = sorted(results["n_labeled"].unique())
    return int(counts[1] - counts[0]) if len(counts) > 1 else 0


def _task_experiments(root: Path, task: str, family: str, record: str) -> list[Experiment]:
    try:
        results = load_results(root, task=task)
    except NoResultsError:
        return []
    metric = "accuracy" if task == "classification" else "mse"
    constant = load_constant_predictor(root) if task == "regression" else None
    experiments = []
    for dataset, rows in results[results["metric"] == metric].groupby("dataset", sort=False):
        methods = list(dict.fromkeys(rows["method"]))
        references = [r for r in REFERENCES[task] if r in methods]
        baselines = tuple(m for m in methods if m not in REFERENCES[task])
        for reference in references:
            regime = (disagreement_regime(round_zero_votes(root, dataset, reference), _batch_size(rows))
                      if task == "classification" else constant_regime(rows, constant))
            label = f", {reference}" if len(references) > 1 else ""
            experiments.append(Experiment(name=f"{family}, {dataset}{label} ({record})", results=rows,
                                          reference=reference, baselines=baselines, regime=regime))
    return experiments


def project_experiments(profile_dir: Path, other_records: Sequence[Path] = ()) -> list[Experiment]:
    """Every experiment whose runs exist under a profile's folder and the other records named.

    Parameters
    ----------
    profile_dir : Path
        ``results/<profile>``: notebook 02's OFA classification runs, notebook 03's regression
        runs and notebook 05's scikit-learn runs (under ``sklearn/``).
    other_records : sequence of Path
        Further profile folders whose runs join the verdict where they exist (the profile's
        ``analysis.verdict_records``, e.g. ``results/gpu-lite``); a missing folder is skipped.

    Returns
    -------
    list of Experiment
        Named ``"<family>, <dataset>[, <DIAM variant>] (<profile>)"``.
    """
    experiments = []
    for root in [Path(profile_dir), *map(Path, other_records)]:
        if not root.is_dir():
            continue
        experiments += _task_experiments(root, "classification", "OFA subnets", root.name)
        experiments += _task_experiments(root / SKLEARN_DIR, "classification", "scikit-learn models", root.name)
        experiments += _task_experiments(root, "regression", "OFA subnets, regression", root.name)
    return experiments
