"""When the stopping rule fires in the recorded runs, and the accuracy left on the table there.

Every classification round of the loop records each target model's kappa against the round
before on a fixed stop set (:mod:`diamlib.stopping`). This analysis evaluates the rule on those
kappas after every round, finds the first round after which *all* target models have stopped,
and compares the mean test accuracy over the models there with the last round's: what stopping
there would have cost, and the labels it would have saved.

References
----------
Bloodgood and Vijay-Shanker (2009), Sec. 3 (stabilising predictions); the rounds are those of
Algorithm 2 of the paper.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from diamlib.runstore import RunStore
from diamlib.stopping import DEFAULT_THRESHOLD, DEFAULT_WINDOW, first_stop_round

#: Rules (window, threshold) shown beside the paper's: looser ones, that can fire within short runs.
DEFAULT_RULES: tuple[tuple[int, float], ...] = ((DEFAULT_WINDOW, DEFAULT_THRESHOLD), (2, 0.95), (2, 0.9), (1, 0.9))


@dataclass(frozen=True)
class StoppingAnalysis:
    """The stopping rule on recorded runs.

    Attributes
    ----------
    kappas : DataFrame
        Tidy: ``dataset, method, seed, round, model, kappa`` (NaN where not measured).
    runs : DataFrame
        One row per (rule, dataset, method, seed): ``window, threshold, stop_round`` (NaN: never),
        ``n_labeled_stop, accuracy_stop`` (mean over the models), ``last_round, n_labeled_last,
        accuracy_last``, ``accuracy_left`` (last minus at the stop; 0 when it never fires, as the
        labelling then runs to the end) and ``labels_saved``.
    summary : DataFrame
        Per (rule, dataset, method): ``runs``, ``stopped`` (runs where the rule fired),
        ``mean_stop_round``, ``mean_labels_saved``, ``mean_accuracy_left`` and its maximum.
    text : str
        One sentence per dataset on the paper's rule for DIAM (generated from the tables).
    """

    kappas: pd.DataFrame
    runs: pd.DataFrame
    summary: pd.DataFrame
    text: str


def recorded_kappas(task_dir: Path, accuracy: pd.DataFrame) -> pd.DataFrame:
    """The kappas of every run of ``accuracy`` (its ``dataset, method, seed``), from each run's ``run.json``.

    Raises
    ------
    ValueError
        A run whose record holds no stopping entries (made by an older version): re-run it.
    """
    rows = []
    for (dataset, method, seed), _ in accuracy.groupby(["dataset", "method", "seed"]):
        folder = Path(task_dir) / "classification" / str(dataset) / str(method) / f"seed{seed}"
        meta = RunStore(folder).read_meta()
        logs = sorted(meta["rounds"], key=lambda r: r["round"])
        if not all("stopping" in log for log in logs):
            raise ValueError(f"{folder}: run.json records no stopping rule for some rounds (made by an older "
                             f"version); delete the run folder and run it again")
        for log in logs:
            for model in meta["models"]:
                kappa = log["stopping"]["models"].get(model, {}).get("kappa")
                rows.append({"dataset": dataset, "method": method, "seed": int(seed), "round": int(log["round"]),
                             "model": model, "kappa": np.nan if kappa is None else float(kappa)})
    return pd.DataFrame(rows, columns=["dataset", "method", "seed", "round", "model", "kappa"])


def stopping_analysis(task_dir: Path, accuracy: pd.DataFrame, *,
                      rules: Sequence[tuple[int, float]] = DEFAULT_RULES, reference: str = "diam") -> StoppingAnalysis:
    """Where each rule fires in each run, and the accuracy and labels at that round against the last.

    Parameters
    ----------
    task_dir : Path
        The experiment's results folder (holding ``classification/<dataset>/<method>/seed<s>``).
    accuracy : DataFrame
        The runs' tidy accuracy rows (:func:`diamlib.reporting.results.load_results`, ``metric ==
        "accuracy"``).
    rules : sequence of (window, threshold)
    reference : str
        The method that :attr:`StoppingAnalysis.text` speaks of.
    """
    kappas = recorded_kappas(task_dir, accuracy)
    mean_acc = accuracy.groupby(["dataset", "method", "seed", "round"]).agg(
        accuracy=("value", "mean"), n_labeled=("n_labeled", "first")).reset_index()
    rows = []
    for (dataset, method, seed), run in kappas.groupby(["dataset", "method", "seed"]):
        by_model = {model: [None if np.isnan(k) else k for k in group.sort_values("round")["kappa"]]
                    for model, group in run.groupby("model", sort=False)}
        curve = mean_acc[(mean_acc["dataset"] == dataset) & (mean_acc["method"] == method)
                         & (mean_acc["seed"] == seed)].set_index("round")
        last = int(curve.index.max())
        for window, threshold in rules:
            stop = first_stop_round(by_model, window=window, threshold=threshold)["all"]
            at = last if stop is None else stop
            rows.append({"window": window, "threshold": threshold, "dataset": dataset, "method": method,
                         "seed": seed, "stop_round": np.nan if stop is None else stop,
                         "n_labeled_stop": np.nan if stop is None else int(curve.loc[stop, "n_labeled"]),
                         "accuracy_stop": np.nan if stop is None else float(curve.loc[stop, "accuracy"]),
                         "last_round": last, "n_labeled_last": int(curve.loc[last, "n_labeled"]),
                         "accuracy_last": float(curve.loc[last, "accuracy"]),
                         "accuracy_left": float(curve.loc[last, "accuracy"] - curve.loc[at, "accuracy"]),
                         "labels_saved": int(curve.loc[last, "n_labeled"] - curve.loc[at, "n_labeled"])})
    runs = pd.DataFrame(rows)
    summary = runs.groupby(["window", "threshold", "dataset", "method"], sort=False).agg(
        runs=("seed", "size"), stopped=("stop_round", "count"), mean_stop_round=("stop_round", "mean"),
        mean_labels_saved=("labels_saved", "mean"), mean_accuracy_left=("accuracy_left", "mean"),
        max_accuracy_left=("accuracy_left", "max")).reset_index()
    return StoppingAnalysis(kappas=kappas, runs=runs, summary=summary, text=_sentences(summary, rules[0], reference))


def _sentences(summary: pd.DataFrame, rule: tuple[int, float], reference: str) -> str:
    window, threshold = rule
    picked = summary[(summary["window"] == window) & (summary["threshold"] == threshold)
                     & (summary["method"] == reference)]
    lines = []
    for row in picked.itertuples(index=False):
        head = (f"{row.dataset}, {reference}, mean kappa >= {threshold} over {window} rounds: all target models "
                f"stopped in {row.stopped} of {row.runs} runs")
        if row.stopped:
            lines.append(f"{head}, on average after round {row.mean_stop_round:.1f}, saving "
                         f"{row.mean_labels_saved:.0f} labels at a mean accuracy cost of "
                         f"{row.mean_accuracy_left:+.4f} (at most {row.max_accuracy_left:+.4f}) against the last "
                         f"round.")
        else:
            lines.append(f"{head}: the rule did not fire within the budget, so no accuracy was given up.")
    return "\n".join(lines)


def plot_kappas(analysis: StoppingAnalysis, *, method: str = "diam", threshold: float = DEFAULT_THRESHOLD) -> Figure:
    """Each model's kappa against the round before (mean over the seeds), one panel per dataset, with
    the threshold; the rounds where all models had stopped under the first rule are marked."""
    from matplotlib import pyplot as plt

    data = analysis.kappas[analysis.kappas["method"] == method].dropna(subset=["kappa"])
    datasets = sorted(analysis.kappas["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.4 * len(datasets), 3.3), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = data[data["dataset"] == dataset]
        for model, group in part.groupby("model", sort=False):
            mean = group.groupby("round")["kappa"].mean()
            ax.plot(mean.index, mean.values, marker="o", label=model)
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold}")
        stops = analysis.runs[(analysis.runs["method"] == method) & (analysis.runs["dataset"] == dataset)
                              & (analysis.runs["threshold"] == analysis.runs["threshold"].iloc[0])
                              & (analysis.runs["window"] == analysis.runs["window"].iloc[0])]["stop_round"].dropna()
        for r in stops.unique():
            ax.axvline(r, color="grey", alpha=0.4)
        ax.set_title(f"{dataset}: {method}")
        ax.set_xlabel("round")
        ax.set_ylabel("kappa against the round before")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
