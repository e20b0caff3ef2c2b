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
from diamlib.reporting.stats.paper_effects import paper_effect_vs_random
from diamlib.reporting.stats.regime import GATE_DEFINITION, GateResult, constant_gate, regime_gate
from diamlib.reporting.stats.seed_level import (ADJUSTMENT, CONFIDENCE, POWER, compare_over_seeds, holm_adjust,
                                                outcome_of, per_model_over_seeds, signed_number)
from diamlib.runstore import RunStore

#: What a row that fails the regime gate reads instead of Win/Tie/Loss.
CANNOT_TEST = "cannot test the claim"
#: What a row with one seed reads (no interval over the seeds, no test).
TOO_FEW_SEEDS = "one seed: no test"
#: The strategy whose comparison the regime gate's disagreement share decides (CAL, a random draw
#: from the union of the disagreement regions).
CAL_STRATEGY = "cal"
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
    variants : tuple of (str, str, str)
        Other runs of the same strategy with their settings and what they vary (``"solver"`` or
        ``"beta"``: the sweep), compared with ``reference`` by :func:`variant_rows`.
    experiment_group : str
        The name without the DIAM method (``""``: ``name``), shared by the experiments of one
        dataset; :func:`standing_rows` compares its baselines once.
    """

    name: str
    results: pd.DataFrame
    reference: str
    baselines: tuple[str, ...]
    regime: str = ""
    gate: GateResult = GateResult(True)
    settings: str = ""
    variants: tuple[tuple[str, str, str], ...] = ()
    experiment_group: str = ""

    @property
    def group(self) -> str:
        """The runs' name without the DIAM method (experiments of one dataset share it)."""
        return self.experiment_group or self.name

    @property
    def reference_label(self) -> str:
        """The DIAM method with its settings, as the verdict shows it: ``"diam (solver greedy-swap, beta -1)"``."""
        return f"{self.reference} ({self.settings})" if self.settings else self.reference

    @property
    def dataset(self) -> str:
        return str(self.results["dataset"].iloc[0])

    def strategy_of(self, method: str) -> str:
        """The registered strategy that ``method``'s runs used."""
        found = self.results.loc[self.results["method"] == method, "strategy"]
        return str(found.iloc[0]) if len(found) else method


def verdict_method_note(alpha: float, n_family: int) -> str:
    """How the table's numbers are made, in words (printed under the table)."""
    return (f"Effect: per seed, the mean over the target models of DIAM's advantage after the last round; then the "
            f"mean over the seeds with a {100 * CONFIDENCE:.0f} % t interval over the seeds (the seed is the unit of "
            f"replication). Win/Loss: the seed-level t-test, {ADJUSTMENT}-adjusted over the table's {n_family} "
            f"comparisons that can test the claim, at alpha = {alpha}; Tie otherwise. \"paper's test W/T/L\": the "
            f"paper's paired t-test over the target models in each seed, counted over the seeds. MDE: the effect a "
            f"seed-level t-test detects with {100 * POWER:.0f} % power at the row's seeds and spread. Models gaining: "
            f"models whose interval over the seeds lies above 0 (point estimates above 0 in brackets).")


def _markdown_table(table: pd.DataFrame, index_name: str) -> list[str]:
    header = f"| {index_name} | " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * (len(table.columns) + 1)]
    return lines + ["| " + str(name) + " | " + " | ".join(str(v) for v in row) + " |" for name, row in table.iterrows()]


#: Caption of the table of each baseline against random (under the verdict).
STANDING_CAPTION = ("Each baseline against random sampling (baseline minus random after the last round, the verdict's "
                    "units and 95 % t interval over the seeds; positive: the baseline beats random). A DIAM win over a "
                    "baseline that itself loses to random says little about DIAM.")
#: Caption of the table of DIAM's variants (another solver, the beta sweep).
VARIANTS_CAPTION = ("DIAM's variants against the verdict's DIAM (variant minus it after the last round, 95 % t interval "
                    "over the seeds; Win: the variant is better, Holm-adjusted over this table's comparisons): the "
                    "authors' solver recipe and the beta sweep of Sec. 6.4 (Table 3b).")


