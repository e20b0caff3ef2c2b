"""The analysis of notebook 04 as one call: tables, figures and a generated summary per source.

:func:`analyse` takes our runs and, optionally, the authors' published raw results (both
tidy tables of :mod:`diamlib.reporting.results`) and returns an :class:`Analysis`: for each source a
:class:`SourceAnalysis` whose sections (learning curves, Win/Tie/Loss, best and worst model,
beta, number of models, area under the curve) are tuples of :class:`Table`, :class:`Plot` and
:class:`Note`, plus the summary text. Nothing is written or shown: :func:`save_analysis`
writes the files, :meth:`Analysis.show` displays a section in a notebook.

References
----------
Sec. 6.2-6.6 of the paper: Fig. 1-4 and Tables 2-3.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from diamlib.config import AnalysisParams
from diamlib.paths import figures_dir, tables_dir
from diamlib.reporting import plots, report, stats
from diamlib.reporting.results import (NoResultsError, authors_results_folder, load_authors_results,
                                       load_results, resolve_reference_dir)

#: The sections of a :class:`SourceAnalysis`, in the order of the notebook.
SECTIONS = ("overview", "curves", "wtl", "second_test", "best_worst", "beta", "model_counts", "aulc")

#: Names of the paired tests in captions.
TEST_NAMES = {"t-test": "Paired t-test", "wilcoxon": "Wilcoxon signed-rank"}

#: Figure numbers of the paper by (task, what): learning curves and number of models.
PAPER_FIGURES = {("classification", "curves"): "fig1", ("regression", "curves"): "fig3",
                 ("classification", "model_counts"): "fig2", ("regression", "model_counts"): "fig4"}


# --------------------------------------------------------------------------- exhibits
@dataclass(frozen=True)
class Table:
    """A table to display: ``frame`` with a caption, an HTML id and optional bold cells."""

    name: str
    caption: str
    frame: pd.DataFrame
    bold: pd.DataFrame | None = None
    precision: int = 4

    def html(self):
        """The table as styled HTML (:func:`diamlib.reporting.report.html_table`)."""
        return report.html_table(self.frame, caption=self.caption, bold=self.bold, precision=self.precision,
                                 table_id=self.name)


@dataclass(frozen=True)
class Plot:
    """A figure to display and to save as ``figures/<name>.png`` and ``.svg``."""

    name: str
    figure: Figure


@dataclass(frozen=True)
class Note:
    """A sentence explaining why a part of a section is empty."""

    text: str


Exhibit = Union[Table, Plot, Note]


@dataclass(frozen=True)
class SourceAnalysis:
    """Every table and figure of one source (``"ours"`` or ``"authors"``).

    Attributes
    ----------
    source : str
        ``"ours"`` or ``"authors"``.
    overview, curves, wtl, second_test, best_worst, beta, model_counts, aulc : tuple of Exhibit
        The sections of :data:`SECTIONS`, each ready to display in order (``second_test``: the
        W/T/L totals by a second paired test, where one was asked for).
    summary : str
        Text generated from the numbers (:func:`diamlib.reporting.report.summary_text`).
    files : dict
        CSV tables to write: file stem -> frame.
    wtl_files : dict
        W/T/L tables to write as CSV and LaTeX: file stem -> (caption, table).
    """

    source: str
    overview: tuple[Exhibit, ...]
    curves: tuple[Exhibit, ...]
    wtl: tuple[Exhibit, ...]
    second_test: tuple[Exhibit, ...]
    best_worst: tuple[Exhibit, ...]
    beta: tuple[Exhibit, ...]
    model_counts: tuple[Exhibit, ...]
    aulc: tuple[Exhibit, ...]
    summary: str
    files: dict = field(default_factory=dict)
    wtl_files: dict = field(default_factory=dict)

    def plots(self) -> list[Plot]:
        """Every figure of the sections."""
        return [item for name in SECTIONS for item in getattr(self, name) if isinstance(item, Plot)]


@dataclass(frozen=True)
class Analysis:
    """The analysis of our runs and of the authors' results; either may be absent (``None``)."""

    ours: SourceAnalysis | None
    authors: SourceAnalysis | None
    notes: tuple[str, ...] = ()

    def show(self, source: str, section: str) -> None:
        """Display one section of one source in a notebook; nothing when the source is absent.

        Parameters
        ----------
        source : {"ours", "authors"}
        section : str
            One of :data:`SECTIONS`, or ``"summary"``.
        """
        if source not in ("ours", "authors"):
            raise ValueError(f"unknown source {source!r}; use 'ours' or 'authors'")
        if section not in SECTIONS + ("summary",):
            raise ValueError(f"unknown section {section!r}; sections: {', '.join(SECTIONS + ('summary',))}")
        part = getattr(self, source)
        if part is None:
            return
        if section == "summary":
            print(part.summary)
            return
        show_exhibits(getattr(part, section))

    def printed_findings(self) -> list[str]:
        """Where the paper's printed Tables 2 and 3a match the authors' raw files, in words.

        Empty without the authors' results (:func:`diamlib.reporting.report.printed_differences`).
        """
        if self.authors is None:
            return []
        tables = {item.name: item.frame for item in self.authors.wtl + self.authors.best_worst
                  if isinstance(item, Table)}
        return report.printed_differences(tables.get("authors-wtl-printed", pd.DataFrame()),
                                          tables.get("authors-3a-printed", pd.DataFrame()))


