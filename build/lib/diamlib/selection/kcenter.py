"""k-center greedy (the Coreset baseline) with a running min-distance vector.

The greedy 2-approximation of the k-center problem (Sener & Savarese's Coreset) adds,
one at a time, the pool point farthest from every center chosen so far (the labeled
set plus earlier picks). Each pool point's squared distance to its nearest center is
kept in one vector; the initial distances to the labeled set are computed in
``chunk_size x chunk_size`` blocks, and every pick updates the vector with one
matrix-vector product over the points it can affect.

Pruning (exact). The pool is split once into about ``sqrt(n)`` groups around anchor
points, each with its radius ``r_g``. By the triangle inequality every member ``x`` of
group ``g`` satisfies ``|x - c| >= |a_g - c| - r_g`` for a new center ``c``, so if
``(|a_g - c| - r_g)^2`` exceeds the group's largest current nearest-center distance, no
member changes and the group is skipped. Late picks sit close to few groups, so most of
the pool is not touched. Memory is ``O(n d + chunk_size^2)`` (one reordered copy of the
pool); no pool-by-pool or pool-by-labeled distance matrix is built.

References
----------
Coreset baseline [53] of Sec. 6.1 and Sec. 6.6 of the paper.
"""
from __future__ import annotations

from numbers import Integral

import numpy as np

from diamlib.selection.greedy import greedy_select

__all__ = ["KCenterSelector", "kcenter_greedy"]


