"""The shared greedy loop and the pinned picks of its selectors: k-center (Coreset), k-means++ (BADGE), BAIT.

The expected positions were recorded from the hand-written loops that preceded the shared
greedy loop; the shared loop must reproduce them exactly (same picks, same order, same
random draws for the D^2 sampling).
"""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.selection.greedy import greedy_select
from diamlib.selection.kcenter import KCenterSelector, kcenter_greedy
from diamlib.strategies.badge import kmeanspp_seeding
from diamlib.strategies.bait import bait_forward_backward
from diamlib.strategies.last_layer import posterior_features


def _points(seed: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(80, 5)).astype(dtype), rng.normal(size=(6, 5)).astype(dtype)


KCENTER = {
    0: [47, 54, 43, 72, 56, 79, 27, 9, 21, 2, 38, 57],
    1: [24, 31, 38, 74, 54, 41, 48, 19, 4, 36, 16, 6],
    2: [44, 46, 69, 29, 21, 73, 32, 78, 5, 11, 56, 63],
}
KCENTER_NO_LABELS = {
    0: [61, 60, 47, 13, 9, 54, 46, 70, 56, 43, 49, 35],
    1: [60, 54, 24, 74, 40, 4, 31, 38, 41, 59, 36, 39],
    2: [72, 46, 5, 21, 13, 73, 56, 44, 69, 43, 11, 0],
}
KMEANSPP = {
    0: [62, 16, 68, 12, 42, 10, 54, 67, 34, 75, 63, 27],
    1: [10, 39, 46, 4, 14, 75, 7, 17, 76, 52, 31, 41],
    2: [49, 76, 14, 13, 29, 20, 53, 6, 70, 67, 0, 46],
}
BAIT = {  # (budget 10, factor 2), (budget 10, factor 1), (budget 7, factor 3)
    0: ([43, 47, 54, 49, 51, 60, 2, 38, 70, 13], [43, 47, 54, 49, 72, 40, 51, 46, 9, 42],
        [43, 47, 54, 49, 51, 70, 13]),
    1: ([31, 70, 24, 74, 40, 19, 36, 52, 41, 38], [31, 67, 70, 24, 74, 40, 19, 36, 52, 41],
        [31, 24, 74, 40, 36, 41, 38]),
    2: ([73, 21, 5, 46, 63, 43, 44, 13, 58, 29], [73, 21, 5, 46, 9, 63, 43, 44, 35, 13],
        [73, 21, 5, 46, 44, 13, 29]),
}


@pytest.mark.parametrize("seed", sorted(KCENTER))
def test_kcenter_picks_are_pinned(seed):
    pool, labeled = _points(seed)
    assert kcenter_greedy(pool, labeled, 12)[0].tolist() == KCENTER[seed]
    assert kcenter_greedy(pool, labeled[:0], 12)[0].tolist() == KCENTER_NO_LABELS[seed]
    pool32, labeled32 = _points(seed, np.float32)
    assert kcenter_greedy(pool32, labeled32, 12, chunk_size=7)[0].tolist() == KCENTER[seed]


def test_kcenter_ties_and_pruned_large_pool_are_pinned():
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=np.float64)
    positions, radius = kcenter_greedy(grid, grid[:1], 10)
    assert positions.tolist() == [35, 5, 30, 14, 22, 2, 12, 26, 7, 9] and radius == pytest.approx(np.sqrt(2))
    assert kcenter_greedy(grid, grid[:0], 10)[0].tolist() == [14, 35, 5, 30, 0, 22, 2, 12, 26, 7]
    rng = np.random.default_rng(7)
    pool, labeled = rng.normal(size=(3000, 8)), rng.normal(size=(20, 8))
    assert kcenter_greedy(pool, labeled, 15, chunk_size=512)[0].tolist() == [
        1825, 2978, 2949, 1230, 836, 1319, 1590, 1444, 1236, 2352, 2843, 2274, 1649, 1160, 2626]


@pytest.mark.parametrize("seed", sorted(KMEANSPP))
def test_kmeanspp_picks_are_pinned(seed):
    pool, _ = _points(seed)
    assert kmeanspp_seeding(pool, 12, np.random.default_rng(seed + 10)) == KMEANSPP[seed]


def test_kmeanspp_stops_when_every_row_is_chosen_or_a_duplicate():
    rows = np.repeat(np.random.default_rng(7).normal(size=(3, 4)), 4, axis=0)
    assert kmeanspp_seeding(rows, 6, np.random.default_rng(3)) == [9, 1, 7]


@pytest.mark.parametrize("seed", sorted(BAIT))
def test_bait_picks_are_pinned(seed):
    pool, labeled = _points(seed)
    pool_post, labeled_post = posterior_features(pool, labeled, sigma=0.1, with_bias=True)
    forward_backward, forward_only, factor_three = BAIT[seed]
    def bait(budget, factor):
        return bait_forward_backward(pool_post, labeled_post, budget, sigma=0.1, overselection_factor=factor)

    assert bait(10, 2.0) == (forward_backward, None)
    assert bait(10, 1.0) == (forward_only, None)
    assert bait(7, 3.0) == (factor_three, None)


def test_bait_stops_when_no_positive_score_is_left():
    rng = np.random.default_rng(7)
    pool = np.zeros((6, 4))
    pool[:2] = rng.normal(size=(2, 4))
    pool_post, labeled_post = posterior_features(pool, rng.normal(size=(5, 4)), sigma=0.1, with_bias=False)
    assert bait_forward_backward(pool_post, labeled_post, 4, sigma=0.1) == (
        [1, 0], "forward pass stopped after 2 points: no positive score left")


class _Countdown:
    """Picks n-1, n-2, ... and has nothing left after ``stop`` picks."""

    def __init__(self, n: int, stop: int):
        self.n, self.stop = n, stop

    def prepare(self) -> None:
        self.picked: list[int] = []

    def get_scores(self) -> np.ndarray:
        scores = np.arange(self.n, dtype=float)
        scores[self.picked] = -np.inf
        return scores

    def get_next_idx(self) -> int | None:
        return None if len(self.picked) == self.stop else int(np.argmax(self.get_scores()))

    def add(self, idx: int) -> None:
        self.picked.append(idx)


def test_greedy_loop_stops_at_the_budget_or_when_nothing_is_left():
    assert greedy_select(_Countdown(5, stop=4), 3) == [4, 3, 2]
    assert greedy_select(_Countdown(5, stop=2), 3) == [4, 3]
    assert greedy_select(_Countdown(5, stop=2), 0) == []


def test_kcenter_scores_are_the_distances_to_the_nearest_center():
    pool, labeled = _points(0)
    selector = KCenterSelector(pool, labeled, chunk_size=16)
    picks = greedy_select(selector, 5)
    centers = np.vstack([labeled, pool[picks]])
    brute = ((pool[:, None, :] - centers[None]) ** 2).sum(axis=2).min(axis=1)
    scores = selector.get_scores()
    assert np.isneginf(scores[picks]).all()
    others = np.setdiff1d(np.arange(len(pool)), picks)
    np.testing.assert_allclose(scores[others], brute[others], rtol=1e-9, atol=1e-12)
    assert selector.covering_radius() == pytest.approx(np.sqrt(brute.max()))
