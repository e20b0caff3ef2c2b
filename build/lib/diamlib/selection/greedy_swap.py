"""DIAM's batch by direct minimisation of the binary Eq. 9: lazy greedy plus swap local search.

Eq. 9 of the paper scores a batch ``B`` (indicator ``b``, ``|B| = tau``) by

.. math:: f(B) = \\sum_i b^\\top S^i b + \\beta\\, b^\\top v
               = \\sum_{u, w \\in B} S_{uw} + \\beta \\sum_{u \\in B} v_u ,

with ``S = sum_i sym(S^i)``. This module minimises ``f`` over binary batches directly
instead of rounding a relaxation:

Greedy construction. Starting from the empty batch, add the point of smallest marginal
gain ``g_j(B) = f(B + j) - f(B) = beta v_j + S_jj + 2 (S b)_j`` (ties: lower pool
position). Adding ``j`` updates ``S b`` with one sparse column per model, so a step costs
``O(n + k)`` per model and no product with the whole graph.

Swap local search. Exchanging ``i in B`` for ``j not in B`` changes the objective by

.. math:: \\Delta_{ij} = g_j(B) - r_i(B) - 2 S_{ij}, \\qquad r_i(B) = f(B) - f(B - i)
          = \\beta v_i + 2 (S b)_i - S_{ii} .

Each pass computes ``S b`` exactly, takes the ``n_candidates`` non-members of smallest
``g_j`` and the whole batch, extracts ``S`` on that set as a dense block, and applies the
best swap while ``Delta < 0`` (strictly, beyond a relative tolerance). A pass that
applies no swap ends the search; at most ``max_passes`` passes run. The objective
therefore never increases, and the result is deterministic.

References
----------
Eq. 9 and Algorithm 2 (line 9) of the paper; greedy construction and swap (1-exchange)
local search for quadratic selection problems.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from diamlib.selection.greedy import greedy_select
from diamlib.selection.objective import (
    SimilaritySum,
    check_beta,
    check_similarities,
    check_tau,
    check_vector,
    similarity_operator,
)

__all__ = ["BinarySelection", "greedy_swap_selection", "marginal_gain", "swap_local_search"]

#: a swap must lower the objective by more than this fraction of its scale to count
RELATIVE_IMPROVEMENT = 1e-12


@dataclass(frozen=True)
class BinarySelection:
    """A batch chosen by direct minimisation of the binary Eq. 9.

    Attributes
    ----------
    positions : ndarray of int64, shape (tau,)
        Pool positions of the batch: the greedy order of the points kept, then the
        swapped-in points by position.
    objective : float
        ``f(B)`` (Eq. 9 at the binary indicator).
    greedy_objective : float
        ``f`` after the greedy construction, before the swaps.
    swaps : int
        Improving swaps applied.
    passes : int
        Swap passes run.
    converged : bool
        True when the last pass found no improving swap among its candidates
        (False: stopped by ``max_passes``).
    """

    positions: np.ndarray
    objective: float
    greedy_objective: float
    swaps: int
    passes: int
    converged: bool


class _Graphs:
    """The similarity graphs of Eq. 9 with one-point updates of ``S b``.

    Adding point ``j`` to the batch adds column ``j`` of ``S = sum_i sym(S^i)`` to
    ``S b``: row ``j`` of every graph, plus (asymmetric graphs, halved) row ``j`` of its
    transpose. The transposes are built once; for graphs whose stored entries are all
    equal (0/1 kNN adjacencies) only their sparsity pattern is kept (5 bytes per entry).
    """

    def __init__(self, operator: SimilaritySum):
        self.operator = operator
        self.n = operator.n
        self.diagonal = np.zeros(self.n)
        self.rows = []  # (indptr, indices, data or constant, weight)
        for matrix, symmetric in zip(operator.matrices, operator.symmetric):
            self.diagonal += matrix.diagonal()
            weight = 1.0 if symmetric else 0.5
            self.rows.append((matrix.indptr, matrix.indices, matrix.data, weight))
            if symmetric:
                continue
            constant = matrix.nnz > 0 and float(matrix.data.min()) == float(matrix.data.max())
            if constant:
                pattern = sp.csr_matrix((np.ones(matrix.nnz, dtype=np.bool_), matrix.indices, matrix.indptr),
                                        shape=matrix.shape).T.tocsr()
                self.rows.append((pattern.indptr, pattern.indices, float(matrix.data[0]), weight))
            else:
                transpose = matrix.T.tocsr()
                self.rows.append((transpose.indptr, transpose.indices, transpose.data, weight))

    def add_column(self, target: np.ndarray, point: int, sign: float) -> None:
        """``target += sign * S[:, point]``."""
        for indptr, indices, data, weight in self.rows:
            start, stop = indptr[point], indptr[point + 1]
            if isinstance(data, float):
                np.add.at(target, indices[start:stop], sign * weight * data)
            else:
                np.add.at(target, indices[start:stop], sign * weight * data[start:stop].astype(np.float64))

    def block(self, points: np.ndarray) -> np.ndarray:
        """Dense ``S[points][:, points]`` of the summed symmetric parts."""
        total = sp.csr_matrix((points.shape[0], points.shape[0]))
        for matrix, symmetric in zip(self.operator.matrices, self.operator.symmetric):
            part = matrix[points][:, points].astype(np.float64)
            total = total + (part if symmetric else 0.5 * (part + part.T))
        return total.toarray()


def _objective(graphs: _Graphs, b: np.ndarray, v: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """``f(b)`` and ``S b`` (exact, one product per graph)."""
    product = graphs.operator(b)
    return float(b @ product + beta * (b @ v)), product


def marginal_gain(linear: np.ndarray, diagonal: np.ndarray, batch_sums: np.ndarray) -> np.ndarray:
    """The marginal gain of Eq. 9, ``g_j(B) = f(B + j) - f(B) = beta v_j + S_jj + 2 (S b)_j``.

    Parameters
    ----------
    linear : ndarray, shape (n,)
        ``beta * v``.
    diagonal : ndarray, shape (n,)
        ``S_jj``.
    batch_sums : ndarray, shape (n,)
        ``(S b)_j`` over the batch without ``j`` (for a non-member, simply ``(S b)_j``).

    Returns
    -------
    ndarray, shape (n,)
        Negative where adding ``j`` lowers the objective.

    References
    ----------
    Eq. 9 of the paper.
    """
    return linear + diagonal + 2.0 * batch_sums


class _Eq9Greedy:
    """The greedy steps of Eq. 9 (:class:`~diamlib.selection.greedy.GreedySelector`): pick the point of
    smallest :func:`marginal_gain` (ties: lower position), then add its column of ``S`` to ``S b``."""

    def __init__(self, graphs: _Graphs, v: np.ndarray, beta: float):
        self.graphs, self.v, self.beta = graphs, v, beta

    def prepare(self) -> None:
        self.linear = self.beta * self.v
        self.product = np.zeros(self.graphs.n)  # S b of the current batch
        self.taken = np.zeros(self.graphs.n, dtype=bool)

    def get_scores(self) -> np.ndarray:
        gain = marginal_gain(self.linear, self.graphs.diagonal, self.product)
        gain[self.taken] = np.inf
        return gain

    def get_next_idx(self) -> int:
        return int(np.argmin(self.get_scores()))

    def add(self, idx: int) -> None:
        self.taken[idx] = True
        self.graphs.add_column(self.product, idx, 1.0)


def _greedy(graphs: _Graphs, v: np.ndarray, tau: int, beta: float) -> np.ndarray:
    """Greedy batch of ``tau`` points by smallest marginal gain (ties: lower position), by the one
    greedy loop (:func:`~diamlib.selection.greedy.greedy_select`)."""
    return np.asarray(greedy_select(_Eq9Greedy(graphs, v, beta), tau), dtype=np.int64)


def _check_search_options(n_candidates, max_passes) -> tuple[int, int]:
    for name, value in (("n_candidates", n_candidates), ("max_passes", max_passes)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(n_candidates), int(max_passes)


def _search(graphs: _Graphs, v: np.ndarray, beta: float, positions: np.ndarray, n_candidates: int,
            max_passes: int) -> tuple[np.ndarray, float, int, int, bool]:
    """Best-improvement swaps from ``positions``; returns (batch, f, swaps, passes, converged).

    Per pass: exact ``S b``, the ``n_candidates`` outsiders of smallest marginal gain, the
    dense block of ``S`` on batch plus candidates, then the best swap while its change
    ``Delta`` is below ``-RELATIVE_IMPROVEMENT * scale`` (members' and candidates' ``S b``
    and the member-candidate block are updated in ``O(tau + n_candidates)`` per swap).
    """
    n = graphs.n
    batch = np.array(positions, dtype=np.int64)
    b = np.zeros(n)
    b[batch] = 1.0
    value, product = _objective(graphs, b, v, beta)
    swaps = passes = 0
    converged = False
    while passes < max_passes:
        passes += 1
        add_gain = marginal_gain(beta * v, graphs.diagonal, product)
        outside = np.flatnonzero(b == 0)
        count = min(n_candidates, outside.size)
        if count == 0:
            converged = True
            break
        # candidates: the non-members of smallest gain (ties: lower position), deterministic
        order = np.lexsort((outside, add_gain[outside]))[:count]
        candidates = outside[order]
        union = np.concatenate([batch, candidates])
        block = graphs.block(union)
        inside = np.arange(batch.size)              # positions in ``union`` of the members
        out = np.arange(batch.size, union.size)     # ... and of the candidates
        crossing = block[np.ix_(inside, out)]       # S between members and candidates
        local_product = product[union].copy()
        local_diag = graphs.diagonal[union]
        local_linear = beta * v[union]
        scale = abs(value) + float(np.abs(local_linear).sum()) + 1.0
        applied = 0
        while True:
            add = marginal_gain(local_linear[out], local_diag[out], local_product[out])
            remove = local_linear[inside] + 2.0 * local_product[inside] - local_diag[inside]
            delta = add[None, :] - remove[:, None] - 2.0 * crossing
            best = int(np.argmin(delta))
            row, column = divmod(best, out.size)
            if not delta[row, column] < -RELATIVE_IMPROVEMENT * scale:
                break
            i, j = inside[row], out[column]
            inside[row], out[column] = j, i
            crossing[row, :] = block[j, out]
            crossing[:, column] = block[inside, i]
            local_product += block[:, j] - block[:, i]
            value += float(delta[row, column])
            applied += 1
        member = np.zeros(union.size, dtype=bool)
        member[inside] = True
        if applied == 0:
            converged = True
            break
        swaps += applied
        # the points kept, in their order, then the points swapped in, by position
        batch = np.concatenate([batch[member[:batch.size]], np.sort(union[batch.size:][member[batch.size:]])])
        b = np.zeros(n)
        b[batch] = 1.0
        value, product = _objective(graphs, b, v, beta)  # exact again, no drift
    return batch, value, swaps, passes, converged


def swap_local_search(similarities, informativeness: np.ndarray, positions, *, beta: float,
                      n_candidates: int = 1000, max_passes: int = 10) -> BinarySelection:
    """Improve a batch by swaps that strictly lower the binary Eq. 9 objective.

    Parameters
    ----------
    similarities : sequence of scipy sparse matrices, each (n, n)
        ``S^i`` (asymmetric ones enter through their symmetric part).
    informativeness : ndarray, shape (n,)
        ``v``.
    positions : array of int, shape (tau,)
        Starting batch (distinct pool positions).
    beta : float
        Negative trade-off of Eq. 9.
    n_candidates : int
        Non-members considered per pass (those of smallest marginal gain).
    max_passes : int
        Upper bound on passes.

    Returns
    -------
    BinarySelection
        ``objective <= greedy_objective`` (here: the starting batch's value).

    References
    ----------
    Eq. 9 of the paper.
    """
    operator = similarity_operator(check_similarities(similarities))
    n = operator.n
    v = check_vector(informativeness, "informativeness", n)
    beta = check_beta(beta)
    n_candidates, max_passes = _check_search_options(n_candidates, max_passes)
    start = np.asarray(positions)
    if start.ndim != 1 or not np.issubdtype(start.dtype, np.integer):
        raise ValueError("positions must be a 1-D array of integer pool positions")
    check_tau(start.size, n)
    if start.min() < 0 or start.max() >= n or np.unique(start).size != start.size:
        raise ValueError(f"positions must be distinct pool positions in [0, {n})")
    return _improve(_Graphs(operator), v, beta, start, n_candidates, max_passes)


def _improve(graphs, v: np.ndarray, beta: float, start: np.ndarray, n_candidates: int,
             max_passes: int) -> BinarySelection:
    """Swap search from the batch ``start``, recording the starting batch's objective."""
    b = np.zeros(v.shape[0])
    b[start] = 1.0
    initial, _ = _objective(graphs, b, v, beta)
    batch, value, swaps, passes, converged = _search(graphs, v, beta, start, n_candidates, max_passes)
    return BinarySelection(positions=batch, objective=value, greedy_objective=initial, swaps=swaps,
                           passes=passes, converged=converged)


def greedy_swap_selection(similarities, informativeness: np.ndarray, *, tau: int, beta: float,
                          n_candidates: int = 1000, max_passes: int = 10) -> BinarySelection:
    """DIAM's batch: lazy greedy construction on Eq. 9, then improving swaps.

    Parameters
    ----------
    similarities : sequence of scipy sparse matrices, each (n, n)
        ``S^i``, e.g. ``knn_adjacency(features_i, k)`` (raw or symmetrised: only the
        symmetric part enters ``b'S^i b``; a raw graph costs a transposed sparsity
        pattern, 5 bytes per stored entry, while the search runs).
    informativeness : ndarray, shape (n,)
        ``v`` (disagreement votes).
    tau : int
        Batch size, ``1 <= tau <= n``.
    beta : float
        Negative trade-off of Eq. 9 (the paper's convention, no factor 1/2).
    n_candidates : int
        Non-members examined per swap pass (smallest marginal gain first); memory of a
        pass is a dense ``(tau + n_candidates)^2`` block.
    max_passes : int
        Upper bound on swap passes.

    Returns
    -------
    BinarySelection

    Raises
    ------
    TypeError, ValueError
        Malformed inputs, ``beta >= 0`` or ``tau`` out of range.

    References
    ----------
    Eq. 9 and Algorithm 2 (line 9) of the paper.
    """
    operator = similarity_operator(check_similarities(similarities))
    n = operator.n
    v = check_vector(informativeness, "informativeness", n)
    tau = check_tau(tau, n)
    beta = check_beta(beta)
    n_candidates, max_passes = _check_search_options(n_candidates, max_passes)
    graphs = _Graphs(operator)
    return _improve(graphs, v, beta, _greedy(graphs, v, tau, beta), n_candidates, max_passes)
