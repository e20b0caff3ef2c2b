"""Read active-learning results into one tidy table.

Two sources share one layout of columns (:data:`TIDY_COLUMNS`), one row per
(run, round, target model, metric):

- our runs, ``<profile dir>/<task>/<dataset>/<method>/seed<s>/`` with ``curve.csv``
  (``round,n_labeled,model,metric,value``) and ``run.json`` (:func:`load_results`);
- the raw per-model results published by the paper's authors,
  ``<n_models>/<dataset>/<method>/<iteration>/performances.txt`` (:func:`load_authors_results`).

Every analysis in :mod:`diamlib.reporting.stats` works on this table.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from diamlib.evidence import TASKS
# re-exported: where the authors' results are (fetched, else beside the checkout)
from diamlib.reporting.authors_files import AUTHORS_RESULTS_BESIDE_CHECKOUT  # noqa: F401
from diamlib.reporting.authors_files import authors_results_beside_checkout, authors_results_folder  # noqa: F401
from diamlib.runstore import (CURVE_COLUMNS, SHARED_DIR, RunIntegrityError, RunStore, other_settings_message,
                              repair_hint, settings_differences)


#: Columns of the tidy results table, in order.
TIDY_COLUMNS = [
    "source", "task", "dataset", "method", "strategy", "seed", "n_models",
    "round", "n_labeled", "model", "model_index", "metric", "value", "beta",
]


def authors_methods() -> dict[str, str]:
    """Method folder names of the authors' results -> our strategy names (``authors_name`` of each spec)."""
    from diamlib.strategies.registry import STRATEGIES

    return {spec.authors_name: name for name, spec in STRATEGIES.items() if spec.authors_name is not None}

#: The 12 OFA specialized networks in the order of the authors' published results
#: (the ``N``-model runs use the first ``N``).
AUTHORS_MODELS = (
    "note10_lat@22ms_top1@76.6_finetune@25",
    "note10_lat@16ms_top1@75.5_finetune@25",
    "note10_lat@11ms_top1@73.6_finetune@25",
    "note10_lat@8ms_top1@71.4_finetune@25",
    "note8_lat@65ms_top1@76.1_finetune@25",
    "note8_lat@49ms_top1@74.9_finetune@25",
    "note8_lat@31ms_top1@72.8_finetune@25",
    "note8_lat@22ms_top1@70.4_finetune@25",
    "s7edge_lat@88ms_top1@76.3_finetune@25",
    "s7edge_lat@58ms_top1@74.7_finetune@25",
    "s7edge_lat@41ms_top1@73.1_finetune@25",
    "s7edge_lat@29ms_top1@70.5_finetune@25",
)

#: Labels of the authors' runs: 3,000 initial random labels, then 1,500 per iteration (Sec. 6.1).
AUTHORS_INITIAL_LABELS = 3000
AUTHORS_QUERY_SIZE = 1500


class NoResultsError(FileNotFoundError):
    """A results folder is missing or holds no run."""


# --------------------------------------------------------------------------- our runs
class ResultsWarning(UserWarning):
    """Runs were left out of a results table (``load_results(..., on_problem="warn")``)."""


