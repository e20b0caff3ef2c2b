"""Figures of the analysis: learning curves (Fig. 1-4) and AULC bars.

Every strategy keeps one colour in all figures, the one the plotting style gives it
(:mod:`diamlib.reporting.styles`); DIAM is drawn on top with a thicker line. Curves show the mean over target
models, the band one standard deviation over target models (the paper's error bars). Functions
return the :class:`matplotlib.figure.Figure`; :func:`save_figure` writes it as PNG and SVG.
:func:`plot_seed_bands` (ours) draws the band over seeds instead of over target models.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from diamlib.reporting.stats import CONTEXT, order_methods
from diamlib.reporting.styles import CONSTANT_PREDICTOR, method_colours

#: Names of datasets in titles.
DATASET_NAMES = {
    "mnist": "MNIST", "kmnist": "Kuzushiji-MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "digits (8x8)",
    "emnist-letters": "EMNIST-letters", "emnist-digits": "EMNIST-digits", "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100", "celeba": "CelebA", "lfw-net": "LFW-NET",
    "landmarks-digits": "landmarks on digits", "landmarks-fashion-mnist": "landmarks on Fashion-MNIST",
}

#: Axis label and scale of each metric.
METRIC_AXES = {
    "accuracy": ("accuracy (%)", 100.0),
    "top5_accuracy": ("top-5 accuracy (%)", 100.0),
    "mse": ("MSE", 1.0),
    "mae": ("MAE", 1.0),
}

X_LABEL = "number of labeled examples"


def _spec(method: str | None):
    """The registry spec of a strategy name, or None for other names (variants, unknown)."""
    from diamlib.strategies.registry import STRATEGIES

    return STRATEGIES.get(method) if method is not None else None


def display_name(method: str) -> str:
    """Legend name of a method: its spec's display name (the folder name when not a registered strategy)."""
    spec = _spec(method)
    return spec.display_name if spec is not None else method


def dataset_title(dataset: str) -> str:
    """Title of a dataset (its registry name when unknown)."""
    return DATASET_NAMES.get(dataset, dataset)


def is_diam(method: str, strategy: str | None = None) -> bool:
    """Whether a method is the paper's method (a ``proposed`` spec; highlighted in figures)."""
    return any(spec is not None and spec.proposed for spec in (_spec(method), _spec(strategy)))


def metric_axis(metric: str) -> tuple[str, float]:
    """(label, scale) of a metric's axis; a clear error for unknown metrics."""
    try:
        return METRIC_AXES[metric]
    except KeyError:
        raise ValueError(f"no axis defined for metric {metric!r}; known: {sorted(METRIC_AXES)}") from None


def _draw_banded_curves(ax, curves: pd.DataFrame, colours: dict[str, str], scale: float, band_edges,
                        *, band_alpha: float) -> None:
    """Mean curve and band of every method in ``curves`` (one panel) on ``ax``, DIAM drawn last (on top).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    curves : DataFrame
        Rows ``method``, ``strategy``, ``n_labeled``, ``mean`` and the columns ``band_edges`` reads.
    colours : dict
        Method -> colour (:func:`diamlib.reporting.styles.method_colours`).
    scale : float
        Factor from the metric's values to the axis (:func:`metric_axis`).
    band_edges : callable
        ``band_edges(curve, mean, scale) -> (low, high)``: the band of one method's rows ``curve``
        (sorted by ``n_labeled``) around its scaled mean curve ``mean``, in axis units.
    band_alpha : float
        Opacity of the bands.
    """
    strategy_of = curves.groupby("method")["strategy"].first()
    methods = order_methods(curves["method"])
    # DIAM last so that it lies on top
    methods = [m for m in methods if not is_diam(m, strategy_of[m])] + \
              [m for m in methods if is_diam(m, strategy_of[m])]
    for method in methods:
        curve = curves[curves["method"] == method].sort_values("n_labeled")
        diam = is_diam(method, strategy_of[method])
        x = curve["n_labeled"].to_numpy()
        mean = curve["mean"].to_numpy() * scale
        low, high = band_edges(curve, mean, scale)
        ax.fill_between(x, low, high, color=colours[method], alpha=band_alpha, linewidth=0, zorder=1)
        ax.plot(x, mean, color=colours[method], linewidth=2.8 if diam else 1.4,
                marker="o", markersize=4 if diam else 3, zorder=10 if diam else 3,
                label=display_name(method))
    ax.grid(True, alpha=0.3)
    ax.set_xlabel(X_LABEL)