@dataclass(frozen=True)
class Verdict:
    """The verdict's parts: tidy rows, a display table, per-model gains, a forest plot, Markdown.

    ``variants`` (:func:`variant_rows`) and ``standing`` (:func:`standing_rows`) are the tables
    printed under the verdict: DIAM's other solvers and betas, and each baseline against random.
    """

    rows: pd.DataFrame
    table: pd.DataFrame
    per_model: pd.DataFrame
    figure: Figure
    notes: list[str] = field(default_factory=list)
    method_note: str = ""
    variants: pd.DataFrame = field(default_factory=pd.DataFrame)
    standing: pd.DataFrame = field(default_factory=pd.DataFrame)

    def markdown(self) -> str:
        """The display table as Markdown (the README's verdict), how it is made, the gate, then the two tables under it."""
        parts = ["\n".join(_markdown_table(self.table, "experiment"))]
        parts += [text for text in (self.method_note, GATE_DEFINITION) if text]
        if len(self.standing):
            parts += [STANDING_CAPTION, "\n".join(_markdown_table(standing_table(self.standing), "experiment"))]
        if len(self.variants):
            parts += [VARIANTS_CAPTION, "\n".join(_markdown_table(variants_table(self.variants), "experiment"))]
            parts += sweep_sentences(self.variants)
        return "\n\n".join(parts) + "\n"


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
            cal_is_random = experiment.gate.cal_is_random and experiment.strategy_of(baseline) == CAL_STRATEGY
            gate = experiment.gate.text() or (f"cannot test the claim: {experiment.gate.cal_reason}"
                                              if cal_is_random else "")
            row = {"experiment": experiment.name, "dataset": experiment.dataset, "regime": experiment.regime,
                   "testable": experiment.gate.passes and not cal_is_random,
                   "gate": gate, "gate_short": experiment.gate.short(),
                   "gate_long": "; ".join(t for t in (experiment.gate.text(), experiment.gate.cal_reason) if t)}
            row.update(compare_over_seeds(experiment.results, experiment.reference, baseline, alpha=alpha))
            row["reference_settings"] = experiment.settings
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return _judge(table, table["testable"].to_numpy(bool), alpha)


def _judge(table: pd.DataFrame, family: np.ndarray, alpha: float) -> pd.DataFrame:
    """Add ``p_holm`` (Holm over the rows of ``family``, NaN elsewhere) and ``outcome`` to comparison rows.

    ``outcome``: Win / Tie / Loss from the adjusted p-value, :data:`TOO_FEW_SEEDS` with one seed,
    :data:`CANNOT_TEST` outside ``family``.
    """
    p_holm = np.full(len(table), math.nan)
    p_holm[family] = holm_adjust(table.loc[family, "p_value"].to_numpy(), alpha=alpha)
    table["p_holm"] = p_holm
    table["outcome"] = [(outcome_of(effect, p, alpha) if seeds > 1 else TOO_FEW_SEEDS) if testable else CANNOT_TEST
                        for effect, p, seeds, testable in zip(table["effect"], table["p_holm"], table["n_seeds"],
                                                              family)]
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


def variant_rows(experiments: Sequence[Experiment], *, alpha: float = 0.05) -> pd.DataFrame:
    """Each DIAM variant against its strategy's own method: another solver, and the beta sweep (Table 3b).

    Same seed-level inference as :func:`verdict_rows` (variant minus the method, mean over the
    target models per seed, t interval over the seeds), Holm-adjusted over the variants' family.

    Returns
    -------
    DataFrame
        ``experiment``, ``variant`` and ``against`` (each with its settings), ``varies``, then the columns
        of :func:`~diamlib.reporting.stats.seed_level.compare_over_seeds`, ``p_holm`` and
        ``outcome`` (Win: the variant is better; empty when no experiment has variants).

    References
    ----------
    Sec. 6.4 and Table 3b of the paper (beta in {-0.1, -1, -10}).
    """
    rows = []
    for experiment in experiments:
        for variant, settings, varies in experiment.variants:
            row = {"experiment": experiment.name, "variant": f"{variant} ({settings})" if settings else variant,
                   "against": experiment.reference_label, "varies": varies}
            row.update(compare_over_seeds(experiment.results, variant, experiment.reference, alpha=alpha))
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return _judge(table, np.ones(len(table), bool), alpha)