def load_results(root: Path, *, task: str | None = None, on_problem: str = "raise") -> pd.DataFrame:
    """Read every run under a profile's results folder into one tidy table, verified.

    Each run's ``curve.csv`` must match the size, row count and SHA-256 that its ``run.json``
    vouches for (:class:`diamlib.runstore.RunStore`), the run must be complete, and all runs of
    one ``<task>/<dataset>`` must share the same settings (data, zoo, training, budget). A run
    is never dropped silently.

    Parameters
    ----------
    root : Path
        A profile's results folder, ``<results root>/<profile>/``, holding
        ``<task>/<dataset>/<method>/seed<s>/{curve.csv,queries.csv,run.json}``.
    task : {"classification", "regression"}, optional
        Read only this task (default: both).
    on_problem : {"raise", "warn"}
        What to do with incomplete or unverifiable runs: ``"raise"`` (default) lists them all
        in one :class:`~diamlib.runstore.RunIntegrityError`; ``"warn"`` leaves them out, issues a
        :class:`ResultsWarning` listing them, and stores them in
        ``table.attrs["problems"]``, a tuple of ``(run folder, problem)`` pairs (plain values,
        so tables combined with ``pd.concat`` keep comparing their attrs).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`, ``source == "ours"``; ``n_models`` and ``model_index``
        follow the run's ``models`` list (zoo order); ``beta`` is the ``beta`` strategy option
        where the run has one, else NaN.

    Raises
    ------
    NoResultsError
        ``root`` does not exist or holds no run (of ``task``).
    RunIntegrityError
        With ``on_problem="raise"``: a run is incomplete, a file is missing or differs from
        what its ``run.json`` vouches for, or breaks the format (each named with its fix).
        Always: runs of one dataset were made with different settings (mixed results).
    ValueError
        ``task`` or ``on_problem`` is unknown.

    References
    ----------
    Sec. 6.1 of the paper (one learning curve per target model and query strategy).
    """
    root = Path(root)
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of {TASKS} or None for both")
    if on_problem not in ("raise", "warn"):
        raise ValueError(f"on_problem must be 'raise' or 'warn'; got {on_problem!r}")
    if not root.is_dir():
        raise NoResultsError(
            f"results folder {root} does not exist; run the active-learning notebooks "
            f"(02_classification, 03_regression) for this profile first"
        )
    tasks = [task] if task else list(TASKS)
    run_folders = sorted({p.parent for t in tasks for pattern in ("*/*/seed*/run.json", "*/*/seed*/curve.csv")
                          for p in (root / t).glob(pattern) if p.parent.parent.name != SHARED_DIR})
    if not run_folders:
        what = f"{task} runs" if task else "runs"
        raise NoResultsError(
            f"no {what} found under {root} (expected <task>/<dataset>/<method>/seed<s>/run.json); "
            f"run the active-learning notebooks first"
        )
    frames, settings, problems = [], {}, []
    for folder in run_folders:
        try:
            meta, curve = _read_run(folder)
        except RunIntegrityError as exc:
            problems.append((str(folder), str(exc)))
            continue
        frames.append(curve)
        settings[folder] = meta.get("settings")
    _check_not_mixed(settings)
    if problems:
        listing = "\n".join(f"  {problem if run in problem else f'{run}: {problem}'}" for run, problem in problems)
        if on_problem == "raise":
            raise RunIntegrityError(
                f"{len(problems)} of {len(run_folders)} runs under {root} cannot be used:\n{listing}\n"
                f"To analyse only the others, call load_results(..., on_problem='warn')"
            )
        warnings.warn(ResultsWarning(f"left out {len(problems)} of {len(run_folders)} runs under {root}:\n"
                                     f"{listing}"), stacklevel=2)
    if not frames:
        raise NoResultsError(f"no usable run under {root}; see the problems listed in the warning")
    table = _finish(pd.concat(frames, ignore_index=True))
    table.attrs["problems"] = tuple((str(run), str(problem)) for run, problem in problems)
    return table


#: Columns of :func:`load_constant_predictor`.
CONSTANT_COLUMNS = ["dataset", "method", "seed", "round", "n_labeled", "metric", "value", "worse_than_constant"]