def _model_std_band(curve: pd.DataFrame, mean, scale: float) -> tuple:
    """Band edges ``mean +/- std`` over target models (the paper's error bars), for :func:`_draw_banded_curves`."""
    std = curve["std"].to_numpy() * scale
    return mean - std, mean + std


def _draw_curves(ax, curves: pd.DataFrame, colours: dict[str, str], scale: float, *, title: str,
                 y_label: str) -> None:
    """Mean curve and std band of every method in ``curves`` (one context) on ``ax``, with axis labels."""
    _draw_banded_curves(ax, curves, colours, scale, _model_std_band, band_alpha=0.10)
    ax.set_title(title)
    ax.set_ylabel(y_label)


def _legend(fig: Figure, methods: Sequence[str], colours: dict[str, str], strategies: dict[str, str]) -> None:
    handles = [Line2D([], [], color=colours[m], marker="o", markersize=4,
                      linewidth=2.8 if is_diam(m, strategies.get(m)) else 1.4) for m in methods]
    fig.legend(handles, [display_name(m) for m in methods], loc="center left",
               bbox_to_anchor=(1.0, 0.5), frameon=False, title="query strategy")


def _panel_order(frame: pd.DataFrame, datasets: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(frame["dataset"]))
    if datasets is None:
        return present
    missing = [d for d in datasets if d not in present]
    if missing:
        raise ValueError(f"datasets {missing} have no rows; present: {present}")
    return list(datasets)


