"""The toy settings of notebook 01: several finite classes and a target over one ``D_X``.

References
----------
Sec. 3-5 of the paper: multiple target models ``C_1, ..., C_k`` over one distribution, with
``h*`` in their union but not in every class (Sec. 4), or labels with noise (Sec. 5).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from diamlib.theory.distribution import FiniteDistribution, uniform_grid, uniform_square
from diamlib.theory.hypotheses import (
    HypothesisClass,
    decision_stumps,
    intervals,
    linear_separators,
    subset,
    thresholds,
)
from diamlib.theory.problem import LearningProblem


@dataclass(frozen=True)
class ToySetting:
    """Classes ``C_1..C_k`` and a learning problem on the same finite support.

    Attributes
    ----------
    name : str
    problem : LearningProblem
    classes : tuple of HypothesisClass
    description : str
        One sentence naming the classes and the target.
    """

    name: str
    problem: LearningProblem
    classes: tuple[HypothesisClass, ...]
    description: str

    def __post_init__(self) -> None:
        n = self.problem.distribution.n_points
        for c in self.classes:
            if c.n_points != n:
                raise ValueError(f"class {c.name} has {c.n_points} points; the problem has {n}")

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @cached_property
    def distances_to_target(self) -> tuple[np.ndarray, ...]:
        """``d(h, h*)`` for every hypothesis of every class, each shape (n_h_i,) (cached)."""
        return tuple(self.problem.distances_to_target(c.predictions) for c in self.classes)

    def errors(self) -> list[np.ndarray]:
        """``err(h) = eta + (1 - 2 eta) d(h, h*)`` per class, each shape (n_h_i,)."""
        eta = self.problem.noise
        return [eta + (1.0 - 2.0 * eta) * d for d in self.distances_to_target]

    def excess_errors(self) -> list[np.ndarray]:
        """``err(h) - nu_i`` for every hypothesis of every class, each shape (n_h_i,)."""
        return [e - e.min() for e in self.errors()]

    def best_errors(self) -> np.ndarray:
        """``nu_i = min_{h in C_i} err(h)``, shape (k,)."""
        return np.array([e.min() for e in self.errors()])

    def target_in_class(self) -> np.ndarray:
        """Whether ``h*`` (the noise-free target) belongs to each class, shape (k,) of bool."""
        return np.array([np.isclose(d.min(), 0.0) for d in self.distances_to_target])


def _grid(step: float) -> np.ndarray:
    n = round(1.0 / step)
    if not np.isclose(n * step, 1.0):
        raise ValueError(f"step must divide 1 (e.g. 0.02); got {step}")
    return np.linspace(0.0, 1.0, n + 1)


def thresholds_and_intervals(
    pool_size: int, noise: float = 0.0, step: float = 0.02, target: tuple[float, float] = (0.2, 0.9)
) -> ToySetting:
    """1-D: ``C_1`` = thresholds, ``C_2`` = intervals, both on a grid; ``h*`` an interval.

    ``h* = 1[a* <= x < b*]`` lies in the intervals but not in the thresholds, whose best
    member ``1[x >= a*]`` has ``d(., h*) = 1 - b*``.

    Parameters
    ----------
    pool_size : int
        Support size of the discretised uniform ``D_X``.
    noise : float, default 0
        Label-flip probability.
    step : float, default 0.02
        Grid of threshold positions and interval endpoints.
    target : (float, float)
        ``(a*, b*)`` on the grid.

    Returns
    -------
    ToySetting

    References
    ----------
    Sec. 4 of the paper (``h*`` in ``C~`` but not in ``C_1 n ... n C_k``).
    """
    distribution = uniform_grid(pool_size)
    grid = _grid(step)
    classes = (thresholds(distribution, grid), intervals(distribution, grid))
    target_row = classes[1].predictions[classes[1].find(a=target[0], b=target[1])]
    return ToySetting(
        "thresholds+intervals",
        LearningProblem(distribution, target_row, noise),
        classes,
        f"thresholds and intervals on [0, 1] (grid {step}); h* = 1[{target[0]} <= x < {target[1]}]",
    )


def _planar_classes(
    distribution: FiniteDistribution, step: float, n_angles: int
) -> tuple[tuple[HypothesisClass, ...], np.ndarray]:
    """Stumps on x1, stumps on x2 and linear separators; also returns the angle grid."""
    positions = _grid(step)
    offsets = np.round(np.arange(-0.6, 0.6 + step / 2, step), 10)
    angles = 2.0 * np.pi * np.arange(n_angles) / n_angles
    classes = (
        decision_stumps(distribution, 0, positions),
        decision_stumps(distribution, 1, positions),
        linear_separators(distribution, angles, offsets),
    )
    return classes, angles


def stumps_and_linear(
    pool_size: int,
    rng: np.random.Generator,
    noise: float = 0.0,
    step: float = 0.05,
    n_angles: int = 24,
    target_angle_index: int = 2,
    target_offset: float = 0.05,
) -> ToySetting:
    """2-D: stumps on ``x1``, stumps on ``x2`` and linear separators; ``h*`` a tilted line.

    Parameters
    ----------
    pool_size : int
        Number of uniform points in the unit square (the support of ``D_X``).
    rng : numpy.random.Generator
        Draws the points.
    noise : float, default 0
    step : float, default 0.05
        Grid of stump positions and of line offsets (offsets in ``[-0.6, 0.6]``).
    n_angles : int, default 24
        Normal directions ``2 pi i / n_angles``.
    target_angle_index, target_offset
        ``h*`` = the separator with angle ``2 pi target_angle_index / n_angles`` (30 degrees by
        default) and this offset; it is in no stump class.

    Returns
    -------
    ToySetting

    References
    ----------
    Sec. 3-4 of the paper (``C~`` of finite VC dimension, ``h*`` in one class only).
    """
    distribution = uniform_square(pool_size, rng)
    classes, angles = _planar_classes(distribution, step, n_angles)
    angle = angles[target_angle_index]
    target_row = classes[2].predictions[classes[2].find(angle=angle, offset=target_offset)]
    return ToySetting(
        "stumps+linear",
        LearningProblem(distribution, target_row, noise),
        classes,
        f"stumps on x1, stumps on x2 and linear separators in the unit square; h* the line at "
        f"{np.degrees(angle):.0f} degrees, offset {target_offset}",
    )


def quadrant_target(
    pool_size: int,
    rng: np.random.Generator,
    noise: float = 0.0,
    step: float = 0.05,
    n_angles: int = 24,
    corner: tuple[float, float] = (0.35, 0.35),
) -> ToySetting:
    """2-D agnostic setting: the classes of :func:`stumps_and_linear`, ``h*`` a quadrant.

    ``h*(x) = 1[x1 >= c1 and x2 >= c2]`` is in none of the classes. The best hypothesis of the
    union is a tilted line, and the stump closest to that line is not the best stump for
    ``h*``: the situation in which Theorem 1's projection does not help (``h*`` not in
    ``C~``).

    Parameters
    ----------
    pool_size : int
    rng : numpy.random.Generator
    noise : float, default 0
    step : float, default 0.05
    n_angles : int, default 24
    corner : (float, float), default (0.35, 0.35)

    Returns
    -------
    ToySetting

    References
    ----------
    Sec. 5 of the paper (the agnostic case ``h*`` not in ``C~``; Theorem 2).
    """
    distribution = uniform_square(pool_size, rng)
    classes, _ = _planar_classes(distribution, step, n_angles)
    x1, x2 = distribution.points[:, 0], distribution.points[:, 1]
    target = (x1 >= corner[0]) & (x2 >= corner[1])
    return ToySetting(
        "quadrant (agnostic)",
        LearningProblem(distribution, target, noise),
        classes,
        f"stumps on x1, stumps on x2 and linear separators; h* = 1[x1 >= {corner[0]} and "
        f"x2 >= {corner[1]}], in none of the classes",
    )


def interleaved_thresholds(pool_size: int, noise: float = 0.0, n_classes: int = 3) -> ToySetting:
    """Theorem 3's situation: ``k`` threshold classes on interleaved grids.

    The thresholds at the cell boundaries ``j / pool_size`` are dealt round-robin to the
    classes (class ``i`` gets ``j = i mod k``). Every class is a threshold class one grid step
    coarser than the union, so their soft version spaces have (up to ``k`` cells) the same
    disagreement region. ``h*`` is the class-1 threshold closest to 1/2, so
    ``nu_i - err(h*) <= (1 - 2 eta) floor(k / 2) / pool_size``: below ``(ln 2 / 2) epsilon``
    for the epsilons of the notebook, as Theorem 3 assumes.

    Parameters
    ----------
    pool_size : int
    noise : float, default 0
    n_classes : int, default 3

    Returns
    -------
    ToySetting

    References
    ----------
    Theorem 3 of the paper (``DIS(V_1) = ... = DIS(V_k)``, ``max_i nu_i <= (ln 2 / 2) eps``).
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2; got {n_classes}")
    distribution = uniform_grid(pool_size)
    full = thresholds(distribution, np.arange(pool_size + 1) / pool_size)
    j = np.arange(pool_size + 1)
    classes = tuple(
        subset(full, np.flatnonzero(j % n_classes == i), f"thresholds mod {n_classes} = {i}")
        for i in range(n_classes)
    )
    centre = (pool_size // 2) - (pool_size // 2) % n_classes
    target_row = full.predictions[centre]
    return ToySetting(
        "interleaved thresholds",
        LearningProblem(distribution, target_row, noise),
        classes,
        f"{n_classes} threshold classes on interleaved grids of step {n_classes}/{pool_size}; "
        f"h* = 1[x >= {centre / pool_size:g}] in the first class",
    )