def show_exhibits(exhibits: Sequence[Exhibit]) -> None:
    """Display tables as HTML, figures inline and notes as printed text."""
    from IPython.display import display

    for item in exhibits:
        if isinstance(item, Table):
            display(item.html())
        elif isinstance(item, Plot):
            display(item.figure)
        else:
            print(item.text)


# --------------------------------------------------------------------------- inputs
def load_sources(out_dir: Path, reference_dir: str | Path | None = "auto") -> tuple[
        pd.DataFrame | None, pd.DataFrame | None, tuple[str, ...]]:
    """Our runs under ``out_dir`` and the authors' results under ``reference_dir``.

    Parameters
    ----------
    out_dir : Path
        A profile's results folder.
    reference_dir : str, Path or None
        ``"auto"``: the authors' results where ``python -m diamlib fetch-authors`` stores them, else
        beside the checkout (:func:`diamlib.reporting.authors_files.authors_results_folder`); ``None``:
        not read; otherwise the folder of the authors' results, which must exist.

    Returns
    -------
    ours, authors : DataFrame or None
        Tidy tables; ``ours`` is None when the folder holds no run yet, ``authors`` when
        they are not read.
    notes : tuple of str
        What was found, one sentence per source.

    Raises
    ------
    FileNotFoundError
        ``reference_dir`` is a folder that does not exist.
    """
    notes = []
    folder = authors_results_folder() if reference_dir == "auto" else reference_dir
    if folder is None:
        authors = None
        notes.append("The authors' published results are not analysed (reference_dir is None, or \"auto\" "
                     "and they are neither fetched nor beside the checkout: python -m diamlib fetch-authors "
                     "fetches them).")
    else:
        authors = load_authors_results(resolve_reference_dir(folder))
    try:
        ours = load_results(out_dir)
    except NoResultsError:
        ours = None
        notes.append("No results of our runs yet (run notebooks 02 and 03 first); the sections on our "
                     "results are empty.")
    else:
        notes.append(f"{ours.groupby(['task', 'dataset', 'method', 'seed']).ngroups} runs of our own found.")
    return ours, authors, tuple(notes)