def _check_one_panel_context(curves: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    """Each panel (``keys``) must hold one context."""
    others = [c for c in CONTEXT if c not in keys]
    counts = curves.groupby(list(keys))[others].nunique().max()
    if (counts > 1).any():
        raise ValueError(
            f"{what}: a panel would mix several {list(counts[counts > 1].index)}; "
            f"filter the curves first (e.g. one source and one number of models)"
        )


def _panels_of_metric(frame: pd.DataFrame, *, metric: str, keys: Sequence[str], what: str, rows: str,
                      datasets: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``frame`` for ``metric`` and the datasets to draw, checked to give one context a panel.

    Parameters
    ----------
    frame : DataFrame
        Curves or AULC rows with the :data:`diamlib.reporting.stats.CONTEXT` columns and ``metric``.
    metric : str
        Metric to keep.
    keys : sequence of str
        Columns that make one panel (``dataset``, maybe ``n_models``).
    what : str
        Name of the calling figure, for error messages.
    rows : str
        What the rows are called in the error for an absent metric (``curves``, ``AULC rows``).
    datasets : sequence of str, optional
        Panel order (default: as in ``frame``); other datasets are left out.

    Returns
    -------
    frame : DataFrame
        The rows of ``metric`` and of the chosen datasets.
    datasets : list of str
        The datasets in panel order.

    References
    ----------
    Fig. 1-4 of the paper (one panel per dataset and number of target models).
    """
    frame = frame[frame["metric"] == metric]
    if frame.empty:
        raise ValueError(f"no {rows} of metric {metric!r}")
    _check_one_panel_context(frame, keys, what)
    datasets = _panel_order(frame, datasets)
    return frame[frame["dataset"].isin(datasets)], datasets


def _finish_curve_figure(fig: Figure, curves: pd.DataFrame, colours: dict[str, str], title: str | None) -> Figure:
    """Add the shared legend of all methods in ``curves`` and the optional title to ``fig``."""
    strategies = curves.groupby("method")["strategy"].first().to_dict()
    _legend(fig, order_methods(curves["method"]), colours, strategies)
    if title:
        fig.suptitle(title)
    return fig


def plot_learning_curves(curves: pd.DataFrame, *, metric: str, title: str | None = None,
                         datasets: Sequence[str] | None = None, panel_width: float = 4.2, height: float = 3.4,
                         baseline: pd.DataFrame | None = None) -> Figure:
    """Learning curves of all methods, one panel per dataset.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`diamlib.reporting.stats.learning_curves`, one source and number of models per
        dataset.
    metric : str
        Metric to draw (``accuracy`` is shown in percent).
    title : str, optional
        Figure title.
    datasets : sequence of str, optional
        Panel order (default: as in ``curves``); other datasets are left out.
    baseline : DataFrame, optional
        A reference model to draw as a dashed black line, e.g. the constant predictor of
        regression (:func:`diamlib.reporting.results.load_constant_predictor`): rows ``dataset,
        n_labeled, metric, value``, averaged per labels.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Fig. 1 and Fig. 3 of the paper.
    """
    label, scale = metric_axis(metric)
    curves, datasets = _panels_of_metric(curves, metric=metric, keys=["dataset"], what="plot_learning_curves",
                                         rows="curves", datasets=datasets)
    colours = method_colours(list(curves["method"].unique()))
    fig, axes = plt.subplots(1, len(datasets), figsize=(panel_width * len(datasets), height),
                             squeeze=False, constrained_layout=True)
    for ax, dataset in zip(axes[0], datasets):
        panel = curves[curves["dataset"] == dataset]
        _draw_curves(ax, panel, colours, scale, y_label=label,
                     title=f"{dataset_title(dataset)}, {int(panel['n_models'].iloc[0])} target models")
        if baseline is not None:
            reference = baseline[(baseline["dataset"] == dataset) & (baseline["metric"] == metric)]
            reference = reference.groupby("n_labeled")["value"].mean()
            ax.plot(reference.index, scale * reference.to_numpy(), color="black", linestyle="--", linewidth=1.2,
                    label=CONSTANT_PREDICTOR)
            ax.legend(loc="best", fontsize="small", frameon=False)
    return _finish_curve_figure(fig, curves, colours, title)


def plot_model_count_curves(curves: pd.DataFrame, *, metric: str, title: str | None = None,
                            datasets: Sequence[str] | None = None, panel_width: float = 3.6, height: float = 3.0) -> Figure:
    """Learning curves for several numbers of target models: rows datasets, columns counts.

    Parameters
    ----------
    curves : DataFrame
        :func:`diamlib.reporting.stats.learning_curves` of :func:`diamlib.reporting.stats.model_count_table`.
    metric : str
        Metric to draw.
    datasets : sequence of str, optional
        Panel order (default: as in the table); other datasets are left out.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Fig. 2 and Fig. 4 of the paper.
    """
    label, scale = metric_axis(metric)
    curves, datasets = _panels_of_metric(curves, metric=metric, keys=["dataset", "n_models"],
                                         what="plot_model_count_curves", rows="curves", datasets=datasets)
    counts = sorted(curves["n_models"].unique())
    colours = method_colours(list(curves["method"].unique()))
    fig, axes = plt.subplots(len(datasets), len(counts), squeeze=False, constrained_layout=True,
                             figsize=(panel_width * len(counts), height * len(datasets)))
    for i, dataset in enumerate(datasets):
        for j, count in enumerate(counts):
            ax = axes[i][j]
            panel = curves[(curves["dataset"] == dataset) & (curves["n_models"] == count)]
            if panel.empty:
                ax.set_axis_off()
                continue
            _draw_curves(ax, panel, colours, scale, y_label=label, title=f"{dataset_title(dataset)}, {count} models")
    return _finish_curve_figure(fig, curves, colours, title)


def plot_aulc(aulc: pd.DataFrame, *, metric: str, title: str | None = None,
              datasets: Sequence[str] | None = None, panel_width: float = 3.8, height: float = 3.2) -> Figure:
    """Dots at the normalised area under each mean learning curve, one panel per dataset.

    Dots, not bars: the areas differ by a few tenths of a point, so the axis is zoomed to their
    range, and a bar's length from a cut axis would exaggerate the differences. Each dot carries
    its value.

    Parameters
    ----------
    aulc : DataFrame
        Output of :func:`diamlib.reporting.stats.area_under_curve`.
    metric : str
        Metric to draw.
    datasets : sequence of str, optional
        Panel order (default: as in the table); other datasets are left out.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Not in the paper; summarises Fig. 1-4 over the label budget.
    """
    label, scale = metric_axis(metric)
    aulc, datasets = _panels_of_metric(aulc, metric=metric, keys=["dataset"], what="plot_aulc",
                                       rows="AULC rows", datasets=datasets)
    colours = method_colours(list(aulc["method"].unique()))
    fig, axes = plt.subplots(1, len(datasets), figsize=(panel_width * len(datasets), height),
                             squeeze=False, constrained_layout=True)
    for ax, dataset in zip(axes[0], datasets):
        panel = aulc[aulc["dataset"] == dataset].set_index("method")
        methods = order_methods(panel.index)[::-1]
        values = panel.loc[methods, "aulc"] * scale
        names = [display_name(m) for m in methods]
        ax.scatter(values, names, color=[colours[m] for m in methods], s=36, zorder=3)
        low, high = values.min(), values.max()
        pad = max((high - low) * 0.35, abs(high) * 2e-3)
        ax.set_xlim(low - pad, high + pad)
        for name, value in zip(names, values):
            ax.annotate(f"{value:.2f}", (value, name), textcoords="offset points", xytext=(0, 5),
                        ha="center", fontsize="x-small")
        ax.set_title(dataset_title(dataset))
        ax.set_xlabel(f"area under the learning curve, {label}")
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


#: Bands of :func:`plot_seed_bands`: name -> what the band spans.
SEED_BANDS = {"minmax": "min-max over seeds", "std": "mean +/- 1 std over seeds (ddof=0)"}


def _seed_band_edges(curve: pd.DataFrame, mean, scale: float, band: str) -> tuple:
    """Band edges over seeds (:data:`SEED_BANDS`), for :func:`_draw_banded_curves`."""
    if band == "minmax":
        return curve["seed_min"].to_numpy() * scale, curve["seed_max"].to_numpy() * scale
    spread = curve["seed_std"].to_numpy() * scale
    return mean - spread, mean + spread


def _draw_seed_band(ax, curves: pd.DataFrame, colours: dict[str, str], scale: float, band: str) -> None:
    """Mean curve and seed band of every method in ``curves`` (one panel) on ``ax``, DIAM on top."""
    _draw_banded_curves(ax, curves, colours, scale, partial(_seed_band_edges, band=band), band_alpha=0.15)


def plot_seed_bands(table: pd.DataFrame, *, metric: str, band: str = "minmax", per_model: bool = False,
                    title: str | None = None, panel_width: float = 4.2, height: float = 3.4,
                    columns: int = 4) -> Figure:
    """Learning curves averaged over seeds, with a band showing how the seeds differ (our addition).

    Each method's line is the mean over seeds of its mean-over-target-models curve
    (:func:`diamlib.reporting.stats.seed_curves`); the band spans the seeds' curves: ``minmax`` from the
    lowest to the highest seed, ``std`` the mean +/- one population standard deviation over seeds.
    Colours and legend order follow the strategy registry, DIAM on top. With ``per_model``,
    one more panel per target model shows that model's own curve and band over seeds.

    Parameters
    ----------
    table : DataFrame
        Tidy results (:func:`diamlib.reporting.results.load_results`) of one context once ``metric`` is
        selected (one source, dataset and number of target models).
    metric : str
        Metric to draw (``accuracy`` in percent).
    band : {"minmax", "std"}
        What the band spans (:data:`SEED_BANDS`).
    per_model : bool
        Add one panel per target model (in zoo order).
    title : str, optional
        Figure title.
    columns : int
        Panels per row when ``per_model``.

    Returns
    -------
    matplotlib.figure.Figure
        The first axes holds the mean over target models, one line per method.

    Raises
    ------
    ValueError
        An unknown band or metric, no rows of ``metric``, or several contexts.

    References
    ----------
    Fig. 1 and Fig. 3 of the paper (mean over target models vs labels); the band over seeds is
    ours (the paper shows one run).
    """
    from diamlib.reporting.stats import seed_curves

    if band not in SEED_BANDS:
        raise ValueError(f"unknown band {band!r}; use one of {sorted(SEED_BANDS)}")
    label, scale = metric_axis(metric)
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no rows of metric {metric!r}; metrics present: {sorted(table['metric'].unique())}")
    contexts = rows[CONTEXT].drop_duplicates()
    if len(contexts) != 1:
        raise ValueError(f"plot_seed_bands draws one context, but the rows hold {len(contexts)}; filter first, "
                         f"e.g. diamlib.reporting.stats.select(table, dataset=..., n_models=...)")
    context = contexts.iloc[0]
    mean_curves = seed_curves(rows)
    colours = method_colours(list(mean_curves["method"].unique()))
    models = list(rows.sort_values("model_index")["model"].unique()) if per_model else []
    n_panels = 1 + len(models)
    n_cols = min(n_panels, max(int(columns), 1))
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(panel_width * n_cols, height * n_rows), squeeze=False,
                             constrained_layout=True)
    flat = axes.ravel()
    n_seeds = int(mean_curves["n_seeds"].max())
    _draw_seed_band(flat[0], mean_curves, colours, scale, band)
    flat[0].set_title(f"{dataset_title(context['dataset'])}, mean of {int(context['n_models'])} target models")
    flat[0].set_ylabel(f"{label}; band: {SEED_BANDS[band]} ({n_seeds})")
    if models:
        model_curves = seed_curves(rows, per_model=True)
        for ax, model in zip(flat[1:], models):
            _draw_seed_band(ax, model_curves[model_curves["model"] == model], colours, scale, band)
            ax.set_title(model, fontsize=8)
            ax.set_ylabel(label)
    for ax in flat[n_panels:]:
        ax.set_axis_off()
    return _finish_curve_figure(fig, mean_curves, colours, title)


def plot_vote_histograms(votes: pd.DataFrame, *, n_models: int, panel_width: float = 3.6,
                         height: float = 3.0, max_columns: int = 4) -> Figure:
    """Histograms of DIAM's informativeness ``v`` over the pool, one panel per seed, one bar group per round.

    Panels wrap after ``max_columns`` seeds, so ten seeds make a grid of readable width rather
    than one strip.

    Parameters
    ----------
    votes : DataFrame
        One row per (seed, round) with columns ``seed``, ``round`` and
        ``v histogram (0..n_models)`` (the number of pool points with ``v = 0 .. n_models``, as
        :func:`diamlib.strategies.disagreement.vote_diagnostics` reports it).
    n_models : int
        Number of target models (the largest possible ``v``).

    Returns
    -------
    Figure
        Bars give the share of the pool at each ``v``; a pool concentrated at the largest
        ``v`` (saturated votes) cannot be ranked by ``v``.

    References
    ----------
    ``v`` of Eq. 9 and Algorithm 2 (line 8) of the paper.
    """
    column = "v histogram (0..n_models)"
    missing = [c for c in ("seed", "round", column) if c not in votes.columns]
    if missing:
        raise ValueError(f"plot_vote_histograms needs columns seed, round and {column!r}; missing {missing}")
    seeds = sorted(votes["seed"].unique())
    rounds = sorted(votes["round"].unique())
    n_columns = min(len(seeds), max_columns)
    n_rows = -(-len(seeds) // n_columns)
    fig, grid = plt.subplots(n_rows, n_columns, figsize=(panel_width * n_columns, height * n_rows), squeeze=False,
                             sharey=True)
    for unused in grid.ravel()[len(seeds):]:
        unused.set_visible(False)
    axes = grid.ravel()[None, :len(seeds)]
    width = 0.8 / max(len(rounds), 1)
    colours = plt.get_cmap("viridis")([i / max(len(rounds) - 1, 1) for i in range(len(rounds))])
    for ax, seed in zip(axes[0], seeds):
        for position, round_index in enumerate(rounds):
            row = votes[(votes["seed"] == seed) & (votes["round"] == round_index)]
            if row.empty:
                continue
            counts = pd.Series(list(row.iloc[0][column]), dtype=float)
            if len(counts) != n_models + 1:
                raise ValueError(f"seed {seed}, round {round_index}: a histogram over v = 0..{n_models} needs "
                                 f"{n_models + 1} counts, got {len(counts)}")
            offsets = [v - 0.4 + width * (position + 0.5) for v in range(n_models + 1)]
            ax.bar(offsets, counts / counts.sum(), width=width, color=colours[position],
                   label=f"round {round_index}")
        ax.set_title(f"seed {seed}")
        ax.set_xlabel("v (models whose votes disagree)")
        ax.set_xticks(range(n_models + 1))
    for row in grid:
        row[0].set_ylabel("share of the pool")
    axes[0][-1].legend(frameon=False, fontsize="small")
    fig.suptitle("DIAM's votes over the pool")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, directory: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.png`` and ``.svg`` (SVG without a date, stable ids).

    Returns
    -------
    list of Path
        The two files written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    with matplotlib.rc_context({"svg.hashsalt": name}):
        fig.savefig(paths[0], dpi=150, bbox_inches="tight")
        fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    return paths
