"""Finite hypothesis classes as prediction matrices over a finite point set.

A class is stored as a boolean matrix ``predictions`` of shape (n_hypotheses, n_points):
row ``h`` holds ``h(x) == 1`` for every support point ``x``. Everything downstream
(disagreement, errors, version spaces) is then vectorised numpy.

References
----------
Sec. 3.1 of the paper: a target model is a hypothesis space ``C``; Theorem 1 works on the
union ``C~ = C_1 u ... u C_k``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diamlib.theory.distribution import FiniteDistribution


@dataclass(frozen=True)
class HypothesisClass:
    """A finite binary hypothesis class evaluated on a finite point set.

    Attributes
    ----------
    name : str
        Display name, e.g. ``"thresholds"``.
    predictions : ndarray of bool, shape (n_hypotheses, n_points)
        ``predictions[h, j]`` is the label hypothesis ``h`` gives point ``j``.
    parameters : ndarray of float, shape (n_hypotheses, n_parameters)
        The parameters that define each hypothesis (e.g. threshold position).
    parameter_names : tuple of str, length n_parameters
    family_vc_dimension : int or None, default None
        VC dimension of the continuous family the class is a finite subset of (e.g. 3 for
        half-planes in the plane), ``None`` if not known. A subset of a family cannot shatter
        more points than the family, so this is an upper bound on the class's own VC dimension
        (see :func:`vc_dimension_bound`).
    """

    name: str
    predictions: np.ndarray
    parameters: np.ndarray
    parameter_names: tuple[str, ...]
    family_vc_dimension: int | None = None

    def __post_init__(self) -> None:
        predictions = np.asarray(self.predictions)
        if predictions.ndim != 2 or predictions.shape[0] == 0:
            raise ValueError(
                f"{self.name}: predictions must be a non-empty 2-D array "
                f"(n_hypotheses, n_points); got shape {predictions.shape}"
            )
        if predictions.dtype != bool:
            if not np.isin(predictions, (0, 1)).all():
                raise ValueError(f"{self.name}: predictions must be binary (0/1 or bool)")
            predictions = predictions.astype(bool)
        parameters = np.asarray(self.parameters, dtype=float)
        if parameters.ndim == 1:
            parameters = parameters[:, None]
        if parameters.shape[0] != predictions.shape[0]:
            raise ValueError(
                f"{self.name}: parameters has {parameters.shape[0]} rows but predictions has "
                f"{predictions.shape[0]} hypotheses; give one parameter row per hypothesis"
            )
        if len(self.parameter_names) != parameters.shape[1]:
            raise ValueError(
                f"{self.name}: {len(self.parameter_names)} parameter names for "
                f"{parameters.shape[1]} parameter columns"
            )
        object.__setattr__(self, "predictions", predictions)
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "parameter_names", tuple(self.parameter_names))
        if self.family_vc_dimension is not None and (
            not isinstance(self.family_vc_dimension, (int, np.integer)) or self.family_vc_dimension < 0
        ):
            raise ValueError(
                f"{self.name}: family_vc_dimension must be a non-negative integer or None; "
                f"got {self.family_vc_dimension!r}"
            )

    @property
    def n_hypotheses(self) -> int:
        return int(self.predictions.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.predictions.shape[1])

    def find(self, **parameters: float) -> int:
        """Index of the hypothesis whose parameters equal the given ones (to 1e-9).

        Raises
        ------
        ValueError
            No or several hypotheses match, or a parameter name is unknown.
        """
        unknown = set(parameters) - set(self.parameter_names)
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameters {sorted(unknown)}; valid: {self.parameter_names}"
            )
        match = np.ones(self.n_hypotheses, dtype=bool)
        for key, value in parameters.items():
            column = self.parameters[:, self.parameter_names.index(key)]
            match &= np.isclose(column, value, atol=1e-9, rtol=0.0)
        found = np.flatnonzero(match)
        if found.size != 1:
            raise ValueError(
                f"{self.name}: {found.size} hypotheses match {parameters}; choose parameters "
                f"on the class's grid"
            )
        return int(found[0])


def _check_positions(positions: np.ndarray, what: str) -> np.ndarray:
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 1 or positions.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array; got shape {positions.shape}")
    return positions


def _check_dim(distribution: FiniteDistribution, dim: int, what: str) -> None:
    if distribution.points.shape[1] != dim:
        raise ValueError(
            f"{what} need {dim}-D points; the distribution has dimension "
            f"{distribution.points.shape[1]}"
        )


def thresholds(distribution: FiniteDistribution, positions: np.ndarray) -> HypothesisClass:
    """Thresholds ``h_a(x) = 1[x >= a]`` on the line.

    Parameters
    ----------
    distribution : FiniteDistribution
        1-D points, shape (n_points, 1).
    positions : ndarray, shape (n_hypotheses,)
        Threshold positions ``a``.

    Returns
    -------
    HypothesisClass
        Parameter ``"a"``.

    References
    ----------
    Sec. 4 (Definition 4): the textbook class with disagreement coefficient 2 under the
    uniform distribution.
    """
    _check_dim(distribution, 1, "thresholds")
    positions = _check_positions(positions, "positions")
    x = distribution.points[:, 0]
    return HypothesisClass(
        "thresholds", x[None, :] >= positions[:, None], positions, ("a",), family_vc_dimension=1
    )


def intervals(distribution: FiniteDistribution, endpoints: np.ndarray) -> HypothesisClass:
    """Intervals ``h_{a,b}(x) = 1[a <= x < b]`` with ``a < b`` on a grid, plus the empty one.

    Parameters
    ----------
    distribution : FiniteDistribution
        1-D points, shape (n_points, 1).
    endpoints : ndarray, shape (n_endpoints,)
        Grid of allowed endpoints; every pair ``a < b`` gives a hypothesis.

    Returns
    -------
    HypothesisClass
        ``n_endpoints * (n_endpoints - 1) / 2 + 1`` hypotheses; parameters ``("a", "b")``;
        the all-negative hypothesis has ``a = b = nan``.

    References
    ----------
    Sec. 4 (Definition 4): intervals have disagreement coefficient ``max(4, 1/w)`` at an
    interval of width ``w`` under the uniform distribution (see ``closed_forms``).
    """
    _check_dim(distribution, 1, "intervals")
    endpoints = np.unique(_check_positions(endpoints, "endpoints"))
    lo, hi = np.triu_indices(endpoints.size, k=1)
    a, b = endpoints[lo], endpoints[hi]
    x = distribution.points[:, 0]
    predictions = (x[None, :] >= a[:, None]) & (x[None, :] < b[:, None])
    predictions = np.vstack([predictions, np.zeros((1, x.size), dtype=bool)])
    parameters = np.column_stack([np.append(a, np.nan), np.append(b, np.nan)])
    return HypothesisClass("intervals", predictions, parameters, ("a", "b"), family_vc_dimension=2)


def decision_stumps(
    distribution: FiniteDistribution, feature: int, positions: np.ndarray
) -> HypothesisClass:
    """Axis-aligned decision stumps ``1[x_f >= a]`` and ``1[x_f < a]`` (both orientations).

    Parameters
    ----------
    distribution : FiniteDistribution
        Points of shape (n_points, dim).
    feature : int
        The coordinate ``f`` the stump splits on.
    positions : ndarray, shape (n_positions,)
        Split positions ``a``.

    Returns
    -------
    HypothesisClass
        ``2 * n_positions`` hypotheses, parameters ``("a", "sign")``: sign ``+1`` predicts
        ``1[x_f >= a]``, sign ``-1`` predicts ``1[x_f < a]``.

    References
    ----------
    Sec. 3.1: one of several target models (hypothesis spaces) over the same ``D_X``.
    """
    dim = distribution.points.shape[1]
    if not 0 <= feature < dim:
        raise ValueError(f"feature must be in [0, {dim}); got {feature}")
    positions = _check_positions(positions, "positions")
    x = distribution.points[:, feature]
    above = x[None, :] >= positions[:, None]
    predictions = np.vstack([above, ~above])
    parameters = np.column_stack(
        [np.tile(positions, 2), np.repeat([1.0, -1.0], positions.size)]
    )
    # Stumps of both orientations on one coordinate are the 1-D thresholds and their
    # complements: they shatter any two points with distinct coordinates, never three.
    return HypothesisClass(
        f"stumps(x{feature + 1})", predictions, parameters, ("a", "sign"), family_vc_dimension=2
    )


def linear_separators(
    distribution: FiniteDistribution, angles: np.ndarray, offsets: np.ndarray
) -> HypothesisClass:
    """Discretised linear separators in 2-D: ``1[cos(t) u + sin(t) v >= b]``, ``(u, v) = x - 0.5``.

    Parameters
    ----------
    distribution : FiniteDistribution
        2-D points, shape (n_points, 2).
    angles : ndarray, shape (n_angles,)
        Normal directions ``t`` in radians.
    offsets : ndarray, shape (n_offsets,)
        Offsets ``b`` of the line from the centre ``(0.5, 0.5)``.

    Returns
    -------
    HypothesisClass
        ``n_angles * n_offsets`` hypotheses, parameters ``("angle", "offset")``.

    References
    ----------
    Sec. 3.1: a target model whose union with stumps still has finite VC dimension
    (Corollary 1).
    """
    _check_dim(distribution, 2, "linear separators")
    angles = _check_positions(angles, "angles")
    offsets = _check_positions(offsets, "offsets")
    t, b = np.meshgrid(angles, offsets, indexing="ij")
    t, b = t.ravel(), b.ravel()
    centred = distribution.points - 0.5
    projection = np.cos(t)[:, None] * centred[None, :, 0] + np.sin(t)[:, None] * centred[None, :, 1]
    predictions = projection >= b[:, None]
    # Half-planes in R^2 have VC dimension 3 (Radon's theorem).
    return HypothesisClass(
        "linear", predictions, np.column_stack([t, b]), ("angle", "offset"), family_vc_dimension=3
    )


def subset(hypothesis_class: HypothesisClass, indices: np.ndarray, name: str) -> HypothesisClass:
    """The hypotheses ``indices`` of a class, as a new class called ``name``."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError("indices must be a non-empty 1-D integer array")
    return HypothesisClass(
        name,
        hypothesis_class.predictions[indices],
        hypothesis_class.parameters[indices],
        hypothesis_class.parameter_names,
        family_vc_dimension=hypothesis_class.family_vc_dimension,
    )