# --------------------------------------------------------------------------- the analysis
def analyse(ours: pd.DataFrame | None, authors: pd.DataFrame | None = None, *,
            params: AnalysisParams | None = None, notes: Sequence[str] = ()) -> Analysis:
    """Fig. 1-4 and Tables 2-3 of the paper for our runs and for the authors' results.

    Both sources go through the same steps. Our runs are compared by ``params.test``; the
    authors' results by the paper's t-test (plus the Wilcoxon signed-rank test, not in the
    paper) on top-1 accuracy, and only they are set beside the printed Tables 2, 3a and 3b
    (which were computed from them).

    Parameters
    ----------
    ours : DataFrame or None
        Tidy results of our runs (:func:`diamlib.reporting.results.load_results`).
    authors : DataFrame or None
        Tidy authors' results (:func:`diamlib.reporting.results.load_authors_results`).
    params : AnalysisParams, optional
        Level ``alpha``, test and model subsets (default: the profile defaults).
    notes : sequence of str
        Sentences kept in :attr:`Analysis.notes` (e.g. from :func:`load_sources`).

    Returns
    -------
    Analysis

    References
    ----------
    Sec. 6.2-6.6, Fig. 1-4, Tables 2, 3a and 3b of the paper.
    """
    params = params or AnalysisParams()
    ours_part = None if ours is None else _analyse_source(ours, "ours", test=params.test, alpha=params.alpha,
                                                          model_subsets=params.model_subsets)
    authors_part = None
    if authors is not None:
        authors_part = _analyse_source(stats.select(authors, metric="accuracy"), "authors", test="t-test",
                                       alpha=params.alpha, model_subsets=params.model_subsets,
                                       second_test="wilcoxon")
    return Analysis(ours=ours_part, authors=authors_part, notes=tuple(notes))


def _analyse_source(table: pd.DataFrame, source: str, *, test: str, alpha: float, model_subsets: Sequence[int],
                    second_test: str | None = None) -> SourceAnalysis:
    full = stats.largest_model_count(table)
    curves = stats.learning_curves(full)
    comparison = stats.compare_all(full, test=test, alpha=alpha)
    aulc = stats.area_under_curve(curves)
    files: dict = {}
    wtl_files: dict = {}
    summary = report.summary_text(curves, aulc, comparison if not comparison.empty else None, test=test, alpha=alpha)
    return SourceAnalysis(
        source=source,
        overview=(_overview(table, source),),
        curves=_curve_plots(curves, source),
        wtl=_wtl_section(comparison, source, wtl_files),
        second_test=(_second_test_section(stats.compare_all(full, test=second_test, alpha=alpha), source, wtl_files)
                     if second_test else ()),
        best_worst=_best_worst_section(full, source, files),
        beta=_beta_section(full, source, files),
        model_counts=_model_count_section(table, source, model_subsets, test, alpha),
        aulc=_aulc_section(curves, aulc, source, files),
        summary=summary, files=files, wtl_files=wtl_files,
    )


def _metrics(frame: pd.DataFrame, task: str) -> list[str]:
    """Metrics of ``task`` in ``frame``, the task's primary metric first."""
    return sorted(set(stats.select(frame, task=task)["metric"]), key=lambda m: (m != stats.PRIMARY_METRIC[task], m))


def _tasks(frame: pd.DataFrame) -> list[str]:
    return [t for t in ("classification", "regression") if t in set(frame["task"])]


def _closed(fig: Figure) -> Figure:
    """Close ``fig`` in pyplot (no second inline copy); it can still be displayed and saved."""
    plt.close(fig)
    return fig


def _overview(table: pd.DataFrame, source: str) -> Table:
    runs = (table.groupby(["task", "dataset", "method", "n_models"])
            .agg(seeds=("seed", "nunique"), models=("model", "nunique"), rounds=("round", "max"),
                 labels_from=("n_labeled", "min"), labels_to=("n_labeled", "max"), beta=("beta", "first")))
    return Table(f"{source}-runs", f"Runs read: {report.SOURCE_NAMES[source]}", runs)


def _curve_plots(curves: pd.DataFrame, source: str) -> tuple[Exhibit, ...]:
    items = []
    for task in _tasks(curves):
        figure = PAPER_FIGURES[(task, "curves")]
        for metric in _metrics(curves, task):
            fig = plots.plot_learning_curves(stats.select(curves, task=task), metric=metric,
                                             title=f"Fig. {figure[3:]}: {task}, {report.SOURCE_NAMES[source]}")
            items.append(Plot(f"{figure}_{source}_{task}_{metric}", _closed(fig)))
    return tuple(items)


def _wtl_section(comparison: pd.DataFrame, source: str, wtl_files: dict) -> tuple[Exhibit, ...]:
    if comparison.empty:
        return (Note("Nothing to compare: DIAM and a baseline must both have results."),)
    items: list[Exhibit] = []
    for i, (stem, (caption, table)) in enumerate(report.wtl_tables(comparison).items()):
        wtl_files[stem] = (caption, table)
        items.append(Table(f"{source}-wtl-{i}", caption, table.rename(index=plots.display_name)))
    printed = report.versus_printed_table2(comparison) if source == "authors" else pd.DataFrame()
    if not printed.empty:
        items.append(Table(f"{source}-wtl-printed", "W/T/L over batches 1-9: recomputed vs printed in Table 2",
                           printed))
    paired = int(comparison["n_models_paired"].max())
    if paired < 6:
        items.append(Note(f"Note: with {paired} target models a paired test has little power; ties are expected."))
    return tuple(items)


