"""One verdict: does DIAM beat each baseline, in every experiment this project ran?

Each experiment is one comparable set of runs (:class:`Experiment`: one dataset, one metric,
the same target models and seeds for every method). For each (experiment, baseline) the
verdict gives, from :mod:`diamlib.reporting.stats.seed_level` (the one path for "DIAM against a
baseline"):

- the **effect** after the last round with the seed as the unit of replication: per seed, the
  mean over the target models of DIAM's advantage (accuracy: points, DIAM minus baseline;
  errors: percent lower MSE than the baseline's); then the mean over the seeds with a 95 % t
  interval over the seeds. Positive always means DIAM is better;
- the **outcome**: *Win* / *Loss* when the seed-level t-test, **Holm-adjusted** over every
  comparison of the table that can test the claim, is significant at ``alpha`` (by the
  effect's sign); *Tie* otherwise. The interval shown is the unadjusted one;
- **the paper's test**: in each seed, the paired t-test over the target models after the last
  round (Sec. 6.2), counted as W/T/L over the seeds;
- the **minimum detectable effect** (80 % power at the experiment's seeds and the spread of
  its per-seed effects) against random;
- for the multi-model claim (every model gains), the **models gaining**: models whose own
  interval over the seeds lies above 0, beside the count of positive point estimates;
- the **regime gate** (:mod:`diamlib.reporting.stats.regime`): a row whose runs cannot test
  the claim reads "cannot test the claim" instead of Win/Tie/Loss, and is left out of the
  adjustment's family;
- **which DIAM ran**: wherever the DIAM method is shown, its solver and ``beta``
  (:func:`diam_settings`).

References
----------
Sec. 6.2 (paired t-test over the target models, Table 2) and the claim of Sec. 1 that one
labeled set trains all target models well; inference over seeds, the adjustment, the gate and
the minimum detectable effect are ours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from diamlib.config import SKLEARN_DIR
from diamlib.fileio import atomic_write_text
from diamlib.paths import figures_dir, tables_dir
from diamlib.reporting.plots import save_figure
from diamlib.reporting.report import save_table
from diamlib.reporting.results import NoResultsError, load_constant_predictor, load_results, vote_diagnostics
from diamlib.reporting.stats import order_methods, reference_methods
from diamlib.reporting.stats.regime import GATE_DEFINITION, GateResult, constant_gate, regime_gate
from diamlib.reporting.stats.seed_level import (ADJUSTMENT, CONFIDENCE, POWER, compare_over_seeds, holm_adjust,
                                                outcome_of, per_model_over_seeds)
from diamlib.runstore import RunStore

#: What a row that fails the regime gate reads instead of Win/Tie/Loss.
CANNOT_TEST = "cannot test the claim"
#: What a row with one seed reads (no interval over the seeds, no test).
TOO_FEW_SEEDS = "one seed: no test"
#: The baseline of the multi-model claim and of the minimum-detectable-effect column.
CLAIM_BASELINE = "random"


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
        The regime numbers in words ("" when none were recorded).
    gate : GateResult
        Whether the runs can test the claim (:mod:`diamlib.reporting.stats.regime`); passes by default.
    settings : str
        Which DIAM ran, e.g. ``"solver greedy-swap, beta -1"`` (:func:`diam_settings`; "" when unknown).
    """

    name: str
    results: pd.DataFrame
    reference: str
    baselines: tuple[str, ...]
    regime: str = ""
    gate: GateResult = GateResult(True)
    settings: str = ""

    @property
    def reference_label(self) -> str:
        """The DIAM method with its settings, as the verdict shows it: ``"diam (solver greedy-swap, beta -1)"``."""
        return f"{self.reference} ({self.settings})" if self.settings else self.reference

    @property
    def metric(self) -> str:
        return str(self.results["metric"].iloc[0])


def verdict_method_note(alpha: float, n_family: int) -> str:
    """How the table's numbers are made, in words (printed under the table)."""
    return (f"Effect: per seed, the mean over the target models of DIAM's advantage after the last round; then the "
            f"mean over the seeds with a {100 * CONFIDENCE:.0f} % t interval over the seeds (the seed is the unit of "
            f"replication). Win/Loss: the seed-level t-test, {ADJUSTMENT}-adjusted over the table's {n_family} "
            f"comparisons that can test the claim, at alpha = {alpha}; Tie otherwise. \"paper's test W/T/L\": the "
            f"paper's paired t-test over the target models in each seed, counted over the seeds. MDE: the effect a "
            f"seed-level t-test detects with {100 * POWER:.0f} % power at the row's seeds and spread. Models gaining: "
            f"models whose interval over the seeds lies above 0 (point estimates above 0 in brackets).")


