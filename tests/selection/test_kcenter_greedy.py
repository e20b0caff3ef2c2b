"""k-center greedy (Coreset) against a dense brute-force implementation."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.selection.kcenter import kcenter_greedy


def dense_kcenter(pool: np.ndarray, labeled: np.ndarray, budget: int) -> tuple[np.ndarray, float]:
    """Reference: full distance matrices from differences, argmax with lowest-index ties."""
    between = np.sqrt(((pool[:, None, :] - pool[None, :, :]) ** 2).sum(-1))
    if labeled.shape[0]:
        nearest = np.sqrt(((pool[:, None, :] - labeled[None, :, :]) ** 2).sum(-1)).min(axis=1)
        first = None
    else:
        nearest = np.full(pool.shape[0], np.inf)
        first = int(np.argmin(((pool - pool.mean(axis=0)) ** 2).sum(axis=1)))
    chosen: list[int] = []
    for step in range(budget):
        candidates = nearest.copy()
        candidates[chosen] = -np.inf
        pick = first if step == 0 and first is not None else int(np.argmax(candidates))
        chosen.append(pick)
        nearest = np.minimum(nearest, between[pick])
    nearest[chosen] = 0.0
    return np.array(chosen), float(nearest.max())


@pytest.mark.parametrize("seed", range(12))
def test_matches_dense_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 250)), int(rng.integers(1, 8))
    centres = rng.normal(scale=6.0, size=(5, d))
    pool = centres[rng.integers(0, 5, size=n)] + rng.normal(size=(n, d))
    labeled = rng.normal(scale=3.0, size=(int(rng.integers(0, 15)), d))
    budget = int(rng.integers(1, n + 1))
    positions, radius = kcenter_greedy(pool, labeled, budget, chunk_size=int(rng.integers(1, 64)))
    expected_positions, expected_radius = dense_kcenter(pool, labeled, budget)
    np.testing.assert_array_equal(positions, expected_positions)
    assert radius == pytest.approx(expected_radius, rel=1e-9, abs=1e-12)


def test_first_pick_is_the_point_farthest_from_the_labeled_set():
    pool = np.array([[1.0, 0.0], [10.0, 0.0], [3.0, 0.0], [-4.0, 0.0]])
    labeled = np.array([[0.0, 0.0], [2.0, 0.0]])
    positions, radius = kcenter_greedy(pool, labeled, 1)
    assert positions[0] == 1
    assert radius == pytest.approx(4.0)  # [-4, 0] is then 4 away from the centre at 0
    positions, radius = kcenter_greedy(pool, labeled, 2)
    np.testing.assert_array_equal(positions, [1, 3])
    assert radius == pytest.approx(1.0)


def test_empty_labeled_set_starts_closest_to_the_mean():
    pool = np.array([[0.0], [1.0], [2.1], [9.0]])  # mean 3.025: closest point is 2.1
    positions, radius = kcenter_greedy(pool, np.empty((0, 1)), 2)
    np.testing.assert_array_equal(positions, [2, 3])
    assert radius == pytest.approx(2.1)


def test_ties_go_to_the_lowest_position_and_duplicates_are_never_repicked():
    pool = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    labeled = np.zeros((1, 2))
    positions, _ = kcenter_greedy(pool, labeled, 5)
    assert positions[0] == 0
    assert sorted(positions.tolist()) == [0, 1, 2, 3, 4]
    positions, radius = kcenter_greedy(pool, labeled, 5)
    assert radius == 0.0


def test_float32_input_gives_the_same_selection():
    rng = np.random.default_rng(21)
    pool = rng.normal(size=(300, 16))
    labeled = rng.normal(size=(20, 16))
    positions64, radius64 = kcenter_greedy(pool, labeled, 30)
    positions32, radius32 = kcenter_greedy(pool.astype(np.float32), labeled.astype(np.float32), 30)
    np.testing.assert_array_equal(positions32, positions64)
    assert radius32 == pytest.approx(radius64, rel=1e-5)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    pool, labeled = rng.normal(size=(50, 3)), rng.normal(size=(5, 3))
    pool_copy, labeled_copy = pool.copy(), labeled.copy()
    kcenter_greedy(pool, labeled, 10)
    np.testing.assert_array_equal(pool, pool_copy)
    np.testing.assert_array_equal(labeled, labeled_copy)


def test_invalid_inputs_raise_clear_errors():
    pool = np.zeros((4, 2))
    with pytest.raises(ValueError, match="between 1 and the pool size 4"):
        kcenter_greedy(pool, np.zeros((1, 2)), 5)
    with pytest.raises(ValueError, match="between 1 and"):
        kcenter_greedy(pool, np.zeros((1, 2)), 0)
    with pytest.raises(ValueError, match="same model"):
        kcenter_greedy(pool, np.zeros((1, 3)), 1)
    with pytest.raises(ValueError, match="NaN"):
        kcenter_greedy(np.array([[np.nan, 0.0]]), np.zeros((0, 2)), 1)
    with pytest.raises(ValueError, match="2-D"):
        kcenter_greedy(np.zeros(4), np.zeros((0, 1)), 1)
    with pytest.raises(TypeError, match="integer"):
        kcenter_greedy(pool, np.zeros((1, 2)), 1.0)
