"""Checks of Definitions 3-4 on the toy classes: pseudometric, closed forms of ``theta``.

References
----------
Definitions 3-4 of the paper; the closed forms in :mod:`diamlib.theory.closed_forms`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from diamlib.theory.closed_forms import (
    interval_disagreement_coefficient,
    threshold_disagreement_coefficient,
)
from diamlib.theory.disagreement import (
    assert_pseudometric,
    disagreement_coefficient,
    disagreement_matrix,
)
from diamlib.theory.distribution import uniform_grid
from diamlib.theory.hypotheses import intervals, thresholds, union_class
from diamlib.theory.settings import ToySetting

COEFFICIENT_TOLERANCE = 1e-9


def check_closed_forms(
    pool_size: int,
    step: float = 0.02,
    threshold_positions: Sequence[float] = (0.1, 0.5, 0.9),
    interval_endpoints: Sequence[tuple[float, float]] = ((0.36, 0.64), (0.4, 0.5), (0.46, 0.48)),
    radii: Sequence[float] = (0.0, 0.02, 0.04, 0.06, 0.1, 0.2, 0.4),
) -> pd.DataFrame:
    """Numerical ``theta_h(r0)`` versus the closed forms for thresholds and intervals.

    Parameters
    ----------
    pool_size : int
        Cells of the discretised uniform ``D_X``; ``pool_size * step`` must be an integer so
        grid endpoints carry exact masses.
    step : float, default 0.02
        Grid of threshold positions and interval endpoints (also the closed forms' ``step``).
    threshold_positions, interval_endpoints : sequences
        The hypotheses ``h`` to check (on the grid).
    radii : sequence of float
        ``r0`` values (on the grid).

    Returns
    -------
    pandas.DataFrame
        Columns ``class, h, a, b, r0, numeric, closed_form, abs_error`` (``a`` the threshold
        or left endpoint, ``b`` the right endpoint or ``nan``).

    References
    ----------
    Definition 4 of the paper.
    """
    cells_per_step = pool_size * step
    if not np.isclose(cells_per_step, round(cells_per_step)) or round(cells_per_step) < 1:
        raise ValueError(
            f"pool_size * step must be a positive integer for exact masses; got "
            f"{pool_size} * {step} = {cells_per_step:g}. Use e.g. pool_size = 400 with step 0.02"
        )
    distribution = uniform_grid(pool_size)
    grid = np.linspace(0.0, 1.0, round(1.0 / step) + 1)
    threshold_class = thresholds(distribution, grid)
    interval_class = intervals(distribution, grid)
    rows = []
    for t in threshold_positions:
        index = threshold_class.find(a=t)
        for r0 in radii:
            numeric = disagreement_coefficient(
                threshold_class.predictions, distribution.weights, index, r0
            ).theta
            closed = threshold_disagreement_coefficient(t, r0)
            rows.append(("thresholds", f"1[x >= {t:g}]", t, np.nan, r0, numeric, closed))
    for a, b in interval_endpoints:
        index = interval_class.find(a=a, b=b)
        for r0 in radii:
            numeric = disagreement_coefficient(
                interval_class.predictions, distribution.weights, index, r0
            ).theta
            closed = interval_disagreement_coefficient(a, b, r0, step=step)
            rows.append(("intervals", f"1[{a:g} <= x < {b:g}]", a, b, r0, numeric, closed))
    frame = pd.DataFrame(rows, columns=["class", "h", "a", "b", "r0", "numeric", "closed_form"])
    frame["abs_error"] = (frame["numeric"] - frame["closed_form"]).abs()
    return frame


def assert_closed_forms(frame: pd.DataFrame, tolerance: float = COEFFICIENT_TOLERANCE) -> None:
    """Raise AssertionError listing the rows where numeric and closed-form ``theta`` differ."""
    bad = frame[frame["abs_error"] > tolerance]
    if len(bad):
        raise AssertionError(
            "numerical disagreement coefficient differs from the closed form:\n"
            + bad.to_string(index=False)
        )


def check_pseudometric(setting: ToySetting, max_hypotheses: int = 300) -> float:
    """Assert ``d`` is a pseudometric on (an evenly spaced subset of) the union of a setting.

    Parameters
    ----------
    setting : ToySetting
    max_hypotheses : int, default 300
        The triangle check is cubic; larger unions are thinned to this many rows.

    Returns
    -------
    float
        The largest distance in the checked set (for the record).

    Raises
    ------
    AssertionError
        From :func:`~diamlib.theory.disagreement.assert_pseudometric`.

    References
    ----------
    Definition 3 of the paper.
    """
    union = union_class(list(setting.classes)).hypotheses.predictions
    rows = np.unique(np.linspace(0, union.shape[0] - 1, min(max_hypotheses, union.shape[0])).astype(int))
    distances = disagreement_matrix(union[rows], setting.problem.distribution.weights)
    assert_pseudometric(distances)
    return float(distances.max())


def coefficient_table(setting: ToySetting, radii: Sequence[float]) -> pd.DataFrame:
    """``theta`` of each class's best hypothesis and of ``h*``'s best match in the union.

    Parameters
    ----------
    setting : ToySetting
    radii : sequence of float
        ``r0`` values (e.g. the epsilons).

    Returns
    -------
    pandas.DataFrame
        One row per (class, r0): ``class``, ``r0``, ``nu`` (best error) and ``theta`` of
        ``h_i* = argmin_{C_i} err`` in ``C_i``; the union row uses its best hypothesis in
        ``C~`` (``h*`` when ``h*`` is in the union).

    References
    ----------
    Definition 4; Corollary 2 uses ``theta^{C~}_{h*}``, Theorems 2-3 ``theta^{C_i}_{h_i*}``.
    """
    weights = setting.problem.distribution.weights
    union = union_class(list(setting.classes)).hypotheses
    named = [(c.name, c.predictions) for c in setting.classes] + [("union", union.predictions)]
    rows = []
    for name, predictions in named:
        errors = setting.problem.errors(predictions)
        best = int(np.argmin(errors))
        for r0 in radii:
            theta = disagreement_coefficient(predictions, weights, best, r0).theta
            rows.append({"class": name, "r0": r0, "nu": float(errors[best]), "theta": theta})
    return pd.DataFrame(rows)


def coefficient_curve(
    predictions: np.ndarray, weights: np.ndarray, h_index: int, radii: Sequence[float]
) -> np.ndarray:
    """``theta_h(r0)`` for every ``r0`` in ``radii``, shape (n_radii,) (for plots)."""
    return np.array([disagreement_coefficient(predictions, weights, h_index, r).theta for r in radii])
