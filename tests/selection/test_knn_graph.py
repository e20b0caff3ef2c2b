"""Blocked kNN adjacency (Eq. 10) against brute force, symmetrisation, k, PCA approximation."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from diamlib.selection.knn import (
    check_knn_fraction,
    knn_adjacency,
    knn_indices,
    knn_recall,
    neighbour_count,
    pca_project,
    symmetrize,
)


def brute_force_neighbours(points: np.ndarray, k: int, exclude_self: bool = True) -> np.ndarray:
    """Dense reference: exact squared distances by differences, order (distance, index)."""
    distances = ((points[:, None, :].astype(np.float64) - points[None, :, :]) ** 2).sum(-1)
    if exclude_self:
        np.fill_diagonal(distances, np.inf)
    n = points.shape[0]
    return np.array([np.lexsort((np.arange(n), distances[u]))[:k] for u in range(n)])


@pytest.mark.parametrize(("n", "d", "k", "chunk_size"), [
    (37, 5, 4, 8),      # last block partial
    (64, 3, 7, 16),     # blocks divide n exactly
    (50, 2, 49, 7),     # k = n - 1: every other point
    (41, 6, 12, 1),     # one-point blocks
    (30, 4, 5, 1000),   # a single block
])
def test_exact_neighbours_match_brute_force(n, d, k, chunk_size):
    points = np.random.default_rng(n).normal(size=(n, d))
    found = knn_indices(points, k, chunk_size=chunk_size)
    np.testing.assert_array_equal(found, brute_force_neighbours(points, k))


def test_matches_sklearn_on_float32_features():
    points = np.random.default_rng(3).normal(size=(300, 16)).astype(np.float32)
    adjacency = knn_adjacency(points, 6, chunk_size=64)
    reference = NearestNeighbors(n_neighbors=6).fit(points.astype(np.float64))
    _, expected = reference.kneighbors(None)  # None: neighbours of the fitted points, self excluded
    for u in range(points.shape[0]):
        row = adjacency.indices[adjacency.indptr[u]:adjacency.indptr[u + 1]]
        np.testing.assert_array_equal(row, np.sort(expected[u]))


@pytest.mark.parametrize("chunk_size", [1, 5, 7, 60])
@pytest.mark.parametrize("k", [2, 9, 40])
def test_ties_go_to_the_lower_index(chunk_size, k):
    # points on a small integer grid: many exactly equal distances (exact in float64)
    points = np.random.default_rng(11).integers(0, 3, size=(60, 2)).astype(np.float64)
    np.testing.assert_array_equal(knn_indices(points, k, chunk_size=chunk_size), brute_force_neighbours(points, k))


def test_duplicates_are_neighbours_but_self_is_not():
    points = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [9.0, 9.0]])
    found = knn_indices(points, 1)
    np.testing.assert_array_equal(found[:, 0], [1, 0, 3, 2])
    with_self = knn_indices(points, 1, exclude_self=False)
    np.testing.assert_array_equal(with_self[:, 0], [0, 0, 2, 3])


def test_adjacency_is_zero_one_with_k_per_row_and_no_self():
    points = np.random.default_rng(5).normal(size=(80, 4))
    adjacency = knn_adjacency(points, 5, chunk_size=16)
    assert sp.isspmatrix_csr(adjacency) and adjacency.shape == (80, 80)
    assert adjacency.dtype == np.float32
    np.testing.assert_array_equal(np.diff(adjacency.indptr), 5)
    np.testing.assert_array_equal(adjacency.data, 1.0)
    assert adjacency.diagonal().sum() == 0
    dense = adjacency.toarray()
    expected = np.zeros((80, 80))
    np.put_along_axis(expected, brute_force_neighbours(points, 5), 1.0, axis=1)
    np.testing.assert_array_equal(dense, expected)


def test_symmetrize_averages_with_the_transpose():
    adjacency = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 1], [1, 0, 0]], dtype=np.float32))
    result = symmetrize(adjacency)
    expected = np.array([[0, 0.5, 1], [0.5, 0, 0.5], [1, 0.5, 0]])
    np.testing.assert_array_equal(result.toarray(), expected)
    assert result.dtype == np.float32
    assert symmetrize(adjacency.astype(np.float64)).dtype == np.float64
    with pytest.raises(ValueError, match="square"):
        symmetrize(sp.csr_matrix((2, 3)))


@pytest.mark.parametrize(("n_pool", "fraction", "expected"), [
    (4000, 0.01, 40), (57000, 0.01, 570), (150, 0.01, 2), (50, 0.01, 1), (10, 1.0, 9), (15000, 0.01, 150),
])
def test_neighbour_count(n_pool, fraction, expected):
    assert neighbour_count(n_pool, fraction) == expected


@pytest.mark.parametrize(("n_pool", "fraction"), [(1, 0.01), (100, 0.0), (100, 1.5), (100, float("nan"))])
def test_neighbour_count_rejects_bad_input(n_pool, fraction):
    with pytest.raises(ValueError):
        neighbour_count(n_pool, fraction)


def test_invalid_features_and_k_raise_clear_errors():
    points = np.zeros((5, 2))
    with pytest.raises(ValueError, match="between 1 and 4"):
        knn_adjacency(points, 5)
    with pytest.raises(ValueError, match="NaN"):
        knn_adjacency(np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), 1)
    with pytest.raises(ValueError, match="2-D"):
        knn_adjacency(np.zeros(5), 1)
    with pytest.raises(TypeError, match="integer"):
        knn_adjacency(points, 1.5)
    with pytest.raises(TypeError, match="numpy array"):
        knn_adjacency([[0.0, 1.0]], 1)


def test_pca_projection_keeps_low_rank_distances_and_recall():
    rng = np.random.default_rng(7)
    latent = rng.normal(size=(400, 6))
    points = latent @ rng.normal(size=(6, 50))  # rank 6 in 50 dimensions
    projected = pca_project(points, 6)
    assert projected.shape == (400, 6)
    np.testing.assert_allclose(((projected[:, None] - projected[None]) ** 2).sum(-1),
                               ((points[:, None] - points[None]) ** 2).sum(-1), rtol=1e-8, atol=1e-8)
    exact = knn_adjacency(points, 8)
    approximate = knn_adjacency(points, 8, approx_dim=6)
    rows = rng.choice(400, size=50, replace=False)
    assert knn_recall(points, exact, rows) == 1.0
    assert knn_recall(points, approximate, rows) > 0.99
    # a 1-D projection of 6-D data loses neighbours
    assert knn_recall(points, knn_adjacency(points, 8, approx_dim=1), rows) < 0.6


@pytest.mark.parametrize("fraction", [0.0, -0.01, 1.5, float("nan"), "a", True])
def test_knn_fraction_outside_zero_one_is_rejected_once_for_every_caller(fraction):
    with pytest.raises(ValueError, match=r"knn_fraction must be in \(0, 1\].*0.01"):
        check_knn_fraction(fraction)
    assert check_knn_fraction(1) == 1.0 and check_knn_fraction(0.01) == 0.01


def test_sum_symmetrized_equals_the_sum_of_symmetrised_graphs_block_by_block():
    import scipy.sparse as sp

    from diamlib.selection.knn import sum_symmetrized, symmetrize

    rng = np.random.default_rng(0)
    graphs = [knn_adjacency(rng.normal(size=(97, 5)).astype(np.float32), 6) for _ in range(4)]
    expected = sum(symmetrize(g) for g in graphs).tocsr()
    for row_blocks in (1, 5, 16, 200):
        total = sum_symmetrized(iter(graphs), 97, row_blocks=row_blocks)
        assert total.dtype == np.float32 and total.has_sorted_indices
        assert (total != total.T).nnz == 0
        assert abs(total - expected).max() == 0
    with pytest.raises(ValueError, match="at least one graph"):
        sum_symmetrized(iter([]), 97)
    with pytest.raises(ValueError, match="expected \\(97, 97\\)"):
        sum_symmetrized(iter([sp.eye(5, format="csr", dtype=np.float32)]), 97)