def load_constant_predictor(root: Path, *, task: str = "regression") -> pd.DataFrame:
    """The constant predictor (the labeled set's mean target) beside every regression round.

    The loop records it in each round of ``run.json`` (``constant_predictor``, with the models
    that do not beat it in ``worse_than_constant``); :func:`load_results` has verified the runs.

    Parameters
    ----------
    root : Path
        A profile's results folder.
    task : str
        The task whose runs are read (regression records it).

    Returns
    -------
    DataFrame
        Columns :data:`CONSTANT_COLUMNS`: one row per (run, round, metric) with the constant
        predictor's test ``mse`` / ``mae``; ``worse_than_constant`` lists the target models at or
        above its MSE in that round. Empty when the runs record none (written before the loop
        recorded it).
    """
    rows = []
    for meta_path in sorted(Path(root).glob(f"{task}/*/*/seed*/run.json")):
        if meta_path.parent.parent.name == SHARED_DIR:
            continue
        meta = RunStore(meta_path.parent).read_meta()
        for log in meta.get("rounds", []):
            for metric, value in (log.get("constant_predictor") or {}).items():
                rows.append({"dataset": meta["dataset"], "method": meta["method"], "seed": int(meta["seed"]),
                             "round": int(log["round"]), "n_labeled": int(log["n_labeled"]), "metric": metric,
                             "value": float(value), "worse_than_constant": list(log.get("worse_than_constant", []))})
    return pd.DataFrame(rows, columns=CONSTANT_COLUMNS)


#: The columns of :func:`vote_diagnostics` read from DIAM's ``selection_info`` (Algorithm 2, line 8).
VOTE_COLUMNS = {"vote_histogram": "v histogram (0..n_models)", "max_vote": "max vote",
                "max_vote_tie": "max-vote tie", "top_tau_vote": "tau-th vote", "top_tau_tie": "tie size",
                "top_tau_tie_needed": "tie needed", "fraction_in_any_disagreement": "in some DIS region",
                "objective": "Eq. 9 objective"}


def vote_diagnostics(task_dir: Path, datasets, seeds, *, method: str = "diam",
                     overlap_with: tuple[str, ...] = ()) -> pd.DataFrame:
    """What DIAM's votes could tell apart, per (dataset, seed, round) of its classification runs.

    Parameters
    ----------
    task_dir : Path
        A results folder holding ``classification/<dataset>/<method>/seed<s>/`` runs.
    datasets, seeds : iterables
        The runs to read; a run that does not exist is skipped.
    method : str
        The DIAM run whose ``selection_info`` is read.
    overlap_with : tuple of str
        Other methods of the same seeds: the share of DIAM's batch they also picked
        (``overlap <method>``), where their runs exist.

    Returns
    -------
    DataFrame
        Columns ``dataset``, ``seed``, ``round``, then :data:`VOTE_COLUMNS` (``None`` where a
        run did not record one) and the overlaps.

    References
    ----------
    Algorithm 2, line 8 of the paper (the informativeness ``v``: how many target models'
    soft version spaces disagree on a point).
    """
    rows = []
    for dataset in datasets:
        for seed in seeds:
            folder = Path(task_dir) / "classification" / dataset / method / f"seed{seed}"
            if not (folder / "run.json").exists():
                continue
            run = RunStore(folder).load()
            others = {m: RunStore(folder.parent.parent / m / f"seed{seed}") for m in overlap_with}
            others = {m: store.load().queries for m, store in others.items() if store.exists()}
            for log in run.meta["rounds"]:
                info = log.get("selection_info")
                if not info:
                    continue
                row = {"dataset": dataset, "seed": seed, "round": log["round"]}
                row.update({name: info.get(key) for key, name in VOTE_COLUMNS.items()})
                if row["in some DIS region"] is not None:
                    row["in some DIS region"] = round(row["in some DIS region"], 3)
                picked = set(run.queries.loc[run.queries["round"] == log["round"] + 1, "index"])
                for other, queries in others.items():
                    also = set(queries.loc[queries["round"] == log["round"] + 1, "index"])
                    row[f"overlap {other}"] = len(picked & also) / max(len(picked), 1)
                rows.append(row)
    return pd.DataFrame(rows)


