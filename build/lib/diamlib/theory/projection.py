"""Theorem 1's reduction: project a hypothesis of the union onto every class.

References
----------
Theorem 1 and Corollary 2 of the paper: ``A'`` runs ``A`` on ``C~ = C_1 u ... u C_k`` to get
``h_A`` and outputs ``h_i = argmin_{h in C_i} d(h, h_A)``; then
``err(h_i) - nu_i <= 2 d(h_A, h*)``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from diamlib.theory.disagreement import disagreement_matrix
from diamlib.theory.hypotheses import union_class
from diamlib.theory.settings import ToySetting

# Excess errors are sums of float weights.
BOUND_TOLERANCE = 1e-9


def projections(setting: ToySetting) -> list[list[np.ndarray]]:
    """``proj[j][i][g] = argmin_{h in C_i} d(h, g)`` for every ``g`` in ``C_j``.

    A hypothesis projects onto its own class as itself. Ties go to the lowest index.

    Returns
    -------
    list of list of ndarray of int64
        ``proj[j][i]`` has shape (n_h_j,).

    References
    ----------
    Theorem 1 of the paper (the output rule of ``A'``).
    """
    weights = setting.problem.distribution.weights
    result: list[list[np.ndarray]] = []
    for j, source in enumerate(setting.classes):
        row = []
        for i, destination in enumerate(setting.classes):
            if i == j:
                row.append(np.arange(source.n_hypotheses))
            else:
                distances = disagreement_matrix(source.predictions, weights, destination.predictions)
                row.append(np.argmin(distances, axis=1).astype(np.int64))
        result.append(row)
    return result


def union_scores(setting: ToySetting) -> tuple[np.ndarray, np.ndarray]:
    """The union ``C~`` and the score CAL' is judged by for each of its hypotheses.

    Returns
    -------
    predictions : ndarray of bool, shape (n_union, n_points)
        The classes stacked in order.
    scores : ndarray of float, shape (n_union,)
        ``max_i (err(proj_i(g)) - nu_i)``: the worst excess error of CAL''s outputs if it
        stops with ``h_A = g``.

    References
    ----------
    Corollary 2 of the paper (CAL').
    """
    excess = setting.excess_errors()
    proj = projections(setting)
    scores = [
        np.max([excess[i][proj[j][i]] for i in range(len(setting.classes))], axis=0)
        for j in range(len(setting.classes))
    ]
    union = union_class(list(setting.classes))
    return union.hypotheses.predictions, np.concatenate(scores)


def check_projection_bound(setting: ToySetting) -> pd.DataFrame:
    """Check ``err(proj_i(g)) - nu_i <= 2 (err(g) - err(h*))`` for every ``g`` in ``C~``.

    With labels ``h*(x)`` flipped with probability ``eta``, ``err(h) - err(h*) =
    (1 - 2 eta) d(h, h*)``, so this is Theorem 1's ``d(h_i, h*) - nu_i <= 2 d(h_A, h*)``
    scaled by ``1 - 2 eta``. It needs ``h*`` in ``C~``.

    Parameters
    ----------
    setting : ToySetting

    Returns
    -------
    pandas.DataFrame
        One row per (source class of ``g``, destination class ``i``): ``n_hypotheses``,
        ``max_slack`` = ``max_g [excess_i(proj_i(g)) - 2 excess(g)]`` (must be ``<= 0``),
        ``max_ratio`` = ``max_g excess_i(proj_i(g)) / excess(g)`` over ``g != h*``
        (Theorem 1: at most 2), and ``holds``.

    References
    ----------
    Theorem 1 of the paper, Eq. (3)-(4).
    """
    if not setting.target_in_class().any():
        raise ValueError("Theorem 1 needs h* in the union of the classes; this setting has none")
    excess = setting.excess_errors()
    proj = projections(setting)
    rows = []
    for j, source in enumerate(setting.classes):
        excess_to_target = (1.0 - 2.0 * setting.problem.noise) * setting.distances_to_target[j]
        for i, destination in enumerate(setting.classes):
            projected = excess[i][proj[j][i]]
            slack = projected - 2.0 * excess_to_target
            positive = excess_to_target > BOUND_TOLERANCE
            ratio = (projected[positive] / excess_to_target[positive]).max() if positive.any() else 0.0
            rows.append(
                {
                    "g from": source.name,
                    "projected onto": destination.name,
                    "n_hypotheses": source.n_hypotheses,
                    "max_slack": float(slack.max()),
                    "max_ratio": float(ratio),
                    "holds": bool(slack.max() <= BOUND_TOLERANCE),
                }
            )
    return pd.DataFrame(rows)


def assert_projection_bound(frame: pd.DataFrame) -> None:
    """Raise AssertionError naming the classes where Theorem 1's bound fails."""
    failed = frame[~frame["holds"]]
    if len(failed):
        pairs = ", ".join(f"{r['g from']} -> {r['projected onto']} (slack {r['max_slack']:.3g})"
                          for _, r in failed.iterrows())
        raise AssertionError(f"Theorem 1's bound err(h_i) - nu_i <= 2 d(h_A, h*) fails: {pairs}")
