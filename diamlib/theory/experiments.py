"""Label-complexity experiments of Sec. 4-5 on the toy settings, and their checks.

Every run draws one stream per seed (``child_rng(seed, "theory-stream", setting)``) that all
methods share, so differences between methods are not sampling noise of the stream.

References
----------
Corollary 2 (CAL' versus passive ERM and per-class CAL), Algorithm 1 / Theorems 2-3
(DIAM-online versus CAL'; Theorem 2's ``Lambda_2`` beside DIAM-online's labels) of the paper.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diamlib.seeding import child_rng
from diamlib.theory.learners import (
    Trajectory,
    labels_needed,
    run_cal,
    run_passive_erm,
    run_soft_version_space,
)
from diamlib.theory.projection import union_scores
from diamlib.theory.query_bounds import theorem2_terms_table
from diamlib.theory.settings import (
    ToySetting,
    interleaved_thresholds,
    quadrant_target,
    stumps_and_linear,
    thresholds_and_intervals,
)
from diamlib.theory.stream import draw_stream

CAL_PRIME = "CAL'"
CAL_PRIME_ROBUST = "CAL' (RobustCAL on union)"
PASSIVE = "passive ERM"
PER_CLASS = "CAL per class"
DIAM_ONLINE = "DIAM-online"


def _thresholds_intervals(pool_size: int, noise: float, rng: np.random.Generator) -> ToySetting:
    return thresholds_and_intervals(pool_size, noise, step=0.01)


def _stumps_linear(pool_size: int, noise: float, rng: np.random.Generator) -> ToySetting:
    return stumps_and_linear(pool_size, rng, noise)


def _quadrant(pool_size: int, noise: float, rng: np.random.Generator) -> ToySetting:
    return quadrant_target(pool_size, rng, noise)


def _interleaved(pool_size: int, noise: float, rng: np.random.Generator) -> ToySetting:
    return interleaved_thresholds(pool_size, noise, n_classes=3)


SETTINGS: dict[str, Callable[[int, float, np.random.Generator], ToySetting]] = {
    "thresholds+intervals": _thresholds_intervals,
    "stumps+linear": _stumps_linear,
    "quadrant": _quadrant,
    "interleaved": _interleaved,
}


def make_setting(name: str, pool_size: int, noise: float, seed: int) -> ToySetting:
    """Build a named toy setting; 2-D settings draw their points with ``child_rng(seed, ...)``.

    Parameters
    ----------
    name : str
        One of ``SETTINGS``: ``"thresholds+intervals"``, ``"stumps+linear"``, ``"quadrant"``,
        ``"interleaved"``.
    pool_size : int
    noise : float
    seed : int

    Returns
    -------
    ToySetting
    """
    if name not in SETTINGS:
        raise ValueError(f"unknown setting {name!r}; valid: {', '.join(SETTINGS)}")
    return SETTINGS[name](pool_size, noise, child_rng(seed, f"theory-points-{name}"))


@dataclass(frozen=True)
class ComparisonResult:
    """Labels needed per (method, seed, epsilon) and the runs' trajectories.

    Attributes
    ----------
    labels : pandas.DataFrame
        Columns ``setting, method, output, seed, epsilon, labels`` (``labels`` is ``nan`` when
        the method did not reach ``epsilon`` within the stream).
    trajectories : pandas.DataFrame
        Columns ``setting, method, seed, m, labels, erm_excess, version_space_excess`` and,
        for DIAM-online, ``union_mass, intersection_mass``.
    """

    labels: pd.DataFrame
    trajectories: pd.DataFrame


def _trajectory_rows(trajectory: Trajectory, setting: str, method: str, seed: int) -> pd.DataFrame:
    frame = trajectory.to_frame()
    keep = ["m", "labels", "erm_excess", "version_space_excess"] + list(trajectory.shared_info)
    frame = frame[keep].copy()
    frame.insert(0, "seed", seed)
    frame.insert(0, "method", method)
    frame.insert(0, "setting", setting)
    return frame


def _label_rows(
    values: np.ndarray, epsilons: Sequence[float], setting: str, method: str, output: str, seed: int
) -> list[dict]:
    return [
        {"setting": setting, "method": method, "output": output, "seed": seed, "epsilon": e, "labels": v}
        for e, v in zip(epsilons, values)
    ]


def _check_seeds_epsilons(seeds: Sequence[int], epsilons: Sequence[float]) -> None:
    if len(seeds) == 0:
        raise ValueError("seeds must not be empty")
    if len(epsilons) == 0 or any(not 0 < e < 1 for e in epsilons):
        raise ValueError(f"epsilons must be a non-empty list of values in (0, 1); got {list(epsilons)}")


def _check_run_arguments(seeds: Sequence[int], epsilons: Sequence[float], stream_log2: int) -> None:
    _check_seeds_epsilons(seeds, epsilons)
    if not 1 <= stream_log2 <= 24:
        raise ValueError(f"stream_log2 must lie in [1, 24]; got {stream_log2}")


def compare_realizable(
    setting_name: str,
    *,
    seeds: Sequence[int],
    epsilons: Sequence[float],
    pool_size: int,
    stream_log2: int,
    delta: float,
) -> ComparisonResult:
    """Corollary 2: CAL', passive ERM and CAL run separately per class, noise-free labels.

    * CAL': CAL on the union ``C~`` (realizable: ``h*`` is in it), outputs the projections
      ``argmin_{h in C_i} d(h, h_A)`` of any ``h_A`` in the version space (Theorem 1).
    * passive ERM: labels every example, outputs an ERM per class (``max_i`` bound).
    * CAL per class: one run per class on its own stream, labels summed (``sum_i`` bound);
      CAL where ``h*`` is in the class, RobustCAL (its agnostic version) where it is not,
      since CAL's version space can become empty there.

    Parameters
    ----------
    setting_name : str
        A name in ``SETTINGS`` whose target lies in the union (``"thresholds+intervals"``,
        ``"stumps+linear"``).
    seeds : sequence of int
    epsilons : sequence of float
    pool_size : int
    stream_log2 : int
        Stream length ``2^stream_log2`` (the horizon ``2^B`` of Algorithm 1).
    delta : float
        Confidence of RobustCAL's ``sigma``.

    Returns
    -------
    ComparisonResult
        ``output`` is ``"erm"`` throughout (for CAL the version space and the ERMs coincide).

    References
    ----------
    Theorem 1, Corollary 2 and Sec. 3.2 (trivial ``max`` and ``sum`` bounds) of the paper.
    """
    _check_run_arguments(seeds, epsilons, stream_log2)
    label_rows: list[dict] = []
    trajectories = []
    for seed in seeds:
        setting = make_setting(setting_name, pool_size, 0.0, seed)
        if not setting.target_in_class().any():
            raise ValueError(f"setting {setting_name!r} is not realizable on the union; use compare_agnostic")
        weights = setting.problem.distribution.weights
        excess = setting.excess_errors()
        predictions = [c.predictions for c in setting.classes]
        stream = draw_stream(setting.problem, 2**stream_log2, child_rng(seed, "theory-stream", 0))

        union_predictions, union_score = union_scores(setting)
        cal_prime = run_cal(union_predictions, union_score, stream, name="union")
        passive = run_passive_erm(predictions, excess, stream, names=setting.class_names)
        for method, trajectory in ((CAL_PRIME, cal_prime), (PASSIVE, passive)):
            label_rows += _label_rows(
                labels_needed(trajectory, epsilons), epsilons, setting_name, method, "erm", seed
            )
            trajectories.append(_trajectory_rows(trajectory, setting_name, method, seed))

        per_class = np.zeros(len(epsilons))
        realizable = setting.target_in_class()
        for i, (p, s) in enumerate(zip(predictions, excess)):
            own_stream = draw_stream(setting.problem, 2**stream_log2, child_rng(seed, "theory-stream", 1 + i))
            if realizable[i]:
                trajectory = run_cal(p, s, own_stream, name=setting.class_names[i])
            else:
                trajectory = run_soft_version_space([p], [s], own_stream, weights, delta=delta)
            per_class = per_class + labels_needed(trajectory, epsilons)
        label_rows += _label_rows(per_class, epsilons, setting_name, PER_CLASS, "erm", seed)
    return ComparisonResult(pd.DataFrame(label_rows), pd.concat(trajectories, ignore_index=True))


def compare_agnostic(
    setting_name: str,
    *,
    seeds: Sequence[int],
    epsilons: Sequence[float],
    pool_size: int,
    noise: float,
    stream_log2: int,
    delta: float,
    min_votes: int = 1,
) -> ComparisonResult:
    """DIAM-online (Algorithm 1) versus CAL' made robust and passive ERM, with label noise.

    * DIAM-online: one soft version space per class, query if ``x`` is in at least
      ``min_votes`` of the ``DIS(V_i)``, RobustCAL-style ``sigma_i`` at powers of two.
    * CAL' (RobustCAL on union): plain CAL breaks under label noise (its version space can
      lose ``h*`` or become empty), so CAL' here runs RobustCAL on ``C~`` and outputs the
      projections of Theorem 1.
    * passive ERM.

    Labels needed are reported for both output rules: ``"erm"`` (an empirical minimiser in
    the soft version space) and ``"version_space"`` (any member, Algorithm 1 line 16, what
    Theorems 2-3 bound).

    Parameters
    ----------
    setting_name : str
        A name in ``SETTINGS``.
    seeds, epsilons, pool_size, stream_log2, delta
        As in :func:`compare_realizable`.
    noise : float
        Label-flip probability.
    min_votes : int, default 1
        ``q`` of Algorithm 1.

    Returns
    -------
    ComparisonResult

    References
    ----------
    Algorithm 1, Theorems 2-3 of the paper.
    """
    _check_run_arguments(seeds, epsilons, stream_log2)
    label_rows: list[dict] = []
    trajectories = []
    for seed in seeds:
        setting = make_setting(setting_name, pool_size, noise, seed)
        weights = setting.problem.distribution.weights
        excess = setting.excess_errors()
        predictions = [c.predictions for c in setting.classes]
        stream = draw_stream(setting.problem, 2**stream_log2, child_rng(seed, "theory-stream", 0))
        union_predictions, union_score = union_scores(setting)
        runs = {
            DIAM_ONLINE: run_soft_version_space(
                predictions, excess, stream, weights, min_votes=min_votes, delta=delta,
                names=setting.class_names,
            ),
            CAL_PRIME_ROBUST: run_soft_version_space(
                [union_predictions], [union_score], stream, weights, delta=delta, names=["union"]
            ),
            PASSIVE: run_passive_erm(predictions, excess, stream, names=setting.class_names),
        }
        for method, trajectory in runs.items():
            for output in ("erm", "version_space"):
                label_rows += _label_rows(
                    labels_needed(trajectory, epsilons, output), epsilons, setting_name, method,
                    output, seed,
                )
            trajectories.append(_trajectory_rows(trajectory, setting_name, method, seed))
    return ComparisonResult(pd.DataFrame(label_rows), pd.concat(trajectories, ignore_index=True))


def summarise_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """Mean labels over seeds per (setting, method, output, epsilon).

    Returns
    -------
    pandas.DataFrame
        Columns ``setting, method, output, epsilon, mean_labels, std_labels, reached,
        n_seeds``; ``mean_labels`` is ``nan`` unless every seed reached ``epsilon``.
    """
    grouped = labels.groupby(["setting", "method", "output", "epsilon"], sort=False)["labels"]
    summary = grouped.agg(
        mean_labels="mean", std_labels="std", reached="count", n_seeds="size"
    ).reset_index()
    summary.loc[summary["reached"] < summary["n_seeds"], "mean_labels"] = np.nan
    return summary


#: How :func:`labels_table` shows an accuracy that some seed never reached within the stream.
NOT_REACHED = "not reached"


def labels_table(summary: pd.DataFrame, index: Sequence[str]) -> pd.DataFrame:
    """:func:`summarise_labels` as a table to read: ``index`` rows, one column per epsilon.

    A cell is the mean number of labels over the seeds, rounded to 0.1, or :data:`NOT_REACHED`
    where some seed's output never became (and stayed) epsilon-good before the stream ended,
    instead of a bare NaN.
    """
    table = summary.pivot_table(index=list(index), columns="epsilon", values="mean_labels", sort=False).round(1)
    table = table.reindex(columns=pd.unique(summary["epsilon"]))  # epsilons nobody reached, too
    return table.astype(object).where(table.notna(), NOT_REACHED)


def _means(summary: pd.DataFrame, method: str, output: str) -> pd.Series:
    rows = summary[(summary["method"] == method) & (summary["output"] == output)]
    if rows.empty:
        raise ValueError(f"no rows for method {method!r} with output {output!r} in the summary")
    return rows.set_index("epsilon")["mean_labels"]


def assert_fewer_labels(
    summary: pd.DataFrame, better: str, worse: str, output: str = "erm"
) -> None:
    """Raise AssertionError unless ``better`` needs at most as many labels as ``worse``.

    Compared per epsilon on the seed-mean labels; ``better`` must reach every epsilon, and a
    ``worse`` that did not reach one counts as needing more.
    """
    ours, theirs = _means(summary, better, output), _means(summary, worse, output)
    failures = []
    for epsilon, value in ours.items():
        other = theirs.get(epsilon, np.nan)
        if math.isnan(value) or (not math.isnan(other) and value > other):
            failures.append(f"eps={epsilon:g}: {better} {value:.1f} vs {worse} {other:.1f}")
    if failures:
        raise AssertionError(
            f"expected {better} to need no more labels than {worse} ({output} output): "
            + "; ".join(failures)
        )


def assert_reaches_every_epsilon(summary: pd.DataFrame, method: str, output: str = "erm") -> None:
    """Raise AssertionError if ``method`` missed some epsilon in some seed."""
    missing = _means(summary, method, output)
    missing = missing[missing.isna()]
    if len(missing):
        raise AssertionError(
            f"{method} ({output} output) did not reach epsilon = {list(missing.index)} in every "
            f"seed within the stream"
        )


def theorem3_conditions(setting: ToySetting, epsilons: Sequence[float]) -> pd.DataFrame:
    """Theorem 3's assumption ``max_i nu_i <= (ln 2 / 2) epsilon`` on the noise-free part.

    With uniform label noise every error contains ``eta``; the theorem's ``nu_i`` (errors
    measured against ``h*``) is the noise-free ``min_{h in C_i} d(h, h*)``.

    Returns
    -------
    pandas.DataFrame
        One row per epsilon: ``epsilon``, ``max_nu`` and ``bound = ln(2)/2 * epsilon``,
        ``holds``.
    """
    max_nu = max(float(d.min()) for d in setting.distances_to_target)
    rows = [
        {"epsilon": e, "max_nu": max_nu, "bound": math.log(2) / 2 * e, "holds": max_nu <= math.log(2) / 2 * e}
        for e in epsilons
    ]
    return pd.DataFrame(rows)


def theorem2_bounds(
    setting_name: str,
    *,
    seeds: Sequence[int],
    epsilons: Sequence[float],
    pool_size: int,
    noise: float,
    delta: float,
) -> pd.DataFrame:
    """Theorem 2's ``Lambda_2`` (constant 1) on a named setting, per seed and epsilon.

    Each seed builds the setting as :func:`compare_agnostic` does (same points, same noise),
    so the values sit beside the labels DIAM-online needed on that seed.

    Parameters
    ----------
    setting_name : str
        A name in ``SETTINGS`` (Theorem 2's case is ``"quadrant"``).
    seeds, epsilons, pool_size, noise, delta
        As in :func:`compare_agnostic`.

    Returns
    -------
    pandas.DataFrame
        Columns ``setting, seed, epsilon, class, nu, theta, d, term`` (one row per class; the
        bound is the sum of ``term`` over the classes).

    References
    ----------
    Theorem 2 of the paper.
    """
    _check_seeds_epsilons(seeds, epsilons)
    frames = []
    for seed in seeds:
        setting = make_setting(setting_name, pool_size, noise, seed)
        table = theorem2_terms_table(setting, epsilons, delta)
        table.insert(0, "seed", seed)
        table.insert(0, "setting", setting_name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def compare_with_theorem2(labels: pd.DataFrame, bounds: pd.DataFrame, method: str = DIAM_ONLINE) -> pd.DataFrame:
    """Labels a method needed beside Theorem 2's ``Lambda_2`` (constant 1), per output and epsilon.

    Parameters
    ----------
    labels : pandas.DataFrame
        ``ComparisonResult.labels`` of :func:`compare_agnostic`.
    bounds : pandas.DataFrame
        :func:`theorem2_bounds` on the same setting and seeds.
    method : str, default ``DIAM_ONLINE``

    Returns
    -------
    pandas.DataFrame
        Columns ``output, epsilon, mean_labels`` (``nan`` unless every seed reached epsilon),
        ``lambda2`` (mean over seeds of ``sum_i term_i``) and ``ratio = mean_labels / lambda2``.
    """
    lambda2 = bounds.groupby(["seed", "epsilon"], sort=False)["term"].sum().groupby("epsilon", sort=False).mean()
    rows = labels[labels["method"] == method]
    if rows.empty:
        raise ValueError(f"no labels for method {method!r}; methods present: {sorted(labels['method'].unique())}")
    unmatched = set(rows["seed"]) ^ set(bounds["seed"])
    if unmatched:
        raise ValueError(
            f"labels and bounds must cover the same seeds; unmatched seeds {sorted(unmatched)}. "
            f"Compute theorem2_bounds with the seeds of the comparison"
        )
    summary = summarise_labels(rows)[["output", "epsilon", "mean_labels"]].copy()
    summary["lambda2"] = summary["epsilon"].map(lambda2)
    if summary["lambda2"].isna().any():
        raise ValueError("bounds do not cover every epsilon of the labels; compute them on the same epsilons")
    summary["ratio"] = summary["mean_labels"] / summary["lambda2"]
    return summary.reset_index(drop=True)


def assert_labels_grow_slower_than_theorem2(comparison: pd.DataFrame, output: str) -> tuple[float, float]:
    """Raise AssertionError unless ``labels / Lambda_2`` at the smallest epsilon that every seed
    reached is below its value at the largest epsilon.

    ``Lambda_2`` holds an unknown constant, so the bound itself cannot be asserted; a ratio
    that falls as epsilon shrinks says the labels grow more slowly than the expression.

    Returns
    -------
    (float, float)
        The ratio at the largest and at the smallest reached epsilon.
    """
    rows = comparison[(comparison["output"] == output) & comparison["ratio"].notna()]
    if len(rows) < 2:
        raise AssertionError(f"{output}: fewer than two epsilons reached by every seed; nothing to compare")
    rows = rows.sort_values("epsilon")
    smallest, largest = float(rows["ratio"].iloc[0]), float(rows["ratio"].iloc[-1])
    if not smallest < largest:
        raise AssertionError(
            f"{output}: labels / Lambda_2 does not fall as epsilon shrinks: {largest:.4g} at "
            f"eps={rows['epsilon'].iloc[-1]:g}, {smallest:.4g} at eps={rows['epsilon'].iloc[0]:g}"
        )
    return largest, smallest
