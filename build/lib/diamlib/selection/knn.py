"""k-nearest-neighbour similarity graphs of Eq. 10, computed exactly in blocks.

Each target model ``i`` gets a 0/1 adjacency ``S^i`` over the unlabeled pool in its own
penultimate-layer feature space: ``S^i_{uv} = 1`` when ``v`` is one of the ``k`` pool
points nearest to ``u`` (Euclidean distance), with ``k`` = 1 % of the pool (Sec. 5.2).
The pool can hold tens of thousands of points, so the squared distances

.. math:: \\|a - b\\|^2 = \\|a\\|^2 + \\|b\\|^2 - 2\\, a^\\top b

are formed one ``chunk_size x chunk_size`` block at a time with a matrix product (float32
for float32 input), and every row keeps a running list of its ``k`` best
candidates. Because the distance is symmetric, each block ``(I, J)`` with ``J >= I`` is
computed once and used for the rows of ``I`` and (transposed) of ``J``: half the
multiply-adds of the plain row-by-row search. From a block, only the entries not larger
than a row's current ``k``-th best distance survive; survivors of several blocks are
merged into the running lists at once, so the expensive selection touches about
``k log(n / chunk_size)`` numbers per row instead of ``n``. Memory is
``O(n k + chunk_size^2 + n d)``; no ``n x n`` array is ever built.

For very large pools an approximate graph is available: the same exact search in the
leading principal components (``approx_dim``), with :func:`knn_recall` to measure how
many exact neighbours it keeps.

Ordering is the lexicographic order of ``(distance, index)``: among equally distant
candidates the lower pool index wins, so the graph is deterministic.

The matrix products run in PyTorch when it is installed (its CPU kernels follow the portable
numerics of :mod:`diamlib.numerics`) and in numpy otherwise (the core install, without the
``networks`` extra). Both form the same float32 or float64 expression
``|a|^2 + |b|^2 - 2 a'b``; they can differ only in the last bit of a distance, so a graph
changes only where two candidates tie to within rounding.

References
----------
Eq. 10, Algorithm 2 (lines 5-6) and Sec. 5.2 ("smallest 1% of distances") of the paper.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

__all__ = [
    "check_knn_fraction",
    "knn_adjacency",
    "knn_indices",
    "knn_recall",
    "neighbour_count",
    "pca_project",
    "sum_symmetrized",
    "symmetrize",
]


# --------------------------------------------------------------------------- matrix products
def _torch():
    """PyTorch if it is installed (the ``networks`` extra), else None: the products then run in numpy."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _gram(array: np.ndarray) -> np.ndarray:
    """``array' array`` in the dtype of ``array``."""
    torch = _torch()
    if torch is None:
        return array.T @ array
    return (torch.from_numpy(array).T @ torch.from_numpy(array)).numpy()


class _SquaredDistances:
    """Blocks of squared distances ``|a|^2 + |b|^2 - 2 a'b`` between the points of ``array``."""

    def __init__(self, array: np.ndarray):
        self.torch = _torch()
        if self.torch is None:
            self.points = array
            self.squared_norms = (array * array).sum(axis=1)
        else:
            self.points = self.torch.from_numpy(array)
            self.squared_norms = (self.points * self.points).sum(dim=1)

    def block(self, row_start: int, row_stop: int, col_start: int, col_stop: int) -> np.ndarray:
        """Squared distances from rows ``row_start:row_stop`` to rows ``col_start:col_stop``, a new array."""
        rows, columns = self.points[row_start:row_stop], self.points[col_start:col_stop]
        norms = self.squared_norms[row_start:row_stop, None] + self.squared_norms[None, col_start:col_stop]
        if self.torch is None:
            products = rows @ columns.T
            products *= -2.0
            products += norms
            return products
        with self.torch.no_grad():
            return self.torch.addmm(norms, rows, columns.T, beta=1.0, alpha=-2.0).numpy()


