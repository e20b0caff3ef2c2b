"""Tables and text of the analysis: CSV/LaTeX files, HTML tables and a generated summary.

Nothing here computes a statistic; it formats the frames of :mod:`diamlib.reporting.stats`. The text
summary is generated from those numbers only.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from diamlib.reporting.plots import display_name
from diamlib.reporting.stats.paper_effects import PRINTED_TABLE3A
from diamlib.reporting.stats import (CONTEXT, PRIMARY_METRIC, default_reference, higher_is_better, order_methods,
                                     wtl_table, wtl_totals)

SOURCE_NAMES = {"ours": "our results", "authors": "authors' published results"}

#: Table 2 of the paper as printed (W/T/L of DIAM over query batches 1-9, 12 target models), for
#: the two datasets whose raw results the authors published.
PRINTED_TABLE2 = {
    "mnist": {"entropy": (7, 2, 0), "margin": (5, 4, 0), "least-confidence": (6, 3, 0),
              "cal": (7, 2, 0), "random": (7, 2, 0), "coreset": (8, 1, 0)},
    "kmnist": {"entropy": (6, 3, 0), "margin": (7, 2, 0), "least-confidence": (8, 1, 0),
               "cal": (7, 2, 0), "random": (8, 1, 0), "coreset": (9, 0, 0)},
}
PRINTED_TABLE2_ROUNDS = 9

#: Table 3b of the paper as printed (percent): dataset -> |beta| -> (mean, std) of DIAM's curve.
PRINTED_TABLE3B = {
    "mnist": {0.1: (97.29, 1.95), 1.0: (97.26, 1.97), 10.0: (97.24, 1.97)},
    "kmnist": {0.1: (84.74, 8.62), 1.0: (84.69, 8.77), 10.0: (84.47, 8.75)},
}


# --------------------------------------------------------------------------- numbers as text
def format_value(value: float, metric: str) -> str:
    """Accuracy in percent with 2 decimals; errors with 4 significant digits; NaN as 'n/a'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric in ("accuracy", "top5_accuracy"):
        return f"{100 * value:.2f}%"
    return f"{value:.4g}"


