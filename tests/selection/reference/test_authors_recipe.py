"""The authors' DIAM recipe (diamlib.selection.reference.authors) on hand-checked examples."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.selection.reference.authors import (
    authors_neighbour_count,
    authors_q_coefficient,
    authors_selection,
    authors_subsample,
    clip_to_psd,
)


def test_beta_conversion_subsample_and_neighbour_count():
    assert authors_q_coefficient(-1.0) == 0.5 and authors_q_coefficient(-0.1) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="beta must be negative"):
        authors_q_coefficient(0.2)
    votes = np.array([0, 3, 1, 3, 2, 0, 0, 0, 1, 2])
    np.testing.assert_array_equal(authors_subsample(votes, 1), [1, 3])  # n // 5 = 2, ties by position
    np.testing.assert_array_equal(authors_subsample(votes, 3), [1, 3, 4])  # never fewer than tau
    assert authors_subsample(np.zeros(100_000), 10).size == 15_000
    assert authors_neighbour_count(200) == 2 and authors_neighbour_count(99) == 1 and authors_neighbour_count(3) == 1


def test_clip_to_psd_sets_negative_eigenvalues_to_zero():
    np.testing.assert_allclose(clip_to_psd(np.array([[0.0, 1.0], [1.0, 0.0]])), 0.5 * np.ones((2, 2)), atol=1e-12)
    psd = np.array([[2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(clip_to_psd(psd), psd, atol=1e-12)


def _twin_pairs():
    """1,000 points; the 200 with v >= 2 form 100 twin pairs (each point's nearest other point is its twin).

    Pairs 0 and 1 have votes (3, 2), the other 98 pairs (2, 2); every other point has v <= 1.
    """
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(size=(800, 2)) * 3 + 2000.0,
                          np.array([[10.0 * (p // 2), 0.1 * (p % 2)] for p in range(200)])])
    votes = np.concatenate([rng.integers(0, 2, 800), np.full(200, 2)])
    informative = 800 + np.array([0, 2])  # the first twin of pairs 0 and 1
    votes[informative] = 3
    return features, votes.astype(float), informative


def test_authors_recipe_on_twin_pairs_matches_the_hand_solution():
    # Subsample m = 1000 // 5 = 200 (exactly the points with v >= 2), k = int(0.01 * 200) = 2: self and twin.
    # P = I + twin matrix (PSD, clipping changes nothing); the QP's objective depends on the pair sums t_p:
    #   sum_p 1/2 t_p^2 - q (3 t_high + 2 t_other),   sum_p t_p = tau = 2,   q = -beta / 2.
    # KKT: t_high = t_other + q, 2 t_high + 98 t_other = 2, so t_other = (2 - 2q) / 100 when q <= 1, and
    # within a high pair all of t_high goes to the twin with v = 3.
    features, votes, informative = _twin_pairs()
    for beta, q in ((-1.0, 0.5), (-10.0, 5.0)):
        result = authors_selection([features], votes, tau=2, beta=beta)
        assert result.subsample.size == 200 and result.k == 2 and result.converged
        assert set(result.positions.tolist()) == set(informative.tolist())
        t_other = max(0.0, (2.0 - 2.0 * q) / 100.0)
        t_high = min(1.0, t_other + q)
        np.testing.assert_allclose(result.b[informative], t_high, atol=2e-4)
        np.testing.assert_allclose(result.b[informative + 1], 0.0, atol=2e-4)
        np.testing.assert_allclose(result.b[900:1000], t_other / 2, atol=2e-4)
        np.testing.assert_array_equal(result.b[:800], 0.0)


def test_authors_recipe_rejects_bad_input():
    features, votes, _ = _twin_pairs()
    with pytest.raises(ValueError, match="beta must be negative"):
        authors_selection([features], votes, tau=2, beta=1.0)
    with pytest.raises(ValueError, match=r"features\[0\] must have shape"):
        authors_selection([features[:10]], votes, tau=2, beta=-1.0)
    with pytest.raises(ValueError, match="one \\(n, d\\) array per target model"):
        authors_selection([], votes, tau=2, beta=-1.0)