def _check_points(points: np.ndarray, name: str, allow_empty: bool) -> np.ndarray:
    if not isinstance(points, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(points).__name__}")
    if points.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_points, n_features), got shape {points.shape}")
    if points.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} must contain at least one point")
    if not (np.issubdtype(points.dtype, np.floating) or np.issubdtype(points.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {points.dtype}")
    if points.size and not np.isfinite(points).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute the features first")
    return points


def _squared_distances(points: np.ndarray, norms: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``|p - c|^2`` for all pairs, shape (len(points), len(centers)), clipped at 0."""
    center_norms = np.einsum("ij,ij->i", centers, centers)
    distances = norms[:, None] + center_norms[None, :] - 2.0 * (points @ centers.T)
    return np.maximum(distances, 0.0, out=distances)


def _group_points(pool: np.ndarray, norms: np.ndarray, chunk_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the pool around ``ceil(sqrt(n))`` evenly spaced anchor points (deterministic).

    Returns
    -------
    group_of_point : ndarray of int64, shape (n,)
    anchors : ndarray, shape (n_groups, d)
    radii : ndarray of float64, shape (n_groups,)
        Largest distance from an anchor to a member of its group.
    """
    n = pool.shape[0]
    n_groups = int(np.ceil(np.sqrt(n)))
    anchors = pool[np.linspace(0, n - 1, n_groups).round().astype(np.int64)]
    group_of_point = np.empty(n, dtype=np.int64)
    squared_radii = np.zeros(n_groups)
    for start in range(0, n, chunk_size):
        block = _squared_distances(pool[start:start + chunk_size], norms[start:start + chunk_size], anchors)
        groups = np.argmin(block, axis=1)
        group_of_point[start:start + chunk_size] = groups
        np.maximum.at(squared_radii, groups, block[np.arange(groups.size), groups])
    return group_of_point, anchors, np.sqrt(squared_radii)


def kcenter_greedy(pool_features: np.ndarray, labeled_features: np.ndarray, budget: int, *,
                   chunk_size: int = 4096) -> tuple[np.ndarray, float]:
    """Greedy k-center selection of ``budget`` pool points.

    Parameters
    ----------
    pool_features : ndarray, shape (n_pool, d)
        Features of the unlabeled pool. If both arrays are float32 the distances are
        computed in float32 (half the memory traffic), otherwise in float64.
    labeled_features : ndarray, shape (n_labeled, d)
        Features of the labeled set: the initial centers. May have zero rows; then the
        first pick is the pool point closest to the pool mean (lowest position on ties),
        a deterministic, central start.
    budget : int
        Number of points to select, ``1 <= budget <= n_pool``.
    chunk_size : int
        Block side for the pool-to-labeled and pool-to-anchor distances.

    Returns
    -------
    positions : ndarray of int64, shape (budget,)
        Positions into ``pool_features`` in the order picked. Each pick is the
        not-yet-selected point with the largest distance to its nearest center, the
        lowest position on ties.
    radius : float
        Covering radius after the selection: the largest Euclidean distance from a pool
        point to its nearest center (labeled or selected); 0 if the whole pool is picked.

    Raises
    ------
    TypeError, ValueError
        Non-arrays, wrong dimensions, mismatched feature sizes, NaN/inf, ``budget`` or
        ``chunk_size`` out of range.

    References
    ----------
    Coreset baseline [53], Sec. 6.1 and Sec. 6.6 of the paper.
    """
    pool = _check_points(pool_features, "pool_features", allow_empty=False)
    labeled = _check_points(labeled_features, "labeled_features", allow_empty=True)
    if labeled.shape[0] > 0 and labeled.shape[1] != pool.shape[1]:
        raise ValueError(f"labeled_features has {labeled.shape[1]} features but pool_features has {pool.shape[1]}; "
                         f"use the same model's features for both")
    n = pool.shape[0]
    if isinstance(budget, bool) or not isinstance(budget, Integral):
        raise TypeError(f"budget must be an integer, got {budget!r} ({type(budget).__name__})")
    if not 1 <= budget <= n:
        raise ValueError(f"budget must be between 1 and the pool size {n}, got {budget}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    dtype = np.float32 if pool.dtype == np.float32 and labeled.dtype == np.float32 else np.float64
    selector = KCenterSelector(np.ascontiguousarray(pool, dtype=dtype), np.ascontiguousarray(labeled, dtype=dtype),
                               chunk_size=chunk_size)
    positions = np.asarray(greedy_select(selector, budget), dtype=np.int64)
    return positions, selector.covering_radius()


class KCenterSelector:
    """One k-center greedy batch: a :class:`~diamlib.selection.greedy.GreedySelector`.

    Parameters
    ----------
    pool : ndarray, shape (n, d)
        Validated, contiguous pool features (float32 or float64).
    labeled : ndarray, shape (n_labeled, d)
        The initial centers, same dtype; may have zero rows.
    chunk_size : int
        Block side of the initial distance computations.

    Notes
    -----
    Internally the pool is reordered group by group (see the module notes); picks are
    reported as positions into the original ``pool``.
    """

    def __init__(self, pool: np.ndarray, labeled: np.ndarray, *, chunk_size: int):
        self.pool, self.labeled, self.chunk_size = pool, labeled, chunk_size

    def prepare(self) -> None:
        """Nearest-center distances to the labeled set and the pruning groups."""
        pool, labeled, chunk_size = self.pool, self.labeled, self.chunk_size
        n, dtype = pool.shape[0], pool.dtype
        norms = np.einsum("ij,ij->i", pool, pool)
        nearest = np.full(n, np.inf, dtype=dtype)  # squared distance to the nearest center
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            for center_start in range(0, labeled.shape[0], chunk_size):
                block = _squared_distances(pool[start:stop], norms[start:stop],
                                           labeled[center_start:center_start + chunk_size])
                np.minimum(nearest[start:stop], block.min(axis=1), out=nearest[start:stop])
        if labeled.shape[0] == 0:  # a deterministic, central start: the point closest to the pool mean
            mean = pool.mean(axis=0, dtype=np.float64).astype(dtype)
            self.first = int(np.argmin(_squared_distances(pool, norms, mean[None, :])[:, 0]))
        else:
            self.first = None
        # reorder the pool group by group so that every group is one contiguous slice
        group_of_point, self.anchors, self.radii = _group_points(pool, norms, chunk_size)
        self.order = np.argsort(group_of_point, kind="stable")
        self.position_in_order = np.empty(n, dtype=np.int64)
        self.position_in_order[self.order] = np.arange(n)
        self.bounds = np.searchsorted(group_of_point[self.order], np.arange(self.anchors.shape[0] + 1))
        self.grouped = pool[self.order]
        self.grouped_norms = norms[self.order]
        self.grouped_groups = group_of_point[self.order]
        self.nearest = nearest[self.order]
        self.anchor_norms = np.einsum("ij,ij->i", self.anchors, self.anchors)
        self.group_max = np.array([self.nearest[self.bounds[g]:self.bounds[g + 1]].max(initial=-np.inf)
                                   for g in range(self.anchors.shape[0])])
        # rounding allowance of the squared distances, so pruning never skips a real update
        self.slack = 64.0 * np.finfo(dtype).eps * np.sqrt(pool.shape[1]) * 2.0 * float(norms.max(initial=0.0))
        self.n_picked = 0

    def get_scores(self) -> np.ndarray:
        """Squared distance of every pool point to its nearest center (-inf once picked), pool order."""
        return self.nearest[self.position_in_order]

    def get_next_idx(self) -> int:
        """The farthest point from every center; the lowest pool position on ties."""
        if self.first is not None and self.n_picked == 0:
            return self.first
        largest = self.group_max.max()
        candidates = []
        for g in np.flatnonzero(self.group_max == largest):
            members = np.flatnonzero(self.nearest[self.bounds[g]:self.bounds[g + 1]] == largest) + self.bounds[g]
            candidates.append(members[np.argmin(self.order[members])])
        return int(self.order[min(candidates, key=lambda position: self.order[position])])

    def add(self, idx: int) -> None:
        """Make pool point ``idx`` a center: update the groups it can affect."""
        pick = self.position_in_order[idx]
        center = self.grouped[pick]
        to_anchor = np.sqrt(np.maximum(self.anchor_norms + self.grouped_norms[pick] - 2.0 * (self.anchors @ center),
                                       0.0))
        lower = np.maximum(to_anchor - self.radii, 0.0) ** 2
        lower[self.grouped_groups[pick]] = -np.inf  # the pick's own group is always updated
        for g in np.flatnonzero(lower <= self.group_max + self.slack):
            start, stop = self.bounds[g], self.bounds[g + 1]
            block = self.grouped[start:stop]
            distances = self.grouped_norms[start:stop] + self.grouped_norms[pick] - 2.0 * (block @ center)
            np.maximum(distances, 0.0, out=distances)
            np.minimum(self.nearest[start:stop], distances, out=self.nearest[start:stop])
            if start <= pick < stop:
                self.nearest[pick] = -np.inf  # selected points can never be picked again
            self.group_max[g] = self.nearest[start:stop].max()
        self.n_picked += 1

    def covering_radius(self) -> float:
        """Largest distance from a pool point to its nearest center (0 once every point is picked)."""
        largest = float(self.group_max.max())
        return float(np.sqrt(max(largest, 0.0))) if np.isfinite(largest) else 0.0
