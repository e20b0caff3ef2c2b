"""Finite data distributions ``D_X``: every probability in the toy settings is an exact sum.

References
----------
Sec. 3.1 of the paper: the unknown distribution ``D_X`` over the feature space from which
data are sampled. Here it is a finite point set with weights, so ``d(h, g)``, ``err(h)`` and
``P(DIS(V))`` are computed exactly rather than estimated.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FiniteDistribution:
    """A distribution on finitely many points.

    Attributes
    ----------
    points : ndarray of float, shape (n_points, dim)
        The support of ``D_X``.
    weights : ndarray of float, shape (n_points,)
        Probabilities of the points (non-negative, summing to one).
    """

    points: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        points = np.asarray(self.points, dtype=float)
        weights = np.asarray(self.weights, dtype=float)
        if points.ndim != 2 or points.shape[0] == 0:
            raise ValueError(
                f"points must be a non-empty 2-D array (n_points, dim); got shape {points.shape}"
            )
        if weights.shape != (points.shape[0],):
            raise ValueError(
                f"weights must have shape ({points.shape[0]},) to match points; got {weights.shape}"
            )
        if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError("weights must be non-negative and sum to 1; normalise them first")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "weights", weights)

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    def mass(self, mask: np.ndarray) -> float:
        """Probability of a set of points given as a boolean mask of shape (n_points,)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.n_points,):
            raise ValueError(f"mask must have shape ({self.n_points},); got {mask.shape}")
        return float(self.weights[mask].sum())


def uniform_grid(n_points: int) -> FiniteDistribution:
    """The uniform distribution on [0, 1] discretised to cell midpoints.

    Parameters
    ----------
    n_points : int
        Number of cells; point ``j`` is ``(j + 0.5) / n_points`` with weight ``1 / n_points``.

    Returns
    -------
    FiniteDistribution
        ``points`` of shape (n_points, 1). A threshold or interval endpoint at a multiple of
        ``1 / n_points`` then has exactly the probability masses of the continuous uniform.

    References
    ----------
    Sec. 4 (Definition 4): the classical closed forms of the disagreement coefficient are stated
    for the uniform distribution.
    """
    if not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}")
    points = (np.arange(n_points, dtype=float) + 0.5) / n_points
    return FiniteDistribution(points[:, None], np.full(n_points, 1.0 / n_points))


def uniform_square(n_points: int, rng: np.random.Generator) -> FiniteDistribution:
    """``n_points`` i.i.d. uniform points in the unit square, each with weight ``1 / n_points``.

    Parameters
    ----------
    n_points : int
    rng : numpy.random.Generator

    Returns
    -------
    FiniteDistribution
        ``points`` of shape (n_points, 2).

    References
    ----------
    Sec. 3.1: a pool of points drawn from ``D_X``; the empirical distribution of the pool is
    then the (exact) ``D_X`` of the toy problem.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}")
    points = rng.uniform(0.0, 1.0, size=(n_points, 2))
    return FiniteDistribution(points, np.full(n_points, 1.0 / n_points))
