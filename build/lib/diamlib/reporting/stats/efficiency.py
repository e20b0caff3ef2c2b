"""Beyond the paper: the area under the learning curve, and the labels needed to reach a target."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from diamlib.reporting.stats.common import CONTEXT, higher_is_better, order_methods, require_columns


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
    require_columns(curves, CONTEXT + ["method", "n_labeled", "mean"], "area_under_curve")
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
    require_columns(curves, CONTEXT + ["method", "n_labeled", "mean"], "label_savings")
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