def standing_rows(experiments: Sequence[Experiment], baseline: str = CLAIM_BASELINE) -> pd.DataFrame:
    """Each other baseline against ``baseline`` (random): what a win over that baseline is worth.

    A win over a baseline that itself loses to random sampling says little; this table gives
    every baseline's seed-level effect against random, in the verdict's units (positive: the
    baseline is better than random).

    Returns
    -------
    DataFrame
        One row per (experiment, baseline): ``experiment``, ``baseline``, ``effect``, ``low``,
        ``high``, ``n_seeds``, ``unit``.
    """
    rows, seen = [], set()
    for experiment in experiments:
        if baseline not in experiment.baselines:
            continue
        for other in experiment.baselines:
            if other == baseline or (experiment.group, other) in seen:
                continue
            seen.add((experiment.group, other))
            compared = compare_over_seeds(experiment.results, other, baseline)
            rows.append({"experiment": experiment.group, "baseline": other, "effect": compared["effect"],
                         "low": compared["low"], "high": compared["high"], "n_seeds": compared["n_seeds"],
                         "unit": compared["unit"]})
    return pd.DataFrame(rows, columns=["experiment", "baseline", "effect", "low", "high", "n_seeds", "unit"])


# --------------------------------------------------------------------------- presentation
def _cell(row: pd.Series) -> str:
    return (f"{signed_number(row['effect'])} [{signed_number(row['low'])}, {signed_number(row['high'])}] {row['outcome']}; "
            f"paper's test {row['papers_win']}/{row['papers_tie']}/{row['papers_loss']}")


