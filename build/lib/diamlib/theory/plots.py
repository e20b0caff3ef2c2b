"""Figures of notebook 01 (theory on toy classes).

References
----------
Definitions 3-4, Corollary 2, Algorithm 1 / Theorem 3 and Sec. 5.3 of the paper.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from diamlib.theory.closed_forms import (
    interval_disagreement_coefficient,
    threshold_disagreement_coefficient,
)

METHOD_STYLES = {
    "CAL'": ("tab:blue", "o"),
    "CAL' (RobustCAL on union)": ("tab:blue", "o"),
    "DIAM-online": ("tab:red", "s"),
    "passive ERM": ("tab:gray", "^"),
    "CAL per class": ("tab:green", "D"),
}


def plot_coefficients(coefficients: pd.DataFrame, step: float, ax: plt.Axes) -> None:
    """``theta_h(r0)``: numerical values (markers) on the closed forms (lines).

    Parameters
    ----------
    coefficients : pandas.DataFrame
        Output of :func:`~diamlib.theory.coefficients.check_closed_forms`.
    step : float
        Grid step used there (for the interval closed form).
    ax : matplotlib Axes
    """
    radii = np.linspace(0.0, coefficients["r0"].max(), 400)
    for k, (h, rows) in enumerate(coefficients.groupby("h", sort=False)):
        colour = f"C{k}"
        a, b = float(rows["a"].iloc[0]), float(rows["b"].iloc[0])
        if rows["class"].iloc[0] == "thresholds":
            curve = [threshold_disagreement_coefficient(a, r) for r in radii]
        else:
            curve = [interval_disagreement_coefficient(a, b, r, step) for r in radii]
        style = "--" if rows["class"].iloc[0] == "thresholds" else "-"
        ax.plot(radii, curve, style, color=colour, lw=1.2, label=f"{h} closed form")
        ax.plot(rows["r0"], rows["numeric"], "o", color=colour, ms=5, mfc="none")
    ax.set_yscale("log")
    ax.set_xlabel("$r_0$")
    ax.set_ylabel(r"$\theta_h(r_0)$")
    ax.set_title("Disagreement coefficient: numeric (o) vs closed form")
    ax.legend(fontsize=7)


def plot_labels_vs_epsilon(
    summary: pd.DataFrame, ax: plt.Axes, title: str, output: str = "erm",
    methods: Sequence[str] | None = None, references: bool = True,
) -> None:
    """Mean labels needed versus ``1/epsilon`` on log-log axes, with ``log(1/eps)`` and
    ``1/eps`` reference curves anchored at the largest epsilon.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`~diamlib.theory.experiments.summarise_labels` for one setting.
    ax : matplotlib Axes
    title : str
    output : {"erm", "version_space"}
    methods : sequence of str, optional
    references : bool
    """
    rows = summary[summary["output"] == output]
    methods = list(methods) if methods is not None else list(dict.fromkeys(rows["method"]))
    inverse = None
    for method in methods:
        data = rows[rows["method"] == method].sort_values("epsilon", ascending=False)
        colour, marker = METHOD_STYLES.get(method, ("black", "x"))
        inverse = 1.0 / data["epsilon"].to_numpy()
        ax.errorbar(inverse, data["mean_labels"], yerr=data["std_labels"].fillna(0.0),
                    color=colour, marker=marker, capsize=3, label=method)
    if references and inverse is not None and len(inverse) > 1:
        grid = np.geomspace(inverse.min(), inverse.max(), 50)
        anchor = rows[rows["epsilon"] == rows["epsilon"].max()]["mean_labels"].dropna()
        if len(anchor):
            low, high = anchor.min(), anchor.max()
            ax.plot(grid, low * np.log(grid) / np.log(grid[0]), "k:", lw=1, label=r"$\propto\log(1/\varepsilon)$")
            ax.plot(grid, high * grid / grid[0], "k--", lw=1, label=r"$\propto 1/\varepsilon$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if inverse is not None:
        ax.set_xticks(inverse, [f"{v:g}" for v in inverse])
        ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel(r"$1/\varepsilon$")
    ax.set_ylabel("labels needed (mean over seeds)")
    ax.set_title(title)
    ax.legend(fontsize=7)


def plot_label_usage(trajectories: pd.DataFrame, ax: plt.Axes, title: str) -> None:
    """Labels queried versus stream examples seen (mean over seeds, at ``m = 2^j``)."""
    m = trajectories["m"].to_numpy()
    at_updates = trajectories[(m > 0) & ((m & (m - 1)) == 0)]
    means = at_updates.groupby(["method", "m"], sort=False)["labels"].mean().reset_index()
    for method, rows in means.groupby("method", sort=False):
        colour, marker = METHOD_STYLES.get(method, ("black", "x"))
        ax.plot(rows["m"], rows["labels"], color=colour, marker=marker, ms=4, label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("stream examples seen $m$")
    ax.set_ylabel("labels queried")
    ax.set_title(title)
    ax.legend(fontsize=7)


def plot_regression_checks(problem1: pd.DataFrame, problem2: pd.DataFrame, axes: Sequence[plt.Axes]) -> None:
    """Left: cvxpy versus DIAM-svd's Eq. (12). Right: DIAM-leverage's scores versus the hat-matrix diagonal."""
    left, right = axes
    left.plot(problem1["diam_svd"], problem1["cvxpy"], "o", mfc="none")
    lim = [0, float(problem1[["diam_svd", "cvxpy"]].to_numpy().max()) * 1.05]
    left.plot(lim, lim, "k--", lw=1)
    left.set_xlabel(r"DIAM-svd $2\sqrt{\sigma}\,\|\Sigma^{-1}B^\top x\|$")
    left.set_ylabel(r"cvxpy $\max |w_1^\top x - w_2^\top x|$")
    left.set_title("Problem 1 (Eq. 12)")
    colours = np.where(problem2["unlabeled"], "tab:orange", "tab:blue")
    right.scatter(problem2["hat_diagonal"], problem2["leverage"], c=colours, s=14)
    lim = [0, float(problem2[["hat_diagonal", "leverage"]].to_numpy().max()) * 1.05]
    right.plot(lim, lim, "k--", lw=1)
    right.set_xlabel(r"$[X(X^\top X)^{-1}X^\top]_{jj}$")
    right.set_ylabel(r"DIAM-leverage $\|e_j^\top A\|^2$ (orange: unlabeled rows)")
    right.set_title("Problem 2 (leverage scores)")