def _read_run(folder: Path) -> tuple[dict, pd.DataFrame]:
    """One verified, complete run folder -> (run.json, tidy rows); RunIntegrityError otherwise."""
    store = RunStore(folder)
    if not store.exists():
        raise RunIntegrityError(f"{store.meta_path}: file missing, so {folder / 'curve.csv'} is not vouched for; "
                                f"{repair_hint(folder)}")
    meta = store.read_meta()
    required = ("task", "dataset", "method", "strategy", "seed", "models")
    missing = [k for k in required if k not in meta]
    if missing:
        raise RunIntegrityError(f"{store.meta_path}: missing keys {missing}; the run was written by an "
                                f"incompatible version: delete {folder} and run it again")
    problems = store.problems(meta)
    if problems:
        raise RunIntegrityError("; ".join(problems) + f"; {repair_hint(folder)}")
    if not meta.get("complete", False):
        raise RunIntegrityError(
            f"incomplete: rounds 0..{meta.get('completed_rounds', -1)} of a longer run are saved; "
            f"run the notebooks again (or run_task) to resume it"
        )
    curve_path = folder / "curve.csv"
    curve = store.load().curve
    if list(curve.columns) != CURVE_COLUMNS:
        raise RunIntegrityError(
            f"{curve_path}: header must be {','.join(CURVE_COLUMNS)}; got {','.join(curve.columns)}")
    models = list(meta["models"])
    unknown = sorted(set(curve["model"]) - set(models))
    if unknown:
        raise RunIntegrityError(f"{curve_path}: models {unknown} are not in run.json's 'models' list {models}")
    options = meta.get("strategy_options") or {}
    beta = options.get("beta")
    curve = curve.assign(
        source="ours", task=meta["task"], dataset=meta["dataset"], method=meta["method"],
        strategy=meta["strategy"], seed=int(meta["seed"]), n_models=len(models),
        model_index=curve["model"].map({name: i for i, name in enumerate(models)}),
        beta=float(beta) if beta is not None else math.nan,
    )
    return meta, curve


def _check_not_mixed(settings: dict[Path, dict | None]) -> None:
    """All runs of one ``<task>/<dataset>`` folder must share their recorded settings."""
    first: dict[Path, Path] = {}
    for folder, recorded in settings.items():
        if recorded is None:
            continue
        dataset_dir = folder.parent.parent
        if dataset_dir not in first:
            first[dataset_dir] = folder
            continue
        names = tuple(f"in {f.relative_to(dataset_dir).as_posix()}" for f in (first[dataset_dir], folder))
        differences = settings_differences(settings[first[dataset_dir]], recorded, names)
        if differences:
            raise RunIntegrityError(other_settings_message(
                f"{dataset_dir} mixes runs", differences,
                "their curves cannot be compared; re-run one group under another profile name"))


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """Column order and dtypes of the tidy table."""
    table = table[TIDY_COLUMNS].copy()
    for column in ("seed", "n_models", "round", "n_labeled", "model_index"):
        table[column] = table[column].astype(np.int64)
    for column in ("value", "beta"):
        table[column] = table[column].astype(np.float64)
    for column in ("source", "task", "dataset", "method", "strategy", "model", "metric"):
        table[column] = table[column].astype(object)
    return table.sort_values(
        ["source", "task", "dataset", "n_models", "method", "seed", "metric", "round", "model_index"],
        kind="stable", ignore_index=True,
    )


# --------------------------------------------------------------------------- authors' runs
# Where they are: diamlib.reporting.authors_files (fetched, else beside the checkout).
def resolve_reference_dir(path: str | Path) -> Path:
    """The folder of the authors' results: ``path`` as given, else relative to the project root.

    Raises
    ------
    FileNotFoundError
        Neither location exists.
    """
    from diamlib.paths import project_root

    given = Path(path)
    candidates = [given] if given.is_absolute() else [given, project_root() / given]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"reference_dir {str(path)!r} does not exist (looked in the working directory and in the "
        f"project root); pass the folder of the authors' results (<n_models>/<dataset>/<method>/"
        f"<iteration>/performances.txt), or reference_dir = None to analyse only our results"
    )