def verdict_sentences(rows: pd.DataFrame, baseline: str = CLAIM_BASELINE) -> list[str]:
    """One sentence per experiment: DIAM (with its settings) against ``baseline``, from the verdict's rows."""
    sentences = []
    for _, row in rows[rows["baseline"] == baseline].iterrows():
        settings = row.get("reference_settings", "")
        diam = f"{row['reference']} ({settings})" if settings else row["reference"]
        mde = f"{row['mde']:.1f}" if math.isfinite(row["mde"]) else "n/a"
        sentences.append(f"{row['experiment']}: DIAM {diam} vs {baseline} {signed_number(row['effect'])} {row['unit']} "
                         f"[{signed_number(row['low'])}, {signed_number(row['high'])}] over {row['n_seeds']} seed(s), "
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
    first = rows.groupby("experiment", sort=False).first()
    table[f"the paper's effect vs {CLAIM_BASELINE}"] = [paper_effect_vs_random(first.loc[e, "dataset"]) for e in order]
    if len(per_model):
        gains = per_model.groupby("experiment").agg(interval=("gains", "sum"), point=("gains_point", "sum"),
                                                    size=("gains", "size"))
    table[f"models gaining vs {CLAIM_BASELINE}: interval > 0 (point > 0)"] = [
        f"{int(gains.loc[e, 'interval'])} of {int(gains.loc[e, 'size'])} ({int(gains.loc[e, 'point'])})"
        if len(per_model) and e in gains.index else "" for e in order]
    table["regime"] = ["; ".join(t for t in (first.loc[e, "regime"], first.loc[e, "gate_short" if first.loc[e, "regime"]
                                                                  else "gate_long"]) if t) for e in order]
    return table


def _interval_text(row: pd.Series) -> str:
    return f"{signed_number(row['effect'])} [{signed_number(row['low'])}, {signed_number(row['high'])}]"


def standing_table(standing: pd.DataFrame) -> pd.DataFrame:
    """Experiments x baselines of :func:`standing_rows` cells ``"-8.1 [-12.0, -4.2]"``, then the unit."""
    table = standing.assign(cell=standing.apply(_interval_text, axis=1)).pivot(
        index="experiment", columns="baseline", values="cell")
    table = table.loc[list(dict.fromkeys(standing["experiment"])), list(dict.fromkeys(standing["baseline"]))]
    table["unit"] = standing.groupby("experiment")["unit"].first().loc[table.index]
    return table.fillna("")


def variants_table(variants: pd.DataFrame) -> pd.DataFrame:
    """One line per variant: which DIAM, against which, the effect with its interval, the outcome."""
    table = pd.DataFrame({"variant": variants["variant"], "against": variants["against"],
                          "effect [95 % interval]": variants.apply(_interval_text, axis=1),
                          "unit": variants["unit"], "seeds": variants["n_seeds"], "outcome": variants["outcome"]})
    return table.set_index(variants["experiment"].rename("experiment"))


def sweep_sentences(variants: pd.DataFrame) -> list[str]:
    """Per experiment: does the beta sweep leave the verdict's beta, from the variants' outcomes."""
    sentences = []
    for experiment, part in variants.groupby("experiment", sort=False):
        sweep = part[part["varies"] == "beta"]
        if sweep.empty:
            continue
        against = sweep["against"].iloc[0]
        better = sweep[sweep["outcome"] == "Win"]
        if better.empty:
            sentences.append(f"{experiment}: no other beta beats {against} after the Holm adjustment, so the sweep "
                             f"gives no reason to leave its beta.")
        else:
            sentences.append(f"{experiment}: {', '.join(better['variant'])} beats {against} after the Holm "
                             f"adjustment: the sweep favours another beta here.")
    return sentences


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
    notes = [f"{e.name}: " + "; ".join(t for t in (e.regime, e.gate.text(), e.gate.cal_reason) if t)
             for e in experiments if e.regime or not e.gate.passes or e.gate.cal_is_random]
    figure = plot_forest(rows)
    plt.close(figure)  # shown where the caller displays it, not again at the end of a notebook cell
    return Verdict(rows=rows, table=verdict_table(rows, per_model), per_model=per_model, figure=figure, notes=notes,
                   method_note=verdict_method_note(alpha, int(rows["p_holm"].notna().sum())),
                   variants=variant_rows(experiments, alpha=alpha), standing=standing_rows(experiments))


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
    written += [save_table(table, tables, f"{VERDICT_STEM}_{name}")
                for name, table in (("variants", result.variants), ("baselines_vs_random", result.standing))
                if len(table)]
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


def _settings_text(resolved: dict) -> str:
    """The deciding options of resolved strategy options, e.g. ``"solver greedy-swap, beta -1"``."""
    return ", ".join(f"{name} {resolved[name]:g}" if isinstance(resolved[name], float) else f"{name} {resolved[name]}"
                     for name in DECIDING_OPTIONS if name in resolved)


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

    return _settings_text(get_strategy(strategy).resolved_options(options))


@dataclass(frozen=True)
class _DiamRun:
    """The ``run.json`` of a DIAM method's first seed and its options with the defaults filled in."""

    meta: dict
    options: dict

    @property
    def solver(self) -> str:
        return str(self.options.get("solver", ""))

    @property
    def settings(self) -> str:
        return _settings_text(self.options)


def _diam_run(root: Path, task: str, dataset: str, method: str) -> _DiamRun:
    """The resolved options and model sizes of ``method``'s first seed under ``root`` (empty without a run)."""
    from diamlib.strategies.registry import get_strategy

    for folder in sorted((Path(root) / task / dataset / method).glob("seed*")):
        store = RunStore(folder)
        if store.exists():
            meta = store.read_meta()
            return _DiamRun(meta, get_strategy(meta["strategy"]).resolved_options(meta.get("strategy_options")))
    return _DiamRun({}, {})


def split_methods(rows: pd.DataFrame, task: str, solvers: dict[str, str] | None = None
                  ) -> tuple[list[str], tuple[str, ...]]:
    """The DIAM methods of ``rows`` that the verdict judges, and their baselines, from the strategy registry.

    References are the registry's proposed strategies of ``task`` that ran
    (:func:`~diamlib.reporting.stats.reference_methods`), then, for each further solver of a
    proposed strategy, its first variant (e.g. ``diam-authors``, ``solver: authors``), so that
    the solvers compare on accuracy. Variants that differ from a judged method only in other
    options (the beta sweep) are neither references nor baselines: :func:`variant_rows` compares
    them with their strategy's own method. Baselines are the methods whose strategy is not a
    proposed one.

    Parameters
    ----------
    rows : DataFrame
        Tidy results of one experiment.
    task : str
    solvers : dict, optional
        Method -> its solver (``""`` for strategies without one); read from the runs' options.
    """
    proposed = set(reference_methods(task))
    methods = order_methods(rows["method"])
    strategy_of = rows.groupby("method")["strategy"].first()
    solvers = solvers or {}
    references = [m for m in methods if m in proposed]
    judged = {(strategy_of[m], solvers.get(m, "")) for m in references}
    for method in methods:
        key = (strategy_of[method], solvers.get(method, ""))
        if strategy_of[method] in proposed and method not in proposed and key not in judged:
            references.append(method)
            judged.add(key)
    baselines = tuple(m for m in methods if strategy_of[m] not in proposed)
    return references, baselines


def _task_experiments(root: Path, task: str, family: str, record: str) -> list[Experiment]:
    try:
        results = load_results(root, task=task)
    except NoResultsError:
        return []
    metric = "accuracy" if task == "classification" else "mse"
    constant = load_constant_predictor(root) if task == "regression" else None
    proposed = set(reference_methods(task))
    experiments = []
    for dataset, rows in results[results["metric"] == metric].groupby("dataset", sort=False):
        strategy_of = rows.groupby("method")["strategy"].first()
        runs = {m: _diam_run(root, task, dataset, m) for m in strategy_of.index if strategy_of[m] in proposed}
        references, baselines = split_methods(rows, task, {m: run.solver for m, run in runs.items()})
        if task == "regression":  # the same for every DIAM method of the dataset
            counts = _constant_counts(rows, constant)
            dataset_regime, dataset_gate = constant_regime(rows, constant), constant_gate(*counts[:2])
        for reference in references:
            if task == "classification":
                numbers = round_zero_regime(round_zero_votes(root, dataset, reference), rows, reference)
                regime = disagreement_regime(numbers, _batch_size(rows))
                gate = regime_gate(numbers, _batch_size(rows))
            else:
                regime, gate = dataset_regime, dataset_gate
                if strategy_of[reference] == SVD_STRATEGY:
                    regime, gate = _with_row_space(regime, gate, rows, runs[reference].meta)
            label = f", {reference}" if len(references) > 1 else ""
            experiments.append(Experiment(name=f"{family}, {dataset}{label} ({record})", results=rows,
                                          experiment_group=f"{family}, {dataset} ({record})",
                                          reference=reference, baselines=baselines, regime=regime, gate=gate,
                                          settings=runs[reference].settings,
                                          variants=_variants_of(reference, strategy_of, runs, proposed)))
    return experiments


def _variants_of(reference: str, strategy_of: pd.Series, runs: dict[str, _DiamRun], proposed: set[str]
                 ) -> tuple[tuple[str, str, str], ...]:
    """The other runs of ``reference``'s strategy with their settings and what they vary.

    The first of :data:`DECIDING_OPTIONS` whose value differs from ``reference``'s (``"solver"``;
    ``"beta"``: the sweep), else ``"options"``. Only the strategy's own method (e.g. ``diam``)
    lists them, so each is compared once.
    """
    if reference not in proposed:
        return ()
    own = runs[reference].options
    variants = []
    for method in order_methods(strategy_of.index):
        if method == reference or strategy_of[method] != reference:
            continue
        theirs = runs[method].options
        varies = next((name for name in DECIDING_OPTIONS if theirs.get(name) != own.get(name)), "options")
        variants.append((method, runs[method].settings, varies))
    return tuple(variants)


#: The DIAM strategy whose ranking needs a labeled feature matrix of full column rank (Problem 1, Eq. 12).
SVD_STRATEGY = "diam-svd"


def _with_row_space(regime: str, gate: GateResult, rows: pd.DataFrame, meta: dict) -> tuple[str, GateResult]:
    """Add the rank argument to a DIAM-svd row: with fewer labels than feature dimensions Eq. 12 is never used.

    At a selection round the labeled feature matrix ``L`` of a model has rank at most the number
    of labels. When that is below the model's feature dimension in every selection round and for
    every model, every pool point has a component outside the row space of ``L``, lies in every
    soft version space's disagreement region whatever ``sigma`` is, and DIAM-svd ranks by that
    component alone: the row then cannot test Problem 1's claim.
    """
    dims = [info.get("feature_dim") for info in meta.get("model_info", [])]
    if not dims or any(d is None for d in dims):
        return regime, gate
    selection_labels = sorted(rows["n_labeled"].unique())[:-1]
    if not selection_labels or max(selection_labels) >= min(dims):
        return regime, gate
    note = (f"DIAM-svd degenerates: at most {max(selection_labels)} labels at a selection round against "
            f"{_span(dims)} feature dimensions, so the labeled matrix never has full column rank and DIAM-svd ranks "
            f"the pool by its component outside the row space alone (Eq. 12 is not used)")
    reasons = gate.reasons + ("labeled feature matrix rank-deficient in every selection round",)
    return "; ".join(t for t in (regime, note) if t), GateResult(False, reasons, gate.failed + ("rank",))


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