# --------------------------------------------------------------------------- validation
def _check_features(features: np.ndarray, name: str = "features") -> np.ndarray:
    """A finite, C-contiguous float32 or float64 copy-free view of a 2-D feature array."""
    if not isinstance(features, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (n_points, n_features), got {type(features).__name__}")
    if features.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_points, n_features), got shape {features.shape}")
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"{name} must have at least one point and one feature, got shape {features.shape}")
    if not (np.issubdtype(features.dtype, np.floating) or np.issubdtype(features.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {features.dtype}")
    dtype = np.float32 if features.dtype == np.float32 else np.float64
    array = np.ascontiguousarray(features, dtype=dtype)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute the features first")
    return array


def _check_count(value: int, name: str, low: int, high: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}; {hint}")
    return int(value)


# --------------------------------------------------------------------------- k
def check_knn_fraction(knn_fraction: float) -> float:
    """The fraction of the pool counted as neighbours, validated: a finite number in (0, 1].

    Raises
    ------
    ValueError
        Outside (0, 1] or not a number; the message names the paper's value 0.01.

    References
    ----------
    Sec. 5.2 of the paper ("within the smallest 1% of distances across all unlabeled data").
    """
    try:
        fraction = float(knn_fraction)
    except (TypeError, ValueError):
        fraction = math.nan
    if isinstance(knn_fraction, bool) or not (math.isfinite(fraction) and 0.0 < fraction <= 1.0):
        raise ValueError(f"knn_fraction must be in (0, 1] (the paper uses 0.01), got {knn_fraction!r}")
    return fraction


def neighbour_count(n_pool: int, knn_fraction: float) -> int:
    """Number of neighbours ``k`` per point: the smallest ``knn_fraction`` of the distances.

    Parameters
    ----------
    n_pool : int
        Size of the unlabeled pool, at least 2.
    knn_fraction : float
        Fraction of the pool counted as neighbours, in (0, 1]; the paper uses 0.01.

    Returns
    -------
    int
        ``k = max(1, ceil(knn_fraction * n_pool))`` capped at ``n_pool - 1`` (a point is
        not its own neighbour). The product is rounded to 6 decimals before the ceiling
        so that, e.g., ``0.01 * 4000`` gives 40 and not 41 through floating-point error.

    Raises
    ------
    ValueError
        ``n_pool < 2`` or ``knn_fraction`` outside (0, 1].

    References
    ----------
    Sec. 5.2 of the paper ("within the smallest 1% of distances across all unlabeled data").
    """
    n_pool = _check_count(n_pool, "n_pool", 2, np.iinfo(np.int64).max, "a neighbour graph needs at least two points")
    fraction = check_knn_fraction(knn_fraction)
    k = max(1, math.ceil(round(fraction * n_pool, 6)))
    return min(k, n_pool - 1)


# --------------------------------------------------------------------------- exact search
def _placeholder(dtype) -> int:
    """Index of an empty candidate slot: larger than any pool index."""
    return int(np.iinfo(dtype).max) - 1


def _survivors(block: np.ndarray, thresholds: np.ndarray, first_column: int,
               transposed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block entries not larger than their row's current ``k``-th best distance.

    Parameters
    ----------
    block : ndarray, shape (r, w), or (w, r) if ``transposed``
        Squared distances from ``r`` rows to the points ``first_column ..``.
    thresholds : ndarray, shape (r,)
        Current ``k``-th best distance of each row (``inf`` while it has fewer than ``k``).
    first_column : int
    transposed : bool
        The block is stored with the ``r`` rows as its columns.

    Returns
    -------
    rows, values, columns : ndarrays of equal length
        Local row, distance and global pool index of every surviving entry; ``rows``
        ascending.
    """
    width = block.shape[1]
    if transposed:
        flat = np.flatnonzero(block <= thresholds[None, :])
        columns, rows = np.divmod(flat, width)
        # order by row (stable); a radix sort when the rows fit in 16 bits
        keys = rows.astype(np.int16) if width <= np.iinfo(np.int16).max else rows
        order = np.argsort(keys, kind="stable")
        flat, rows, columns = flat[order], rows[order], columns[order]
    else:
        flat = np.flatnonzero(block <= thresholds[:, None])
        rows, columns = np.divmod(flat, width)
    return rows, block.ravel()[flat], columns + first_column


def _merge_candidates(best_dist: np.ndarray, best_index: np.ndarray,
                      pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]], k: int) -> None:
    """Merge collected survivors into each row's ``k`` best ``(distance, index)`` pairs, in place.

    The survivors of several blocks are merged at once, so the ``k`` kept candidates of a
    row are re-examined only every few blocks; the selection runs on
    ``k + (survivors of the row)`` numbers per row.

    Parameters
    ----------
    best_dist : ndarray, shape (r, k)
        Current candidate distances of ``r`` rows (``inf`` where still empty); updated.
    best_index : ndarray of int32 or int64, shape (r, k)
        Their pool indices (a placeholder larger than any index where empty); updated.
    pending : list of (rows, values, columns)
        Output of :func:`_survivors` for the same ``r`` rows.
    k : int
    """
    n_rows = best_dist.shape[0]
    totals = np.zeros(n_rows, dtype=np.int64)
    places = []
    for rows, _, _ in pending:  # rows ascending within each piece: rank = position - first position
        counts = np.bincount(rows, minlength=n_rows)
        first = np.cumsum(counts) - counts
        places.append(totals[rows] + np.arange(rows.size) - first[rows])
        totals += counts
    active = np.flatnonzero(totals)
    if active.size == 0:
        return
    slot_of_row = np.zeros(n_rows, dtype=np.int64)
    slot_of_row[active] = np.arange(active.size)
    width = int(totals.max())
    dist = np.full((active.size, k + width), np.inf, dtype=best_dist.dtype)
    index = np.full((active.size, k + width), _placeholder(best_index.dtype), dtype=best_index.dtype)
    dist[:, :k] = best_dist[active]
    index[:, :k] = best_index[active]
    for (rows, values, columns), place in zip(pending, places):
        slots = slot_of_row[rows]
        dist[slots, k + place] = values
        index[slots, k + place] = columns
    chosen = _lexicographic_smallest(dist, index, k)
    best_dist[active] = np.take_along_axis(dist, chosen, axis=1)
    best_index[active] = np.take_along_axis(index, chosen, axis=1)


def _lexicographic_smallest(dist: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` smallest ``(distance, index)`` pairs of every row.

    Parameters
    ----------
    dist : ndarray, shape (m, w)
    index : ndarray of int, shape (m, w)
        Pool index of every entry (may be a broadcast view).
    k : int
        ``k <= w``.

    Returns
    -------
    ndarray of int64, shape (m, k)
        Column positions, ascending within each row.
    """
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1:k]
    less = dist < kth
    equal = dist == kth
    keep = less | equal
    need = k - np.count_nonzero(less, axis=1)
    ambiguous = np.flatnonzero(np.count_nonzero(equal, axis=1) > need)
    if ambiguous.size:
        # more ties at the threshold than places left: lowest pool index first
        # (empty slots, whose index is the placeholder, after every real point)
        keys = np.where(equal[ambiguous], index[ambiguous], np.iinfo(index.dtype).max)
        order = np.argsort(keys, axis=1, kind="stable")
        take = np.arange(keys.shape[1])[None, :] < need[ambiguous, None]
        chosen_ties = np.zeros_like(take)
        np.put_along_axis(chosen_ties, order, take, axis=1)
        keep[ambiguous] = less[ambiguous] | chosen_ties
    return np.nonzero(keep)[1].reshape(dist.shape[0], k)


class _RowBlockCandidates:
    """Running ``k`` best candidates of one block of rows, with survivors waiting to be merged."""

    def __init__(self, best_dist: np.ndarray, best_index: np.ndarray, k: int):
        self.best_dist, self.best_index, self.k = best_dist, best_index, k
        self.thresholds = best_dist.max(axis=1)
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending_size = 0
        self.empty = True
        # merge once about k/2 survivors per row are waiting (bounds the waiting memory)
        self.limit = max(1, best_dist.shape[0] * k // 2)

    def add(self, block: np.ndarray, first_column: int, transposed: bool = False) -> None:
        if self.empty:
            # first block these rows see: select directly from the dense block
            dense = np.ascontiguousarray(block.T) if transposed else block
            if dense.shape[1] >= self.k:
                columns = np.arange(first_column, first_column + dense.shape[1])
                chosen = _lexicographic_smallest(dense, np.broadcast_to(columns, dense.shape), self.k)
                self.best_dist[:] = np.take_along_axis(dense, chosen, axis=1)
                self.best_index[:] = chosen + first_column
                self.thresholds = self.best_dist.max(axis=1)
                self.empty = False
                return
        self.empty = False
        piece = _survivors(block, self.thresholds, first_column, transposed)
        if piece[0].size:
            self.pending.append(piece)
            self.pending_size += piece[0].size
        if self.pending_size >= self.limit:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            _merge_candidates(self.best_dist, self.best_index, self.pending, self.k)
            self.thresholds = self.best_dist.max(axis=1)
            self.pending, self.pending_size = [], 0


def knn_indices(features: np.ndarray, k: int, *, chunk_size: int = 2048, exclude_self: bool = True) -> np.ndarray:
    """Exact ``k`` nearest neighbours of every point, computed block by block.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Point representations. float32 input is searched in float32 (twice as fast),
        anything else in float64.
    k : int
        Neighbours per point; ``1 <= k <= n - 1`` (``<= n`` with ``exclude_self=False``).
    chunk_size : int
        Side of the square distance blocks; memory grows with ``chunk_size**2``.
    exclude_self : bool
        If True a point is never its own neighbour (its duplicates still can be).

    Returns
    -------
    ndarray of int64, shape (n, k)
        Row ``u`` lists the ``k`` neighbours of ``u`` sorted by ``(distance, index)``.

    Raises
    ------
    TypeError, ValueError
        Non-array, non-2-D or non-finite features; ``k`` or ``chunk_size`` out of range.

    References
    ----------
    Eq. 10 of the paper.
    """
    array = _check_features(features)
    best_dist, best_index = _knn_candidates(array, k, chunk_size=chunk_size, exclude_self=exclude_self)
    # order by (distance, index): sort by index, then stably by distance
    by_index = np.argsort(best_index, axis=1)
    best_index = np.take_along_axis(best_index, by_index, axis=1)
    best_dist = np.take_along_axis(best_dist, by_index, axis=1)
    by_dist = np.argsort(best_dist, axis=1, kind="stable")
    return np.take_along_axis(best_index, by_dist, axis=1).astype(np.int64)


def _knn_candidates(array: np.ndarray, k: int, *, chunk_size: int, exclude_self: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Unordered exact ``k`` nearest neighbours: squared distances (n, k) and indices (n, k)."""
    n = array.shape[0]
    k = _check_count(k, "k", 1, n - 1 if exclude_self else n,
                     "use neighbour_count(n_pool, knn_fraction) to derive k from the pool size")
    chunk_size = _check_count(chunk_size, "chunk_size", 1, np.iinfo(np.int32).max, "use e.g. 1024 or 2048")
    distances = _SquaredDistances(array)
    best_dist = np.full((n, k), np.inf, dtype=array.dtype)
    index_dtype = np.int32 if n < np.iinfo(np.int32).max - 1 else np.int64
    best_index = np.full((n, k), _placeholder(index_dtype), dtype=index_dtype)
    starts = list(range(0, n, chunk_size))
    candidates = [_RowBlockCandidates(best_dist[start:start + chunk_size], best_index[start:start + chunk_size], k)
                  for start in starts]
    for position, row_start in enumerate(starts):
        row_stop = min(row_start + chunk_size, n)
        for offset, col_start in enumerate(starts[position:]):
            block = distances.block(row_start, row_stop, col_start, min(col_start + chunk_size, n))
            if offset == 0 and exclude_self:
                np.fill_diagonal(block, np.inf)
            candidates[position].add(block, col_start)
            if offset > 0:
                candidates[position + offset].add(block, row_start, transposed=True)
        candidates[position].flush()  # every column of these rows has been seen
    return best_dist, best_index


# --------------------------------------------------------------------------- approximation
def pca_project(features: np.ndarray, n_components: int) -> np.ndarray:
    """Project features onto their leading principal components (deterministic).

    Used by the approximate kNN option: distances in the top ``n_components`` principal
    directions approximate the full distances when the features have low intrinsic
    dimension, at ``n_components / d`` of the search cost.

    Parameters
    ----------
    features : ndarray, shape (n, d)
    n_components : int
        ``1 <= n_components <= d``.

    Returns
    -------
    ndarray, shape (n, n_components)
        Centred features times the eigenvectors of the ``d x d`` scatter matrix with the
        largest eigenvalues (each eigenvector's sign fixed so its largest-magnitude entry
        is positive). Same dtype as the (validated) input.

    References
    ----------
    Approximation of the Eq. 10 neighbour search (not in the paper).
    """
    array = _check_features(features)
    n_components = _check_count(n_components, "n_components", 1, array.shape[1],
                                "choose at most the feature dimension")
    centred = array - array.mean(axis=0, dtype=np.float64).astype(array.dtype)
    scatter = _gram(centred).astype(np.float64)
    d = scatter.shape[0]
    with threadpool_limits(limits=1, user_api="blas"):  # small d x d problem: threads only add overhead
        _, vectors = scipy.linalg.eigh(scatter, subset_by_index=[d - n_components, d - 1])
    basis = vectors[:, ::-1]
    signs = np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(n_components)])
    basis = (basis * signs).astype(array.dtype)
    return centred @ basis


# --------------------------------------------------------------------------- graphs
def knn_adjacency(features: np.ndarray, k: int, *, chunk_size: int = 2048, exclude_self: bool = True,
                  approx_dim: int | None = None) -> sp.csr_matrix:
    """0/1 k-nearest-neighbour adjacency of Eq. 10, built without any ``n x n`` array.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Penultimate-layer features of the pool under one target model. float32 input is
        searched in float32 (twice as fast as float64).
    k : int
        Neighbours per point (see :func:`neighbour_count`).
    chunk_size : int
        Side of the square distance blocks (memory ``~ 3 * chunk_size**2`` numbers).
    exclude_self : bool
        If True a point is never its own neighbour.
    approx_dim : int, optional
        If given (and smaller than ``d``), search in the top ``approx_dim`` principal
        components (:func:`pca_project`): an approximate graph at ``approx_dim / d`` of
        the cost; measure its quality with :func:`knn_recall`. Default: exact search.

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (n, n)
        Row ``u`` has exactly ``k`` ones, at ``u``'s nearest neighbours (ties by lower
        index); column indices sorted. float32 stores 0/1 exactly at 8 bytes per entry.

    Raises
    ------
    TypeError, ValueError
        Invalid features, ``k``, ``chunk_size`` or ``approx_dim``.

    References
    ----------
    Eq. 10 and Algorithm 2 (line 5) of the paper.
    """
    array = _check_features(features)
    if approx_dim is not None and approx_dim < array.shape[1]:
        array = pca_project(array, approx_dim)
    _, neighbours = _knn_candidates(array, k, chunk_size=chunk_size, exclude_self=exclude_self)
    n = array.shape[0]
    columns = np.sort(neighbours, axis=1).ravel().astype(np.int32 if n < 2**31 else np.int64)
    indptr = np.arange(0, n * k + 1, k, dtype=columns.dtype)
    data = np.ones(n * k, dtype=np.float32)
    return sp.csr_matrix((data, columns, indptr), shape=(n, n))


def symmetrize(adjacency) -> sp.csr_matrix:
    """``(S + S^T) / 2`` as a CSR matrix.

    Parameters
    ----------
    adjacency : scipy sparse matrix or ndarray, shape (n, n)

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n, n)
        Symmetric; float32 if the input is float32 (0, 1/2 and 1 are exact), float64
        otherwise. Sorted indices, no explicit zeros.

    Raises
    ------
    TypeError, ValueError
        Not a matrix, not square, or non-finite entries.

    References
    ----------
    Algorithm 2, line 6 of the paper.
    """
    if isinstance(adjacency, np.ndarray):
        adjacency = sp.csr_matrix(adjacency)
    if not sp.issparse(adjacency):
        raise TypeError(f"adjacency must be a scipy sparse matrix or numpy array, got {type(adjacency).__name__}")
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be square (n, n), got shape {adjacency.shape}")
    dtype = np.float32 if adjacency.dtype == np.float32 else np.float64
    matrix = sp.csr_matrix(adjacency, dtype=dtype)
    if not np.isfinite(matrix.data).all():
        raise ValueError("adjacency contains NaN or infinite entries")
    result = (matrix + matrix.T.tocsr()).tocsr()
    result.data *= dtype(0.5)
    result.eliminate_zeros()
    result.sort_indices()
    return result


def sum_symmetrized(adjacencies: Iterable, n: int, *, row_blocks: int = 16) -> sp.csr_matrix:
    """``S = sum_i (S^i + S^i') / 2`` for graphs given one at a time, in little more memory than ``S``.

    Adding whole sparse matrices holds the old sum, the new sum and the next graph at once,
    about twice the size of ``S``. Here the sum is kept in ``row_blocks`` row blocks, each
    graph is added block by block, and the blocks are finally copied into one CSR matrix
    whose arrays are allocated once, each block being released as soon as it is copied; the
    peak is about ``S`` plus one symmetrised graph.

    Parameters
    ----------
    adjacencies : iterable of scipy sparse matrices, each (n, n)
        Consumed one at a time (pass a generator so that only one graph exists at once).
    n : int
        Pool size.
    row_blocks : int
        Number of row blocks of the running sum.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n, n)
        Symmetric, sorted indices; float32 when every graph is float32.

    References
    ----------
    Algorithm 2, line 6 and Eq. 9 (the sum of the models' symmetrised graphs) of the paper.
    """
    bounds = np.linspace(0, n, max(1, min(row_blocks, n)) + 1).astype(np.int64)
    blocks: list[sp.csr_matrix | None] = [None] * (len(bounds) - 1)
    count = 0
    for adjacency in adjacencies:
        graph = symmetrize(adjacency)
        if graph.shape != (n, n):
            raise ValueError(f"graph {count} has shape {graph.shape}, expected ({n}, {n})")
        for b, (low, high) in enumerate(zip(bounds[:-1], bounds[1:])):
            part = graph[low:high]
            blocks[b] = part if blocks[b] is None else (blocks[b] + part).tocsr()
        del graph, part
        count += 1
    if count == 0:
        raise ValueError("sum_symmetrized needs at least one graph")
    nnz = sum(block.nnz for block in blocks)
    index_dtype = np.int32 if nnz < np.iinfo(np.int32).max else np.int64
    data = np.empty(nnz, dtype=blocks[0].dtype)
    indices = np.empty(nnz, dtype=index_dtype)
    indptr = np.zeros(n + 1, dtype=index_dtype)
    start = 0
    for b, low in enumerate(bounds[:-1]):
        block, blocks[b] = blocks[b], None
        block.sort_indices()
        stop = start + block.nnz
        data[start:stop] = block.data
        indices[start:stop] = block.indices
        indptr[low + 1 : low + 1 + block.shape[0]] = start + block.indptr[1:]
        start = stop
        del block
    total = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    total.has_sorted_indices = True
    return total


def knn_recall(features: np.ndarray, adjacency: sp.spmatrix, rows: np.ndarray, *, exclude_self: bool = True) -> float:
    """Fraction of the exact ``k`` nearest neighbours that an (approximate) graph recovers.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        The full features the exact neighbours are computed from.
    adjacency : scipy sparse matrix, shape (n, n)
        Graph to assess, e.g. ``knn_adjacency(features, k, approx_dim=128)``; each
        assessed row must have the same number ``k`` of entries.
    rows : ndarray of int, shape (m,)
        Rows to assess (draw them with a ``numpy.random.Generator``).
    exclude_self : bool

    Returns
    -------
    float
        Mean over ``rows`` of ``|approx(u) & exact(u)| / k``.

    References
    ----------
    Quality check of the approximate Eq. 10 graph (not in the paper).
    """
    array = _check_features(features)
    matrix = sp.csr_matrix(adjacency)
    rows = np.asarray(rows, dtype=np.int64)
    if rows.ndim != 1 or rows.size == 0 or rows.min() < 0 or rows.max() >= array.shape[0]:
        raise ValueError("rows must be a non-empty 1-D array of positions into features")
    counts = np.diff(matrix.indptr)[rows]
    if not (counts == counts[0]).all() or counts[0] == 0:
        raise ValueError("every assessed row of adjacency must have the same, positive number of neighbours")
    k = int(counts[0])
    squared_norms = np.einsum("ij,ij->i", array, array)
    hits = 0
    for start in range(0, rows.size, 256):
        chunk = rows[start:start + 256]
        dist = squared_norms[None, :] - 2.0 * (array[chunk] @ array.T)
        if exclude_self:
            dist[np.arange(chunk.size), chunk] = np.inf
        exact = np.argpartition(dist, k - 1, axis=1)[:, :k]
        for position, row in enumerate(chunk):
            found = matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]]
            hits += np.intersect1d(found, exact[position], assume_unique=True).size
    return hits / (rows.size * k)