def mean_std_table(frame: pd.DataFrame, mean: str, std: str, *, columns: str = "dataset",
                   index: str = "method", scale: float = 100.0, digits: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells ``"mean ± std"`` (paper style), plus a mask of the best cell of each column.

    Parameters
    ----------
    frame : DataFrame
        Rows with ``index``, ``columns``, ``metric``, ``mean`` and ``std`` columns (one metric).
    mean, std : str
        Column names of the two numbers.
    scale : float
        Multiplier (100 for accuracy in percent, 1 for errors).

    Returns
    -------
    text : DataFrame
        Strings, index ``index`` (in method order), columns ``columns``.
    best : DataFrame
        Booleans: the best mean of each column (highest, or lowest for errors).

    References
    ----------
    Table 3 of the paper (mean +/- std, best in boldface).
    """
    metrics = frame["metric"].unique()
    if len(metrics) != 1:
        raise ValueError(f"mean_std_table formats one metric at a time; got {sorted(metrics)}")
    means = frame.pivot(index=index, columns=columns, values=mean)
    stds = frame.pivot(index=index, columns=columns, values=std)
    if index == "method":
        order = order_methods(means.index)
        means, stds = means.loc[order], stds.loc[order]
    text = means.copy().astype(object)
    for column in means.columns:
        text[column] = [
            "" if math.isnan(m) else f"{scale * m:.{digits}f} ± {scale * s:.{digits}f}"
            for m, s in zip(means[column], stds[column])
        ]
    if higher_is_better(metrics[0]):
        best = means.eq(means.max(axis=0), axis=1)
    else:
        best = means.eq(means.min(axis=0), axis=1)
    if index == "method":
        text.index = [display_name(m) for m in text.index]
        best.index = text.index
    return text, best


def html_table(frame: pd.DataFrame, *, caption: str | None = None, bold: pd.DataFrame | None = None,
               precision: int = 4, table_id: str = "t"):
    """A styled HTML table (for notebooks) with stable element ids.

    Parameters
    ----------
    frame : DataFrame
        Table to show; floats are printed with ``precision`` decimals.
    caption : str, optional
    bold : DataFrame of bool, optional
        Same shape as ``frame``: cells to print in bold (the best of a column).
    table_id : str
        Identifier used in the HTML (fixed so that re-running gives the same output).

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    styler = frame.style.format(precision=precision, na_rep="n/a").set_uuid(table_id)
    if caption:
        styler = styler.set_caption(caption)
    if bold is not None:
        styler = styler.apply(lambda _: np.where(bold.to_numpy(), "font-weight: bold", ""), axis=None)
    styler = styler.set_table_styles([{"selector": "caption", "props": "caption-side: top; font-weight: bold;"}])
    return HTML(styler.to_html())


# --------------------------------------------------------------------------- files
def save_table(frame: pd.DataFrame, directory: Path, name: str, *, index: bool = False) -> Path:
    """Write ``frame`` as ``<directory>/<name>.csv``; return the path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv"
    frame.to_csv(path, index=index, float_format="%.6g")
    return path


def wtl_to_latex(table: pd.DataFrame, *, caption: str, label: str) -> str:
    """The W/T/L table (:func:`diamlib.reporting.stats.wtl_table`) as a LaTeX ``table`` (booktabs).

    References
    ----------
    Table 2 of the paper.
    """
    rounds = [c for c in table.columns if c != "W/T/L"]
    head = " & ".join(["Algorithms", *rounds, "W./T./L."])
    lines = [
        r"\begin{table}[t]", r"\centering", rf"\caption{{{_latex_escape(caption)}}}",
        rf"\label{{{label}}}", r"\begin{tabular}{l" + "c" * len(rounds) + "c}", r"\toprule",
        rf" & \multicolumn{{{len(rounds)}}}{{c}}{{Number of queried batches}} & \\",
        head + r" \\", r"\midrule",
    ]
    for method, row in table.iterrows():
        if method == "W/T/L":
            lines.append(r"\midrule")
            name = "W./T./L."
        else:
            name = display_name(str(method))
        lines.append(" & ".join([_latex_escape(name), *[str(v) for v in row.tolist()]]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        text = text.replace(char, escaped)
    return text


def wtl_file_stem(context: dict, reference: str, test: str) -> str:
    """``wtl_<task>_<dataset>`` plus ``_<part>`` for each way it differs from the main table.

    The main table (our results, the task's DIAM reference and primary metric, the paper's
    t-test) has no suffix; otherwise the source, reference, metric and test are appended.
    """
    stem = f"wtl_{context['task']}_{context['dataset']}"
    if context["source"] != "ours":
        stem += f"_{context['source']}"
    if reference != default_reference(context["task"]):
        stem += f"_{reference}"
    if context["metric"] != PRIMARY_METRIC.get(context["task"]):
        stem += f"_{context['metric']}"
    if test != "t-test":
        stem += f"_{test}"
    return stem


def wtl_tables(comparison: pd.DataFrame) -> dict[str, tuple[str, pd.DataFrame]]:
    """The W/T/L table of every context and reference, with its file stem and caption.

    Parameters
    ----------
    comparison : DataFrame
        :func:`diamlib.reporting.stats.compare_all` or :func:`diamlib.reporting.stats.compare_methods` rows.

    Returns
    -------
    dict
        File stem (:func:`wtl_file_stem`) -> (caption, :func:`diamlib.reporting.stats.wtl_table`), in the
        order of ``comparison``.

    References
    ----------
    Table 2 of the paper.
    """
    tables = {}
    for keys, part in comparison.groupby(CONTEXT + ["reference", "test", "alpha"], sort=False):
        context = dict(zip(CONTEXT, keys[:len(CONTEXT)]))
        reference, test, alpha = keys[len(CONTEXT):]
        caption = (f"Win/Tie/Loss of {display_name(reference)} against the other methods after each query "
                   f"batch ({test} at the {alpha:g} level over {context['n_models']} target models): "
                   f"{context['dataset']}, {context['metric']}, {SOURCE_NAMES.get(context['source'], context['source'])}")
        tables[wtl_file_stem(context, reference, test)] = (caption, wtl_table(part))
    return tables


def save_wtl_files(table: pd.DataFrame, directory: Path, *, stem: str, caption: str) -> list[Path]:
    """Write one W/T/L table as ``<stem>.csv`` and ``<stem>.tex``; return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, tex_path = directory / f"{stem}.csv", directory / f"{stem}.tex"
    table.to_csv(csv_path)
    tex_path.write_text(wtl_to_latex(table, caption=caption, label=f"tab:{stem}"))
    return [csv_path, tex_path]


def save_wtl_tables(comparison: pd.DataFrame, directory: Path) -> dict[str, pd.DataFrame]:
    """Build, save (CSV and LaTeX) and return the W/T/L table of every context and reference.

    Returns
    -------
    dict
        Caption -> :func:`diamlib.reporting.stats.wtl_table`, in the order of ``comparison``; the files
        are named by :func:`wtl_file_stem`.

    References
    ----------
    Table 2 of the paper.
    """
    saved = {}
    for stem, (caption, table) in wtl_tables(comparison).items():
        save_wtl_files(table, directory, stem=stem, caption=caption)
        saved[caption] = table
    return saved


# --------------------------------------------------------------------------- printed vs recomputed
def versus_printed_table2(comparison: pd.DataFrame) -> pd.DataFrame:
    """W/T/L recomputed from raw results over the printed batches, beside the paper's Table 2.

    Parameters
    ----------
    comparison : DataFrame
        :func:`diamlib.reporting.stats.compare_methods` rows of the authors' results (reference ``diam``).

    Returns
    -------
    DataFrame
        Index (dataset, method); columns ``recomputed`` and ``printed`` (``"w/t/l"``), with a
        ``total`` row per dataset. Datasets the paper's table does not cover are left out.

    References
    ----------
    Table 2 of the paper.
    """
    rows = []
    reference = default_reference("classification")
    part = comparison[(comparison["round"] <= PRINTED_TABLE2_ROUNDS) & (comparison["reference"] == reference)]
    for dataset, group in part.groupby("dataset", sort=False):
        printed = PRINTED_TABLE2.get(dataset)
        if printed is None:
            continue
        totals = wtl_totals(group)
        for baseline, row in totals.iterrows():
            rows.append({"dataset": dataset, "method": display_name(baseline),
                         "recomputed": "/".join(str(int(v)) for v in row),
                         "printed": "/".join(map(str, printed[baseline])) if baseline in printed else "n/a"})
        all_printed = np.array(list(printed.values())).sum(axis=0)
        rows.append({"dataset": dataset, "method": "total",
                     "recomputed": "/".join(str(int(v)) for v in totals.sum()),
                     "printed": "/".join(map(str, all_printed))})
    return pd.DataFrame(rows).set_index(["dataset", "method"]) if rows else pd.DataFrame()


def versus_printed_table3a(best_worst: pd.DataFrame) -> pd.DataFrame:
    """Best and worst model summaries recomputed from raw results, beside the paper's Table 3a.

    Returns
    -------
    DataFrame
        Index (dataset, method); recomputed and printed ``mean ± std`` (percent) of the best and
        the worst model; only datasets and accuracy rows the printed table covers.

    References
    ----------
    Table 3a of the paper.
    """
    rows = []
    accuracy = best_worst[best_worst["metric"] == "accuracy"]
    rank = {m: i for i, m in enumerate(order_methods(accuracy["method"]))}
    accuracy = accuracy.assign(rank=accuracy["method"].map(rank)).sort_values(["dataset", "rank"], kind="stable")
    for _, row in accuracy.iterrows():
        printed = PRINTED_TABLE3A.get(row["dataset"], {}).get(row["method"])
        if printed is None:
            continue
        rows.append({
            "dataset": row["dataset"], "method": display_name(row["method"]),
            "best (recomputed)": f"{100 * row['best_mean']:.2f} ± {100 * row['best_std']:.2f}",
            "best (printed)": f"{printed[0]:.2f} ± " + ("n/a" if printed[1] is None else f"{printed[1]:.2f}"),
            "worst (recomputed)": f"{100 * row['worst_mean']:.2f} ± {100 * row['worst_std']:.2f}",
            "worst (printed)": f"{printed[2]:.2f} ± {printed[3]:.2f}",
        })
    return pd.DataFrame(rows).set_index(["dataset", "method"]) if rows else pd.DataFrame()


def printed_differences(table2: pd.DataFrame, table3a: pd.DataFrame) -> list[str]:
    """Where the printed Tables 2 and 3a match the authors' raw files and where they do not, in words.

    Parameters
    ----------
    table2 : DataFrame
        :func:`versus_printed_table2` (may be empty).
    table3a : DataFrame
        :func:`versus_printed_table3a` (may be empty).

    Returns
    -------
    list of str
        Per dataset of Table 2: the recomputed and printed totals and the baselines whose rows
        differ. Per dataset of Table 3a: the methods whose rows match, and each differing row
        with both values.

    References
    ----------
    Tables 2 and 3a of the paper.
    """
    sentences = []
    for dataset, rows in (table2.groupby(level="dataset", sort=False) if not table2.empty else ()):
        rows = rows.droplevel("dataset")
        total = rows.loc["total"]
        differing = [m for m, row in rows.drop(index="total").iterrows() if row["recomputed"] != row["printed"]]
        verb = "equals" if total["recomputed"] == total["printed"] else "differs from"
        text = (f"Table 2, {dataset} (batches 1-{PRINTED_TABLE2_ROUNDS}): W/T/L recomputed from the raw files "
                f"{total['recomputed']} {verb} the printed {total['printed']}")
        text += (f"; the rows of {', '.join(differing)} differ." if differing else "; every row matches.")
        sentences.append(text)
    for dataset, rows in (table3a.groupby(level="dataset", sort=False) if not table3a.empty else ()):
        rows = rows.droplevel("dataset")
        same = rows["best (recomputed)"].eq(rows["best (printed)"]) & rows["worst (recomputed)"].eq(rows["worst (printed)"])
        text = f"Table 3a, {dataset}: "
        text += (f"the rows of {', '.join(rows.index[same])} match the printed values" if same.any()
                 else "no row matches the printed values")
        for method, row in rows[~same].iterrows():
            text += (f"; {method} differs: best {row['best (recomputed)']} recomputed against "
                     f"{row['best (printed)']} printed, worst {row['worst (recomputed)']} against "
                     f"{row['worst (printed)']}")
        sentences.append(text + ".")
    return sentences


# --------------------------------------------------------------------------- generated summary
def _final_values(group: pd.DataFrame) -> tuple[float, pd.Series]:
    """The largest label count every method reached, and each method's mean there."""
    last = float(group.groupby("method")["n_labeled"].max().min())
    values = {}
    for method, curve in group.groupby("method"):
        curve = curve.sort_values("n_labeled")
        values[method] = float(np.interp(last, curve["n_labeled"], curve["mean"]))
    return last, pd.Series(values)


def _ranking_sentence(values: pd.Series, metric: str, what: str) -> str:
    ordered = values.sort_values(ascending=not higher_is_better(metric))
    leader, runner = ordered.index[0], ordered.index[1] if len(ordered) > 1 else None
    text = f"{what}: {display_name(leader)} leads with {format_value(ordered.iloc[0], metric)}"
    if runner is not None:
        text += f" (next: {display_name(runner)}, {format_value(ordered.iloc[1], metric)}"
        if "random" in ordered.index and "random" not in (leader, runner):
            text += f"; Random: {format_value(ordered['random'], metric)}"
        text += ")"
    return text + "."


def _wtl_sentences(comparison: pd.DataFrame, test: str, alpha: float) -> list[str]:
    sentences = []
    if "test" not in comparison.columns:
        comparison = comparison.assign(test=test, alpha=alpha)
    for (reference, test, alpha), part in comparison.groupby(["reference", "test", "alpha"], sort=False):
        baselines = list(dict.fromkeys(part["baseline"]))
        totals = wtl_totals(part).sum()
        rounds = sorted(part["round"].unique())
        text = (f"{display_name(reference)} against {len(baselines)} baselines ({test}, alpha {alpha:g}, "
                f"rounds {rounds[0]}-{rounds[-1]}): {totals['Win']} wins, {totals['Tie']} ties, "
                f"{totals['Loss']} losses.")
        per_round = wtl_totals(part, by="round")
        tie_rounds = [int(r) for r, row in per_round.iterrows() if row["Tie"] > row.sum() / 2]
        per_base = wtl_totals(part)
        tie_bases = [display_name(b) for b, row in per_base.iterrows() if row["Tie"] > row.sum() / 2]
        text += (f" Ties dominate in round(s) {', '.join(map(str, tie_rounds))}." if tie_rounds
                 else " Ties dominate in no round.")
        if tie_bases:
            text += f" Mostly ties against: {', '.join(tie_bases)}."
        sentences.append(text)
    return sentences


def summary_text(curves: pd.DataFrame, aulc: pd.DataFrame, comparison: pd.DataFrame | None = None, *,
                 test: str = "t-test", alpha: float = 0.05) -> str:
    """A short text summary generated from the numbers, one paragraph per context.

    Parameters
    ----------
    curves : DataFrame
        :func:`diamlib.reporting.stats.learning_curves` (any contexts).
    aulc : DataFrame
        :func:`diamlib.reporting.stats.area_under_curve` of the same curves.
    comparison : DataFrame, optional
        :func:`diamlib.reporting.stats.compare_methods` rows (several contexts may be concatenated).
    test, alpha
        How the comparison was made, where ``comparison`` does not say (named in the text).

    Returns
    -------
    str
        Which method leads at the last common label count and in AULC, and the W/T/L totals
        with the rounds and baselines where ties dominate.

    References
    ----------
    Sec. 6.2-6.6 of the paper (the claims this summary checks on the numbers).
    """
    paragraphs = []
    for context, group in curves.groupby(CONTEXT, sort=False):
        ctx = dict(zip(CONTEXT, context))
        metric = ctx["metric"]
        header = (f"{ctx['dataset']} ({SOURCE_NAMES.get(ctx['source'], ctx['source'])}, {ctx['task']}, "
                  f"{ctx['n_models']} target models, {metric}):")
        last, finals = _final_values(group)
        lines = [header, "- " + _ranking_sentence(finals, metric, f"at {int(last):,} labels")]
        area = aulc
        for key, value in ctx.items():
            area = area[area[key] == value]
        if not area.empty and area["aulc"].notna().any():
            values = area.set_index("method")["aulc"].dropna()
            lines.append("- " + _ranking_sentence(values, metric, "area under the learning curve"))
        if comparison is not None and not comparison.empty:
            part = comparison
            for key, value in ctx.items():
                part = part[part[key] == value]
            lines += ["- " + s for s in _wtl_sentences(part, test, alpha)]
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def label_savings_table(savings: pd.DataFrame, *, columns: Sequence[str] = ("dataset",)) -> pd.DataFrame:
    """Label savings as a readable table: method rows, labels needed and the saved fraction.

    Parameters
    ----------
    savings : DataFrame
        :func:`diamlib.reporting.stats.label_savings` rows of one metric.

    Returns
    -------
    DataFrame
        Index (dataset, method name); columns ``target``, ``labels needed``, ``saved vs random``
        (strings; "not reached" where the level is never reached).
    """
    rows = []
    for _, row in savings.iterrows():
        reached = bool(row["reached"])
        rows.append({
            **{c: row[c] for c in columns}, "method": display_name(row["method"]),
            "target": format_value(row["target"], row["metric"]),
            "labels needed": f"{row['labels_needed']:,.0f}" if reached else "not reached",
            "labels saved": f"{100 * row['saved_fraction']:.1f}%" if reached else "n/a",
        })
    return pd.DataFrame(rows).set_index([*columns, "method"])
