"""Disagreement region, the pseudometric ``d(h, g)`` and the disagreement coefficient.

All functions take prediction matrices (n_hypotheses, n_points) over the support of a finite
``D_X`` with weights (n_points,), so every quantity is an exact finite sum.

References
----------
Definition 3 (``d(h1, h2) = P(h1(x) != h2(x))``) and Definition 4 (``DIS(C)``,
``B_C(h, r)`` and ``theta_h^C(r0)``) of the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diamlib.strategies.disagreement import disagreement_mask

# Distances are sums of float weights; values closer than this count as equal.
DISTANCE_TOLERANCE = 1e-12


def _as_predictions(predictions: np.ndarray, name: str = "predictions") -> np.ndarray:
    predictions = np.asarray(predictions)
    if predictions.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_hypotheses, n_points); got shape {predictions.shape}")
    return predictions.astype(bool, copy=False)


def _check_weights(weights: np.ndarray, n_points: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_points,):
        raise ValueError(f"weights must have shape ({n_points},) to match the points; got {weights.shape}")
    return weights


def disagreement_matrix(
    predictions: np.ndarray, weights: np.ndarray, others: np.ndarray | None = None
) -> np.ndarray:
    """Pairwise disagreement probabilities ``d(h, g)`` (Definition 3).

    Parameters
    ----------
    predictions : ndarray of bool, shape (n_h, n_points)
    weights : ndarray of float, shape (n_points,)
        Probabilities of the points under ``D_X``.
    others : ndarray of bool, shape (n_g, n_points), optional
        Second set of hypotheses; defaults to ``predictions``.

    Returns
    -------
    ndarray of float, shape (n_h, n_g)
        ``d[h, g] = sum_j weights[j] * [h(x_j) != g(x_j)]``.

    References
    ----------
    Definition 3 of the paper.
    """
    p = _as_predictions(predictions).astype(float)
    q = p if others is None else _as_predictions(others, "others").astype(float)
    if q.shape[1] != p.shape[1]:
        raise ValueError(f"hypotheses over different point sets: {p.shape[1]} vs {q.shape[1]} points")
    w = _check_weights(weights, p.shape[1])
    # [p != q] = p + q - 2pq for 0/1 values.
    d = (p @ w)[:, None] + (q @ w)[None, :] - 2.0 * (p * w) @ q.T
    return np.clip(d, 0.0, 1.0)


def disagreement_region(predictions: np.ndarray) -> np.ndarray:
    """``DIS(V)``: the points on which at least two hypotheses of ``V`` disagree.

    Computed by :func:`diamlib.strategies.disagreement.disagreement_mask`, the test that CAL
    and DIAM apply to the snapshot hypotheses of each target model in the experiments.

    Parameters
    ----------
    predictions : ndarray of bool, shape (n_hypotheses, n_points)
        The hypotheses of ``V`` (an empty ``V`` has an empty region).

    Returns
    -------
    ndarray of bool, shape (n_points,)

    References
    ----------
    Definition 4 of the paper; Algorithm 2, lines 4 and 8.
    """
    return disagreement_mask(_as_predictions(predictions))


def disagreement_mass(predictions: np.ndarray, weights: np.ndarray) -> float:
    """``P(x in DIS(V))`` under the point weights (Definition 4)."""
    region = disagreement_region(predictions)
    return float(_check_weights(weights, region.size)[region].sum())


def ball(distances_from_h: np.ndarray, radius: float) -> np.ndarray:
    """Indices of ``B_C(h, r) = {g in C : d(h, g) <= r}`` given ``d(h, .)`` of shape (n_h,)."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0; got {radius}")
    return np.flatnonzero(np.asarray(distances_from_h) <= radius + DISTANCE_TOLERANCE)


@dataclass(frozen=True)
class CoefficientResult:
    """The disagreement coefficient and where its supremum is reached.

    Attributes
    ----------
    theta : float
        ``theta_h^C(r0)``.
    r0 : float
    argmax_radius : float
        Radius at which ``P(DIS(B(h, r))) / r`` is largest (``r0`` when the supremum is the
        limit ``r -> r0+``; ``nan`` when the value is the floor 1).
    radii : ndarray, shape (n_radii,)
        Radii at which the ball changes (distinct distances ``> r0``), ascending.
    masses : ndarray, shape (n_radii,)
        ``P(DIS(B(h, r)))`` at those radii.
    """

    theta: float
    r0: float
    argmax_radius: float
    radii: np.ndarray
    masses: np.ndarray