@dataclass(frozen=True)
class UnionClass:
    """The union ``C~`` of several classes, with a map back to the member classes.

    Attributes
    ----------
    hypotheses : HypothesisClass
        All rows of the members stacked (duplicates kept), shape (sum n_i, n_points).
    member : ndarray of int, shape (n_union,)
        Which class each row came from.
    member_index : ndarray of int, shape (n_union,)
        The row's index inside its class.

    References
    ----------
    Theorem 1: CAL' runs an algorithm on ``C~ = C_1 u ... u C_k``.
    """

    hypotheses: HypothesisClass
    member: np.ndarray
    member_index: np.ndarray


def union_class(classes: list[HypothesisClass]) -> UnionClass:
    """Stack classes over the same points into their union ``C~``.

    Parameters
    ----------
    classes : list of HypothesisClass
        At least one class; all over the same number of points.

    Returns
    -------
    UnionClass
        Parameters of the union are ``(class, index)``.
    """
    if not classes:
        raise ValueError("union_class needs at least one class")
    n_points = {c.n_points for c in classes}
    if len(n_points) != 1:
        raise ValueError(f"classes are evaluated on different point sets: sizes {sorted(n_points)}")
    predictions = np.vstack([c.predictions for c in classes])
    member = np.concatenate([np.full(c.n_hypotheses, i) for i, c in enumerate(classes)])
    member_index = np.concatenate([np.arange(c.n_hypotheses) for c in classes])
    union = HypothesisClass(
        "union", predictions, np.column_stack([member, member_index]), ("class", "index")
    )
    return UnionClass(union, member, member_index)