def load_authors_results(reference_dir: Path) -> pd.DataFrame:
    """Read the raw per-model results published by the paper's authors.

    Parameters
    ----------
    reference_dir : Path
        Folder ``<n_models>/<dataset>/<method>/<iteration>/performances.txt``; each file has one
        row per target model (in :data:`AUTHORS_MODELS` order) with top-1 and top-5 test
        accuracy in percent.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`: ``source == "authors"``, task ``classification``, seed 0,
        ``n_models`` from the folder name, ``round`` = iteration, ``n_labeled`` =
        3000 + 1500 * iteration, metrics ``accuracy`` and ``top5_accuracy`` in [0, 1],
        method names mapped by :func:`authors_methods`, ``beta`` NaN (not published).

    Raises
    ------
    FileNotFoundError
        ``reference_dir`` is missing or holds no ``performances.txt``.
    ValueError
        A file is malformed (the message names the file and line), a method folder is
        unknown, or the number of rows differs from the folder's number of models.

    References
    ----------
    Sec. 6.1-6.5 of the paper (MNIST and Kuzushiji-MNIST with 2-12 target models).
    """
    reference_dir = Path(reference_dir)
    if not reference_dir.is_dir():
        raise FileNotFoundError(
            f"authors' results folder {reference_dir} does not exist; pass the folder that holds "
            f"<n_models>/<dataset>/<method>/<iteration>/performances.txt"
        )
    files = sorted(reference_dir.glob("*/*/*/*/performances.txt"))
    if not files:
        raise FileNotFoundError(
            f"no <n_models>/<dataset>/<method>/<iteration>/performances.txt under {reference_dir}"
        )
    methods = authors_methods()
    rows = []
    for path in files:
        n_text, dataset, method_dir, iteration_text = path.relative_to(reference_dir).parts[:4]
        if not (n_text.isdigit() and iteration_text.isdigit()):
            raise ValueError(f"{path}: folder names must be <n_models>/<dataset>/<method>/<iteration> integers")
        if method_dir not in methods:
            raise ValueError(f"{path}: unknown method folder {method_dir!r}; known: {sorted(methods)}")
        n_models, iteration = int(n_text), int(iteration_text)
        if not 1 <= n_models <= len(AUTHORS_MODELS):
            raise ValueError(f"{path}: {n_models} models; the published list has {len(AUTHORS_MODELS)}")
        accuracies = _read_performances(path)
        if len(accuracies) != n_models:
            raise ValueError(f"{path}: {len(accuracies)} rows, expected one per target model ({n_models})")
        method = methods[method_dir]
        n_labeled = AUTHORS_INITIAL_LABELS + AUTHORS_QUERY_SIZE * iteration
        for index, (top1, top5) in enumerate(accuracies):
            for metric, value in (("accuracy", top1), ("top5_accuracy", top5)):
                rows.append((dataset, method, n_models, iteration, n_labeled,
                             AUTHORS_MODELS[index], index, metric, value / 100.0))
    table = pd.DataFrame(rows, columns=["dataset", "method", "n_models", "round", "n_labeled",
                                        "model", "model_index", "metric", "value"])
    table = table.assign(source="authors", task="classification", strategy=table["method"],
                         seed=0, beta=math.nan)
    return _finish(table)


def _read_performances(path: Path) -> list[tuple[float, float]]:
    """``top1 top5`` per line (percent) -> list of pairs; clear error naming file and line."""
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) != 2 or not all(0.0 <= v <= 100.0 for v in values):
            raise ValueError(
                f"{path}, line {number}: expected two accuracies in percent (top-1 top-5); got {line!r}"
            )
        pairs.append((values[0], values[1]))
    return pairs