@dataclass(frozen=True)
class Verdict:
    """The verdict's parts: tidy rows, a display table, per-model gains, a forest plot, Markdown."""

    rows: pd.DataFrame
    table: pd.DataFrame
    per_model: pd.DataFrame
    figure: Figure
    notes: list[str] = field(default_factory=list)
    method_note: str = ""

    def markdown(self) -> str:
        """The display table as Markdown (the README's verdict), with how it is made and the gate under it."""
        header = "| experiment | " + " | ".join(self.table.columns) + " |"
        lines = [header, "|" + "---|" * (len(self.table.columns) + 1)]
        lines += ["| " + name + " | " + " | ".join(str(v) for v in row) + " |" for name, row in self.table.iterrows()]
        under = [text for text in (self.method_note, GATE_DEFINITION) if text]
        return "\n".join(lines) + "\n" + "".join(f"\n{text}\n" for text in under)


# --------------------------------------------------------------------------- effects
def verdict_rows(experiments: Sequence[Experiment], *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per (experiment, baseline): the seed-level effect, the Holm-adjusted outcome, the paper's test.

    Returns
    -------
    DataFrame
        ``experiment``, ``regime``, ``testable``, ``gate``, then the columns of
        :func:`~diamlib.reporting.stats.seed_level.compare_over_seeds`, ``p_holm`` (NaN for
        rows that cannot test the claim) and ``outcome`` (Win, Tie, Loss, :data:`TOO_FEW_SEEDS`
        or :data:`CANNOT_TEST`).
    """
    rows = []
    for experiment in experiments:
        for baseline in experiment.baselines:
            row = {"experiment": experiment.name, "regime": experiment.regime, "testable": experiment.gate.passes,
                   "gate": experiment.gate.text(), "gate_short": experiment.gate.short()}
            row.update(compare_over_seeds(experiment.results, experiment.reference, baseline, alpha=alpha))
            row["reference_settings"] = experiment.settings
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    family = table["testable"].to_numpy(bool)
    p_holm = np.full(len(table), math.nan)
    p_holm[family] = holm_adjust(table.loc[family, "p_value"].to_numpy(), alpha=alpha)
    table["p_holm"] = p_holm
    table["outcome"] = [(outcome_of(effect, p, alpha) if seeds > 1 else TOO_FEW_SEEDS) if testable else CANNOT_TEST
                        for effect, p, seeds, testable in zip(table["effect"], table["p_holm"], table["n_seeds"],
                                                              table["testable"])]
    return table


def per_model_gains(experiments: Sequence[Experiment], baseline: str = CLAIM_BASELINE) -> pd.DataFrame:
    """DIAM minus ``baseline`` for every target model, with a t interval over the seeds (the multi-model claim).

    Returns
    -------
    DataFrame
        One row per (experiment, model): ``effect`` (mean over seeds), ``low``, ``high`` (95 % t
        interval over the seeds; NaN with one seed), ``n_seeds``, ``gains`` (interval above 0),
        ``gains_point`` (effect above 0).
    """
    parts = []
    for experiment in experiments:
        if baseline not in experiment.baselines:
            continue
        models = per_model_over_seeds(experiment.results, experiment.reference, baseline)
        parts.append(models.assign(experiment=experiment.name, reference=experiment.reference_label))
    if not parts:
        return pd.DataFrame(columns=["experiment", "reference", "model", "effect", "low", "high", "n_seeds",
                                     "gains", "gains_point"])
    table = pd.concat(parts, ignore_index=True)
    return table[["experiment", "reference", "model", "effect", "low", "high", "n_seeds", "gains", "gains_point"]]


# --------------------------------------------------------------------------- presentation
def _number(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.1f}"


def _cell(row: pd.Series) -> str:
    return (f"{_number(row['effect'])} [{_number(row['low'])}, {_number(row['high'])}] {row['outcome']}; "
            f"paper's test {row['papers_win']}/{row['papers_tie']}/{row['papers_loss']}")


def verdict_sentences(rows: pd.DataFrame, baseline: str = CLAIM_BASELINE) -> list[str]:
    """One sentence per experiment: DIAM (with its settings) against ``baseline``, from the verdict's rows."""
    sentences = []
    for _, row in rows[rows["baseline"] == baseline].iterrows():
        settings = row.get("reference_settings", "")
        diam = f"{row['reference']} ({settings})" if settings else row["reference"]
        mde = f"{row['mde']:.1f}" if math.isfinite(row["mde"]) else "n/a"
        sentences.append(f"{row['experiment']}: DIAM {diam} vs {baseline} {_number(row['effect'])} {row['unit']} "
                         f"[{_number(row['low'])}, {_number(row['high'])}] over {row['n_seeds']} seed(s), "
                         f"{row['outcome']} (MDE {mde}); the paper's test per seed "
                         f"{row['papers_win']}/{row['papers_tie']}/{row['papers_loss']}")
    return sentences


def verdict_table(rows: pd.DataFrame, per_model: pd.DataFrame) -> pd.DataFrame:
    """Experiments x baselines of short text cells, then the MDE against random, the models gaining, the regime."""
    order = list(dict.fromkeys(rows["experiment"]))
    baselines = list(dict.fromkeys(rows["baseline"]))
    table = pd.DataFrame(index=pd.Index(order, name="experiment"), columns=["DIAM", "unit", "seeds", *baselines],
                         dtype=object).fillna("")
    for _, row in rows.iterrows():
        table.loc[row["experiment"], row["baseline"]] = _cell(row)
        settings = row.get("reference_settings", "")
        table.loc[row["experiment"], "DIAM"] = f"{row['reference']} ({settings})" if settings else row["reference"]
        table.loc[row["experiment"], "unit"] = row["unit"]
        table.loc[row["experiment"], "seeds"] = str(row["n_seeds"])
    against = rows[rows["baseline"] == CLAIM_BASELINE].set_index("experiment")
    table[f"MDE vs {CLAIM_BASELINE} ({100 * POWER:.0f} % power)"] = [
        (f"{against.loc[e, 'mde']:.1f}" if math.isfinite(against.loc[e, "mde"]) else "n/a") if e in against.index
        else "" for e in order]
    if len(per_model):
        gains = per_model.groupby("experiment").agg(interval=("gains", "sum"), point=("gains_point", "sum"),
                                                    size=("gains", "size"))
    table[f"models gaining vs {CLAIM_BASELINE}: interval > 0 (point > 0)"] = [
        f"{int(gains.loc[e, 'interval'])} of {int(gains.loc[e, 'size'])} ({int(gains.loc[e, 'point'])})"
        if len(per_model) and e in gains.index else "" for e in order]
    first = rows.groupby("experiment", sort=False).first()
    table["regime"] = ["; ".join(t for t in (first.loc[e, "regime"], first.loc[e, "gate_short" if first.loc[e, "regime"]
                                                                  else "gate"]) if t) for e in order]
    return table


#: Colour of each outcome in the forest plot.
OUTCOME_COLOURS = {"Win": "#2e7d32", "Tie": "#757575", "Loss": "#c62828", TOO_FEW_SEEDS: "#757575",
                   CANNOT_TEST: "#bdbdbd"}


def plot_forest(rows: pd.DataFrame) -> Figure:
    """Forest plot: DIAM's seed-level effect with its 95 % t interval over seeds, one line per comparison.

    One panel per unit (accuracy points, percent lower MSE); a Win is green, a Loss red, a Tie
    grey, a row that cannot test the claim light grey (hollow marker).
    """
    units = list(dict.fromkeys(rows["unit"]))
    heights = [max(2.0, 0.28 * (rows["unit"] == unit).sum() + 0.8) for unit in units]
    fig, axes = plt.subplots(len(units), 1, figsize=(7.5, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, constrained_layout=True)
    for ax, unit in zip(axes[:, 0], units):
        part = rows[rows["unit"] == unit].iloc[::-1]
        y = np.arange(len(part))
        for position, (_, row) in zip(y, part.iterrows()):
            colour = OUTCOME_COLOURS[row["outcome"]]
            ax.plot([row["low"], row["high"]], [position, position], color=colour, linewidth=2)
            ax.plot(row["effect"], position, "o", color=colour, markersize=5,
                    markerfacecolor="white" if row["outcome"] == CANNOT_TEST else colour)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, [f"{row['experiment']} vs {row['baseline']}" for _, row in part.iterrows()],
                      fontsize="small")
        ax.set_xlabel(f"DIAM's advantage after the last round ({unit}; {100 * CONFIDENCE:.0f} % t interval over seeds)")
    fig.suptitle("Does DIAM beat each baseline? (right of the line: DIAM better)")
    return fig


def verdict(experiments: Sequence[Experiment], *, alpha: float = 0.05) -> Verdict:
    """The verdict over ``experiments`` (see the module docstring)."""
    if not experiments:
        raise NoResultsError("no experiment to judge: run notebooks 02, 03 or 05 for this profile first")
    rows = verdict_rows(experiments, alpha=alpha)
    per_model = per_model_gains(experiments)
    notes = [f"{e.name}: " + "; ".join(t for t in (e.regime, e.gate.text()) if t)
             for e in experiments if e.regime or not e.gate.passes]
    figure = plot_forest(rows)
    plt.close(figure)  # shown where the caller displays it, not again at the end of a notebook cell
    return Verdict(rows=rows, table=verdict_table(rows, per_model), per_model=per_model, figure=figure, notes=notes,
                   method_note=verdict_method_note(alpha, int(rows["p_holm"].notna().sum())))


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


def round_zero_regime(votes: pd.DataFrame, results: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The per-seed regime numbers the gate reads (:data:`~diamlib.reporting.stats.regime.REGIME_COLUMNS`).

    Parameters
    ----------
    votes : DataFrame
        :func:`round_zero_votes` of ``reference``'s runs (may be empty: not recorded).
    results : DataFrame
        Tidy accuracy results of the experiment.

    Returns
    -------
    DataFrame
        One row per seed of ``reference``: ``seed``, ``in some DIS region``, ``max-vote tie``
        (NaN where the votes were not recorded) and ``round-0 accuracy`` (mean over the target
        models).
    """
    first = results[(results["method"] == reference) & (results["round"] == results["round"].min())]
    accuracy = first.groupby("seed")["value"].mean().rename("round-0 accuracy")
    if votes.empty:
        votes = pd.DataFrame(columns=["seed", "in some DIS region", "max-vote tie"])
    numbers = votes.set_index("seed")[["in some DIS region", "max-vote tie"]].astype(float)
    return numbers.join(accuracy, how="right").reset_index()


def _span(values: Sequence[float], scale: float = 1.0, unit: str = "") -> str:
    low, high = scale * min(values), scale * max(values)
    return f"{low:.0f}{unit}" if round(low) == round(high) else f"{low:.0f}-{high:.0f}{unit}"


def disagreement_regime(round_zero: pd.DataFrame, batch_size: int) -> str:
    """The regime numbers of a classification experiment in words, from DIAM's round-0 runs.

    The share of the pool in some model's disagreement region, how many points share the top
    vote against the batch size and the target models' mean accuracy, each as its range over
    the seeds; the gate (:func:`~diamlib.reporting.stats.regime.regime_gate`) says what they mean.
    """
    if round_zero.empty:
        return ""
    parts = []
    shares = round_zero["in some DIS region"].dropna().tolist() if "in some DIS region" in round_zero else []
    ties = round_zero["max-vote tie"].dropna().tolist() if "max-vote tie" in round_zero else []
    accuracy = round_zero["round-0 accuracy"].dropna().tolist() if "round-0 accuracy" in round_zero else []
    if shares:
        parts.append(f"{_span(shares, 100, ' %')} of the pool in some model's disagreement region")
    if ties:
        parts.append(f"{_span(ties)} points share the top vote, for a batch of {batch_size}")
    if accuracy:
        parts.append(f"round-0 accuracy {_span(accuracy, 100, ' %')}")
    return ("at round 0: " + "; ".join(parts)) if parts else ""


def _constant_counts(results: pd.DataFrame, constant: pd.DataFrame) -> tuple[int, int, float]:
    """Final (run, model) MSE values not better than the constant predictor, how many were compared, the worst ratio."""
    if constant.empty:
        return 0, 0, math.nan
    final = results[(results["metric"] == "mse") & (results["round"] == results["round"].max())]
    reference = constant[(constant["metric"] == "mse") & (constant["round"] == constant["round"].max())]
    joined = final.merge(reference[["dataset", "method", "seed", "value"]].rename(columns={"value": "constant"}),
                         on=["dataset", "method", "seed"])
    if joined.empty:
        return 0, 0, math.nan
    worse = int((joined["value"] >= joined["constant"]).sum())
    return worse, len(joined), float((joined["value"] / joined["constant"]).max())


def constant_regime(results: pd.DataFrame, constant: pd.DataFrame) -> str:
    """The regime note of a regression experiment: models not better than the constant predictor."""
    worse, compared, highest = _constant_counts(results, constant)
    if compared == 0:
        return "constant predictor not recorded"
    if worse:
        return (f"{worse} of {compared} final (run, model) values not better than the constant predictor: "
                f"those models learnt nothing")
    return f"every model beats the constant predictor after the last round (at most {100 * highest:.0f} % of its MSE)"


def _batch_size(results: pd.DataFrame) -> int:
    """Labels added by one query round (the difference of the first two label counts)."""
    counts = sorted(results["n_labeled"].unique())
    return int(counts[1] - counts[0]) if len(counts) > 1 else 0


#: The options of a DIAM strategy that decide which DIAM ran, in the order they are shown.
DECIDING_OPTIONS = ("solver", "beta")


def diam_settings(strategy: str, options: dict) -> str:
    """The deciding options of a DIAM run, defaults filled in from the strategy's options model.

    Parameters
    ----------
    strategy : str
        Registered strategy name (``diam``, ``diam-svd``, ...).
    options : dict
        The run's ``strategy_options`` (``run.json``): only the options the profile set.

    Returns
    -------
    str
        E.g. ``"solver greedy-swap, beta -1"``; ``""`` for a strategy without such options.

    References
    ----------
    Eq. 9 (the trade-off ``beta``) and its solvers: greedy-swap (ours) and the authors' recipe.
    """
    from diamlib.strategies.registry import get_strategy

    resolved = get_strategy(strategy).options_model(**(options or {})).model_dump()
    return ", ".join(f"{name} {resolved[name]:g}" if isinstance(resolved[name], float) else f"{name} {resolved[name]}"
                     for name in DECIDING_OPTIONS if name in resolved)


def _run_settings(root: Path, task: str, dataset: str, reference: str) -> str:
    """:func:`diam_settings` of ``reference``'s runs under ``root`` (the first seed's ``run.json``)."""
    for folder in sorted((Path(root) / task / dataset / reference).glob("seed*")):
        store = RunStore(folder)
        if store.exists():
            meta = store.read_meta()
            return diam_settings(meta["strategy"], meta.get("strategy_options") or {})
    return ""


def split_methods(rows: pd.DataFrame, task: str) -> tuple[list[str], tuple[str, ...]]:
    """The DIAM methods of ``rows`` and their baselines, from the strategy registry.

    References are the registry's proposed strategies of ``task`` that ran
    (:func:`~diamlib.reporting.stats.reference_methods`); baselines are the methods whose
    strategy is not a proposed one (so a DIAM variant, e.g. another beta, is neither).
    """
    proposed = set(reference_methods(task))
    methods = order_methods(rows["method"])
    strategy_of = rows.groupby("method")["strategy"].first()
    references = [m for m in methods if m in proposed]
    baselines = tuple(m for m in methods if strategy_of[m] not in proposed)
    return references, baselines


def _task_experiments(root: Path, task: str, family: str, record: str) -> list[Experiment]:
    try:
        results = load_results(root, task=task)
    except NoResultsError:
        return []
    metric = "accuracy" if task == "classification" else "mse"
    constant = load_constant_predictor(root) if task == "regression" else None
    experiments = []
    for dataset, rows in results[results["metric"] == metric].groupby("dataset", sort=False):
        references, baselines = split_methods(rows, task)
        for reference in references:
            if task == "classification":
                numbers = round_zero_regime(round_zero_votes(root, dataset, reference), rows, reference)
                regime = disagreement_regime(numbers, _batch_size(rows))
                gate = regime_gate(numbers, _batch_size(rows))
            else:
                regime = constant_regime(rows, constant)
                gate = constant_gate(*_constant_counts(rows, constant)[:2])
            label = f", {reference}" if len(references) > 1 else ""
            experiments.append(Experiment(name=f"{family}, {dataset}{label} ({record})", results=rows,
                                          reference=reference, baselines=baselines, regime=regime, gate=gate,
                                          settings=_run_settings(root, task, dataset, reference)))
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