def shatters(predictions: np.ndarray, points: np.ndarray) -> bool:
    """Whether a finite class realises all ``2^n`` labelings of the given support points.

    Parameters
    ----------
    predictions : ndarray of bool, shape (n_hypotheses, n_points)
    points : ndarray of int, shape (n,)
        Column indices of distinct support points.

    Returns
    -------
    bool
    """
    points = np.asarray(points, dtype=np.int64)
    if points.ndim != 1 or np.unique(points).size != points.size:
        raise ValueError("points must be a 1-D array of distinct column indices")
    patterns = np.unique(np.asarray(predictions, dtype=bool)[:, points], axis=0)
    return patterns.shape[0] == 2**points.size


def vc_dimension_bound(hypothesis_class: HypothesisClass) -> int:
    """An upper bound on the VC dimension of a finite class on its support.

    The smaller of two upper bounds: the family's VC dimension (``family_vc_dimension``,
    when known), and ``floor(log2 N)`` with ``N`` the number of distinct rows, since
    shattering ``n`` points needs ``2^n`` distinct labelings.

    Parameters
    ----------
    hypothesis_class : HypothesisClass

    Returns
    -------
    int

    References
    ----------
    ``d_i`` of Theorem 2 of the paper (the VC dimension of ``C_i``).
    """
    distinct = np.unique(hypothesis_class.predictions, axis=0).shape[0]
    bound = int(np.floor(np.log2(distinct) + 1e-12))
    if hypothesis_class.family_vc_dimension is not None:
        bound = min(bound, int(hypothesis_class.family_vc_dimension))
    return bound
