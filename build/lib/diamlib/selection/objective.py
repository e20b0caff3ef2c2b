"""The objective of DIAM's batch (Eq. 9), shared by every solver that minimises it.

Eq. 9 of the paper selects ``tau`` pool points by

.. math:: \\min_{b \\in \\{0,1\\}^{n}} \\sum_i b^\\top S^i b + \\beta\\, b^\\top v ,

where ``S^i`` is model ``i``'s symmetrised kNN adjacency (Eq. 10), ``v`` the
informativeness votes and ``beta < 0``. This module holds what the solvers share: the checks
of their arguments (:func:`check_similarities`, :func:`check_vector`, :func:`check_beta`,
:func:`check_tau`), the summed similarity operator ``x -> (sum_i sym(S^i)) x`` built from
sparse products (:func:`similarity_operator`) and the objective itself
(:func:`diam_objective`). The default solver is :mod:`diamlib.selection.greedy_swap`; the
relaxation and the authors' recipe are under :mod:`diamlib.selection.reference`.

References
----------
Eq. 9-10, Algorithm 2 (lines 9-10) and Sec. 5.2 of the paper.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

__all__ = [
    "SimilaritySum",
    "check_beta",
    "check_similarities",
    "check_tau",
    "check_vector",
    "diam_objective",
    "similarity_operator",
]


# --------------------------------------------------------------------------- arguments
def check_vector(values, name: str, n: int | None = None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{name} must be a 1-D array of real numbers, got shape {array.shape} and dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} must have one entry per pool point ({n}), got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_similarities(similarities) -> list[sp.csr_matrix]:
    """CSR float32/float64 copies-if-needed of the similarity matrices, validated."""
    if sp.issparse(similarities) or isinstance(similarities, np.ndarray) and similarities.ndim == 2:
        similarities = [similarities]
    if isinstance(similarities, (str, bytes)) or not isinstance(similarities, Sequence) or len(similarities) == 0:
        raise TypeError("similarities must be a non-empty sequence of (n, n) scipy sparse matrices, one per model")
    matrices = []
    shape = None
    for position, matrix in enumerate(similarities):
        if isinstance(matrix, np.ndarray):
            matrix = sp.csr_matrix(matrix)
        if not sp.issparse(matrix):
            raise TypeError(f"similarities[{position}] must be a scipy sparse matrix, got {type(matrix).__name__}")
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"similarities[{position}] must be square (n, n), got shape {matrix.shape}")
        if shape is not None and matrix.shape != shape:
            raise ValueError(f"all similarity matrices must have the same shape; similarities[{position}] has "
                             f"{matrix.shape}, the first has {shape}")
        shape = matrix.shape
        if np.iscomplexobj(matrix.data) or not np.issubdtype(matrix.dtype, np.number):
            raise TypeError(f"similarities[{position}] must be real, got dtype {matrix.dtype}")
        dtype = np.float32 if matrix.dtype == np.float32 else np.float64
        matrix = matrix.tocsr() if matrix.dtype == dtype else sp.csr_matrix(matrix, dtype=dtype)
        if not np.isfinite(matrix.data).all():
            raise ValueError(f"similarities[{position}] contains NaN or infinite entries")
        matrices.append(matrix)
    return matrices


def check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, Real) or not math.isfinite(beta):
        raise TypeError(f"beta must be a finite real number, got {beta!r}")
    if not beta < 0:
        raise ValueError(f"beta must be negative: Eq. 9 trades diversity against informativeness with beta < 0 "
                         f"(the paper uses -0.1, -1 and -10); got {beta}")
    return float(beta)


def check_tau(tau, n: int) -> int:
    if isinstance(tau, bool) or not isinstance(tau, Integral):
        raise TypeError(f"tau must be an integer, got {tau!r} ({type(tau).__name__})")
    if not 1 <= tau <= n:
        raise ValueError(f"tau must be between 1 and the pool size {n}, got {tau}; lower the query batch size")
    return int(tau)


# --------------------------------------------------------------------------- operator
class SimilaritySum:
    """``x -> (sum_i sym(S^i)) x`` through sparse products, accumulated in float64.

    ``sym(S) = (S + S^T)/2``. Symmetric matrices are used as they are; for the others the
    symmetric part is applied implicitly as ``(S x + S^T x)/2`` (``S^T`` of a CSR matrix is
    a CSC view: no copy), so e.g. raw kNN adjacencies need no symmetrised copy.
    float32 matrices are multiplied by a float32 copy of ``x`` (no upcast copy of the
    matrix; relative error about 1e-7).
    """

    def __init__(self, matrices: list[sp.csr_matrix], symmetric: list[bool]):
        self.matrices = matrices
        self.symmetric = symmetric
        self.n = matrices[0].shape[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        total = np.zeros(self.n, dtype=np.float64)
        cast = {}
        for matrix, symmetric in zip(self.matrices, self.symmetric):
            if matrix.dtype not in cast:
                cast[matrix.dtype] = x.astype(matrix.dtype, copy=False)
            if symmetric:
                total += matrix @ cast[matrix.dtype]
            else:
                total += 0.5 * (matrix @ cast[matrix.dtype])
                total += 0.5 * (matrix.T @ cast[matrix.dtype])
        return total

    def gershgorin(self) -> tuple[float, float]:
        """Gershgorin interval ``[low, high]`` containing every eigenvalue of ``sum_i sym(S^i)``.

        For an asymmetric ``S`` the off-diagonal row sums of ``|sym(S)|`` are bounded by
        the mean of the row and column sums of ``|S|``.
        """
        diagonal = np.zeros(self.n)
        absolute_rows = np.zeros(self.n)
        for matrix, symmetric in zip(self.matrices, self.symmetric):
            diagonal += matrix.diagonal()
            magnitude = abs(matrix)
            rows = np.asarray(magnitude.sum(axis=1), dtype=np.float64).ravel()
            if not symmetric:
                rows = 0.5 * (rows + np.asarray(magnitude.sum(axis=0), dtype=np.float64).ravel())
            absolute_rows += rows
            del magnitude
        radius = absolute_rows - np.abs(diagonal)
        return float(np.min(diagonal - radius)), float(np.max(diagonal + radius))

    def summed(self) -> sp.csr_matrix:
        """``sum_i sym(S^i)`` as one float64 sparse matrix (small pools only)."""
        total = sp.csr_matrix((self.n, self.n))
        for matrix, symmetric in zip(self.matrices, self.symmetric):
            matrix = matrix.astype(np.float64)
            total = total + (matrix if symmetric else 0.5 * (matrix + matrix.T))
        return total.tocsr()

    def dense(self) -> np.ndarray:
        return self.summed().toarray()


def _product_float64(matrix: sp.csr_matrix, vectors: np.ndarray, absolute: bool = False) -> np.ndarray:
    """``matrix @ vectors`` (or ``|matrix| @ vectors``) in float64, upcasting a few rows at a time."""
    if matrix.dtype == np.float64 and not absolute:
        return matrix @ vectors
    rows_per_chunk = max(1, int(2**22 // max(1, matrix.nnz // max(1, matrix.shape[0]))))
    result = np.empty((matrix.shape[0],) + vectors.shape[1:], dtype=np.float64)
    for start in range(0, matrix.shape[0], rows_per_chunk):
        chunk = matrix[start:start + rows_per_chunk].astype(np.float64)
        if absolute:
            chunk = abs(chunk)
        result[start:start + rows_per_chunk] = chunk @ vectors
    return result


def similarity_operator(matrices: list[sp.csr_matrix]) -> SimilaritySum:
    """The summed operator, with each matrix's symmetry detected.

    Only the symmetric part of ``S`` enters ``b'Sb``. Symmetry is probed in float64 with
    two fixed, generic vectors: ``x'Sy == y'Sx`` up to ``1e-12 |x|'|S||y|``; matrices that
    fail are applied through their symmetric part.
    """
    n = matrices[0].shape[0]
    positions = np.arange(n, dtype=np.float64)
    probes = np.stack([np.cos(1.618 * positions + 0.3), np.sin(2.718 * positions + 0.7)], axis=1)
    symmetric = []
    for matrix in matrices:
        products = _product_float64(matrix, probes)
        left = float(probes[:, 0] @ products[:, 1])
        right = float(probes[:, 1] @ products[:, 0])
        bound = float(np.abs(probes[:, 0]) @ _product_float64(matrix, np.abs(probes[:, 1]), absolute=True))
        symmetric.append(abs(left - right) <= 1e-12 * bound)
    return SimilaritySum(matrices, symmetric)


# --------------------------------------------------------------------------- objective
def diam_objective(b: np.ndarray, similarities, informativeness: np.ndarray, beta: float) -> float:
    """Eq. 9: ``sum_i b'S^i b + beta * b'v`` (no diagonal shift).

    Parameters
    ----------
    b : ndarray, shape (n,)
        Binary selection indicator or relaxed solution.
    similarities : sequence of scipy sparse matrices, each (n, n)
    informativeness : ndarray, shape (n,)
        ``v``: number of models whose soft version space disagrees on each point.
    beta : float
        Negative trade-off.

    Returns
    -------
    float
        Computed in float64 (float32 matrices are upcast a few rows at a time).

    References
    ----------
    Eq. 9 of the paper.
    """
    matrices = check_similarities(similarities)
    n = matrices[0].shape[0]
    b = check_vector(b, "b", n)
    v = check_vector(informativeness, "informativeness", n)
    beta = check_beta(beta)
    quadratic = sum(float(b @ _product_float64(matrix, b)) for matrix in matrices)
    return float(quadratic + beta * (b @ v))