def disagreement_coefficient(
    predictions: np.ndarray, weights: np.ndarray, h_index: int, r0: float
) -> CoefficientResult:
    """``theta_h^C(r0) = sup_{r > r0} max(P(DIS(B_C(h, r))) / r, 1)`` computed exactly.

    On a finite class the ball, hence ``P(DIS(B(h, r)))``, is a right-continuous step function
    of ``r`` that changes only at the distinct distances ``d(h, g)``; on each step the ratio
    decreases in ``r``. The supremum is therefore the largest of the ratios at the distances
    ``d_k > r0`` and, for ``r0 > 0``, the limit ``P(DIS(B(h, r0))) / r0`` as ``r -> r0+``.

    Parameters
    ----------
    predictions : ndarray of bool, shape (n_hypotheses, n_points)
        The class ``C``.
    weights : ndarray of float, shape (n_points,)
        ``D_X``.
    h_index : int
        Row of ``h`` in ``predictions``.
    r0 : float
        ``r0 >= 0``.

    Returns
    -------
    CoefficientResult

    References
    ----------
    Definition 4 of the paper.
    """
    p = _as_predictions(predictions)
    w = _check_weights(weights, p.shape[1])
    if not 0 <= h_index < p.shape[0]:
        raise ValueError(f"h_index must be in [0, {p.shape[0]}); got {h_index}")
    if r0 < 0:
        raise ValueError(f"r0 must be >= 0; got {r0}")
    distances = disagreement_matrix(p[h_index : h_index + 1], w, p)[0]
    order = np.argsort(distances, kind="stable")
    sorted_d = distances[order]
    sorted_p = p[order]
    cum_any = np.logical_or.accumulate(sorted_p, axis=0)
    cum_all = np.logical_and.accumulate(sorted_p, axis=0)
    # Last row of each group of equal distances: the ball at that radius.
    new_value = np.diff(sorted_d) > DISTANCE_TOLERANCE
    group_end = np.append(np.flatnonzero(new_value), sorted_d.size - 1)
    group_radius = sorted_d[group_end]
    group_mass = (cum_any[group_end] & ~cum_all[group_end]) @ w

    candidates: list[tuple[float, float]] = []
    above = group_radius > r0 + DISTANCE_TOLERANCE
    for r, m in zip(group_radius[above], group_mass[above]):
        candidates.append((m / r, float(r)))
    if r0 > 0:
        inside = np.flatnonzero(group_radius <= r0 + DISTANCE_TOLERANCE)
        mass_at_r0 = group_mass[inside[-1]] if inside.size else 0.0
        candidates.append((mass_at_r0 / r0, float(r0)))
    best_ratio, best_radius = max(candidates, default=(0.0, float("nan")))
    theta = max(best_ratio, 1.0)
    return CoefficientResult(
        theta=float(theta),
        r0=float(r0),
        argmax_radius=best_radius if best_ratio >= 1.0 else float("nan"),
        radii=group_radius[above],
        masses=group_mass[above],
    )


def assert_pseudometric(distances: np.ndarray, atol: float = 1e-9) -> None:
    """Raise AssertionError unless ``distances`` is a pseudometric on the hypotheses.

    Checks ``d(h, h) = 0``, symmetry, non-negativity and the triangle inequality
    ``d(h, g) <= d(h, f) + d(f, g)`` for every triple (cubic in size: keep it below a few
    hundred hypotheses).

    Parameters
    ----------
    distances : ndarray, shape (n, n)
    atol : float

    References
    ----------
    Definition 3: ``d`` is a pseudometric; Theorem 1's proof uses its triangle inequality.
    """
    d = np.asarray(distances, dtype=float)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be square; got shape {d.shape}")
    if np.abs(np.diag(d)).max() > atol:
        raise AssertionError(f"d(h, h) != 0: largest diagonal entry {np.abs(np.diag(d)).max():.3g}")
    if np.abs(d - d.T).max() > atol:
        raise AssertionError(f"d is not symmetric: largest |d - d^T| = {np.abs(d - d.T).max():.3g}")
    if d.min() < -atol:
        raise AssertionError(f"d has a negative entry {d.min():.3g}")
    # violation[h, g] = d(h, g) - min_f (d(h, f) + d(f, g)), computed one f at a time.
    shortest = np.full_like(d, np.inf)
    for f in range(d.shape[0]):
        np.minimum(shortest, d[:, f : f + 1] + d[f : f + 1, :], out=shortest)
    worst = float((d - shortest).max())
    if worst > atol:
        h, g = np.unravel_index(int(np.argmax(d - shortest)), d.shape)
        raise AssertionError(
            f"triangle inequality fails for hypotheses {h} and {g}: d = {d[h, g]:.6g} exceeds "
            f"a path through another hypothesis by {worst:.3g}"
        )