def _second_test_section(comparison: pd.DataFrame, source: str, wtl_files: dict) -> tuple[Exhibit, ...]:
    if comparison.empty:
        return (Note("Nothing to compare: DIAM and a baseline must both have results."),)
    test = comparison["test"].iloc[0]
    for stem, (caption, table) in report.wtl_tables(comparison).items():
        wtl_files[stem] = (caption, table)
    totals = _outcome_totals(comparison, ["dataset"])
    return (Table(f"{source}-{test}", f"{TEST_NAMES.get(test, test)} W/T/L totals (rounds 1-{comparison['round'].max()})",
                  totals),)


def _outcome_totals(comparison: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return (comparison.groupby(by)["outcome"].value_counts().unstack(fill_value=0)
            .reindex(columns=list(stats.OUTCOMES), fill_value=0))


def _best_worst_section(full: pd.DataFrame, source: str, files: dict) -> tuple[Exhibit, ...]:
    extremes = stats.best_worst(full)
    files[f"best_worst_{source}"] = extremes
    items: list[Exhibit] = []
    for (task, metric), part in extremes.groupby(["task", "metric"], sort=False):
        scale, digits = (100.0, 2) if metric in ("accuracy", "top5_accuracy") else (1.0, 4)
        for which in ("best", "worst"):
            text, best = report.mean_std_table(part, f"{which}_mean", f"{which}_std", scale=scale, digits=digits)
            items.append(Table(f"{source}-{which}-{task}-{metric}",
                               f"Table 3a ({which} target model): {task}, {metric}, {report.SOURCE_NAMES[source]}",
                               text, bold=best))
    printed = report.versus_printed_table3a(extremes) if source == "authors" else pd.DataFrame()
    if not printed.empty:
        items.append(Table(f"{source}-3a-printed", "Table 3a: recomputed vs printed", printed))
    return tuple(items)


def _beta_section(full: pd.DataFrame, source: str, files: dict) -> tuple[Exhibit, ...]:
    classification = stats.select(full, task="classification")
    items: list[Exhibit] = []
    known = classification[(classification["strategy"] == "diam") & classification["beta"].notna()]
    if known["beta"].nunique() > 1:
        betas = stats.beta_sensitivity(classification)
        files[f"beta_sensitivity_{source}"] = betas
        shared = betas.groupby([*stats.CONTEXT, "beta"])["method"].transform("nunique") > 1
        labels = [f"β = {b:g} ({m})" if twice else f"β = {b:g}"  # another solver at the same β: named
                  for b, m, twice in zip(betas["beta"], betas["method"], shared)]
        text, best = report.mean_std_table(betas.assign(method=labels), "mean", "curve_std")
        items.append(Table(f"{source}-beta", "Table 3b: DIAM's learning curve by β, mean ± std (%)", text, bold=best))
    elif "diam" in set(classification["method"]):
        curves = stats.learning_curves(stats.select(classification, method="diam", metric="accuracy"))
        text, _ = report.mean_std_table(stats.curve_summary(curves), "mean", "curve_std")
        beta = known["beta"].iloc[0] if len(known) else None
        text.index = [f"DIAM ({'β not stated' if beta is None else f'β = {beta:g}'})"]
        if beta is not None:
            items.append(Note("Only one β was run; add DIAM variants with other β to the profile to fill Table 3b."))
        rows = [text]
        if source == "authors":
            rows.append(pd.DataFrame({d: {f"β = {b:g} (printed)": f"{m:.2f} ± {s:.2f}" for b, (m, s) in by_beta.items()}
                                      for d, by_beta in report.PRINTED_TABLE3B.items()}))
        items.append(Table(f"{source}-beta", "Table 3b: DIAM's learning curve, mean ± std (%)", pd.concat(rows)))
    return tuple(items)


def model_counts(table: pd.DataFrame, model_subsets: Sequence[int]) -> list[int]:
    """The numbers of target models of Fig. 2 and Fig. 4.

    Where a source holds separate runs with fewer models (the authors' 2-8 model runs), those
    counts; otherwise the profile's ``model_subsets`` below the largest count, plus the largest.

    References
    ----------
    Sec. 6.5-6.6 of the paper.
    """
    available = sorted(set(table["n_models"]))
    if len(available) > 1:
        return available[:-1]
    largest = available[-1]
    smaller = [n for n in model_subsets if n < largest]
    return smaller + [largest] if smaller else []


def _model_count_section(table: pd.DataFrame, source: str, model_subsets: Sequence[int], test: str,
                         alpha: float) -> tuple[Exhibit, ...]:
    items: list[Exhibit] = []
    for task in _tasks(table):
        rows = stats.select(table, task=task)
        counts = model_counts(rows, model_subsets)
        if not counts:
            items.append(Note(f"{task}: no model subset smaller than the {rows['n_models'].max()} target models"))
            continue
        subset_rows = stats.model_count_table(rows, counts)
        subset_curves = stats.learning_curves(subset_rows)
        figure = PAPER_FIGURES[(task, "model_counts")]
        for metric in _metrics(subset_curves, task):
            fig = plots.plot_model_count_curves(stats.select(subset_curves, metric=metric), metric=metric,
                                                title=f"Fig. {figure[3:]}: {task}, {report.SOURCE_NAMES[source]}")
            items.append(Plot(f"{figure}_{source}_{task}_{metric}", _closed(fig)))
        primary = stats.select(subset_rows, metric=stats.PRIMARY_METRIC[task])
        comparison = stats.compare_all(primary, test=test, alpha=alpha)
        if not comparison.empty:
            items.append(Table(f"{source}-counts-{task}",
                               f"W/T/L totals of DIAM by number of target models ({test}, "
                               f"rounds 1-{comparison['round'].max()}): {task}",
                               _outcome_totals(comparison, ["dataset", "reference", "n_models"])))
    return tuple(items)


def _aulc_section(curves: pd.DataFrame, aulc: pd.DataFrame, source: str, files: dict) -> tuple[Exhibit, ...]:
    files[f"aulc_{source}"] = aulc
    savings = stats.label_savings(curves) if "random" in set(curves["method"]) else pd.DataFrame()
    if not savings.empty:
        files[f"label_savings_{source}"] = savings
    items: list[Exhibit] = []
    for task in _tasks(curves):
        metric = stats.PRIMARY_METRIC[task]
        fig = plots.plot_aulc(stats.select(aulc, task=task), metric=metric)
        items.append(Plot(f"aulc_{source}_{task}_{metric}", _closed(fig)))
        part = savings[(savings["task"] == task) & (savings["metric"] == metric)] if not savings.empty else savings
        if part.empty:
            items.append(Note(f"{task}: no random baseline, so no label savings."))
        else:
            items.append(Table(f"{source}-savings-{task}", f"Labels needed to reach random's final {metric}: {task}",
                               report.label_savings_table(part)))
    return tuple(items)


# --------------------------------------------------------------------------- files
def save_analysis(analysis: Analysis, out_dir: Path) -> list[Path]:
    """Write every table (CSV; W/T/L also LaTeX), figure (PNG, SVG) and summary of ``analysis``.

    Files go to ``tables/`` and ``figures/`` of ``out_dir`` (a profile's results folder).

    Returns
    -------
    list of Path
        The files written.
    """
    written: list[Path] = []
    for part in (analysis.authors, analysis.ours):
        if part is None:
            continue
        table_dir, figure_dir = tables_dir(out_dir), figures_dir(out_dir)
        for stem, (caption, table) in part.wtl_files.items():
            written += report.save_wtl_files(table, table_dir, stem=stem, caption=caption)
        for stem, frame in part.files.items():
            written.append(report.save_table(frame, table_dir, stem))
        summary = table_dir / f"summary_{part.source}.txt"
        summary.write_text(part.summary + "\n")
        written.append(summary)
        for item in part.plots():
            written += plots.save_figure(item.figure, figure_dir, item.name)
    return written
