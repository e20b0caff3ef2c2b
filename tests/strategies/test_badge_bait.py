"""BADGE and BAIT against BM-DAL (bmdal_reg) as test oracle.

BM-DAL 3.0.2 still uses ``np.Inf``, which NumPy 2 removed; the tests restore the alias
while calling it. BAIT is deterministic and must pick the same indices in the same order.
BADGE draws at random with the global generators in BM-DAL, so the test replays our
choices through BM-DAL's k-means++ and compares the D^2 sampling distribution at every
step.
"""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.strategies.badge import kmeanspp_seeding, select_badge
from diamlib.strategies.bait import bait_forward_backward, select_bait
from diamlib.strategies.last_layer import last_layer_features, posterior_features
from diamlib.strategies.run import run_strategy

torch = pytest.importorskip("torch")
bmdal_algorithms = pytest.importorskip("bmdal_reg.bmdal.algorithms")
bmdal_selection = pytest.importorskip("bmdal_reg.bmdal.selection")
from bmdal_reg.bmdal.feature_data import TensorFeatureData  # noqa: E402

SIGMA = 0.1


@pytest.fixture
def numpy_inf_alias(monkeypatch):
    monkeypatch.setattr(np, "Inf", np.inf, raising=False)


def _bmdal_select(pool: np.ndarray, labeled: np.ndarray, budget: int, method: str, **config):
    """BM-DAL's ``<method>-p_ll_train`` on a linear head with bias over the given features."""
    data = {"train": TensorFeatureData(torch.as_tensor(last_layer_features(labeled, with_bias=True))),
            "pool": TensorFeatureData(torch.as_tensor(last_layer_features(pool, with_bias=True)))}
    indices, results = bmdal_algorithms.select_batch(
        budget, [torch.nn.Identity()], data, None, base_kernel="linear",
        kernel_transforms=[("train", [SIGMA, None])], selection_method=method, allow_float64=True,
        verbosity=0, **config)
    return indices.tolist(), results


def _data(seed: int, n_pool: int = 50, n_labeled: int = 8, d: int = 6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_pool, d)), rng.normal(size=(n_labeled, d))


def _evidence(pool: np.ndarray, labeled: np.ndarray) -> Evidence:
    model = ModelEvidence(name="supernet", pool_features=pool, labeled_features=labeled)
    return Evidence("regression", 7 + np.arange(pool.shape[0], dtype=np.int64), (model,))


# --------------------------------------------------------------------------- posterior kernel
def test_posterior_kernel_matches_the_gaussian_process_formula():
    pool, labeled = _data(0)
    pool_post, labeled_post = posterior_features(pool, labeled, sigma=SIGMA)
    phi_pool, phi_labeled = last_layer_features(pool, with_bias=True), last_layer_features(labeled, with_bias=True)
    scale = 1.0 / np.mean(np.sum(phi_labeled**2, axis=1))
    prior = scale * phi_pool @ phi_pool.T
    cross = scale * phi_pool @ phi_labeled.T
    gram = scale * phi_labeled @ phi_labeled.T
    expected = prior - cross @ np.linalg.solve(gram + SIGMA**2 * np.eye(len(labeled)), cross.T)
    np.testing.assert_allclose(pool_post @ pool_post.T, expected, atol=1e-10)
    assert labeled_post.shape == (8, 7)


def test_posterior_features_need_labels_and_positive_sigma():
    pool, labeled = _data(0)
    with pytest.raises(ValueError, match="sigma"):
        posterior_features(pool, labeled, sigma=0.0)
    with pytest.raises(ValueError, match="no labeled points"):
        posterior_features(pool, labeled[:0], sigma=SIGMA)


# --------------------------------------------------------------------------- BAIT
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("overselection", [1.0, 2.0])
def test_bait_picks_the_same_indices_as_bmdal(seed, overselection, numpy_inf_alias):
    pool, labeled = _data(seed)
    expected, results = _bmdal_select(pool, labeled, 10, "bait", overselection_factor=overselection,
                                      bait_sigma=SIGMA)
    assert results["selection_status"] is None
    selection = select_bait(_evidence(pool, labeled), budget=10, rng=np.random.default_rng(0),
                            overselection_factor=overselection)
    assert (selection.indices - 7).tolist() == expected
    assert selection.info["filled_at_random"] == 0 and selection.info["status"] is None


def test_bait_forward_step_maximises_the_trace_reduction():
    pool, labeled = _data(1, n_pool=12)
    pool_post, labeled_post = posterior_features(pool, labeled, sigma=SIGMA)
    weight = pool_post.T @ pool_post + labeled_post.T @ labeled_post
    gains = [np.trace(weight @ np.outer(p, p)) / (p @ p + SIGMA**2) for p in pool_post]
    first, _ = bait_forward_backward(pool_post, labeled_post, 1, sigma=SIGMA, overselection_factor=1.0)
    assert first == [int(np.argmax(gains))]


def test_bait_rejects_overselection_below_one():
    pool, labeled = _data(0)
    with pytest.raises(ValueError, match="overselection_factor"):
        run_strategy("bait", _evidence(pool, labeled), budget=2, rng=np.random.default_rng(0), overselection_factor=0.5)


# --------------------------------------------------------------------------- BADGE
class _ReplayRng:
    """Stands in for a Generator: replays a fixed sequence and records the D^2 distributions."""

    def __init__(self, sequence):
        self.sequence, self.distributions = list(sequence), []

    def integers(self, n):
        return self.sequence[0]

    def choice(self, n, p):
        self.distributions.append(np.asarray(p))
        return self.sequence[len(self.distributions)]


@pytest.mark.parametrize("seed", range(3))
def test_badge_samples_from_the_same_d2_distribution_as_bmdal(seed, numpy_inf_alias, monkeypatch):
    pool, labeled = _data(seed, n_pool=40)
    pool_post, _ = posterior_features(pool, labeled, sigma=SIGMA)
    sequence = kmeanspp_seeding(pool_post, 8, np.random.default_rng(seed))
    ours = _ReplayRng(sequence)
    assert kmeanspp_seeding(pool_post, 8, ours) == sequence

    theirs = []

    def replay(self):
        if self.n_added == 0:
            return sequence[0]
        weights = torch.clamp(self.min_sq_dists, min=0.0).numpy().copy()
        theirs.append(weights / weights.sum())
        return sequence[len(theirs)]

    monkeypatch.setattr(bmdal_selection.KmeansppSelectionMethod, "get_next_idx", replay)
    picked, _ = _bmdal_select(pool, labeled, 8, "kmeanspp", sel_with_train=False)
    assert picked == sequence
    assert len(theirs) == len(ours.distributions) == 7
    for mine, reference in zip(ours.distributions, theirs):
        np.testing.assert_allclose(mine, reference, atol=1e-9)


def test_badge_first_pick_is_uniform_and_later_picks_avoid_chosen_points():
    pool, labeled = _data(4, n_pool=30)
    evidence = _evidence(pool, labeled)
    firsts = [select_badge(evidence, budget=3, rng=np.random.default_rng(s)).indices[0] for s in range(60)]
    assert len(set(firsts)) > 15
    pool_post, _ = posterior_features(pool, labeled, sigma=SIGMA)
    recorder = _ReplayRng([0, 1, 2])
    kmeanspp_seeding(pool_post, 3, recorder)
    assert recorder.distributions[0][0] == 0 and recorder.distributions[1][[0, 1]].tolist() == [0, 0]


def test_badge_and_bait_use_the_feature_model():
    pool, labeled = _data(5)
    other = ModelEvidence(name="tiny", pool_features=np.zeros((50, 2)), labeled_features=np.zeros((8, 2)))
    chosen = ModelEvidence(name="supernet", pool_features=pool, labeled_features=labeled)
    evidence = Evidence("regression", np.arange(50, dtype=np.int64), (other, chosen), feature_model=1)
    assert select_badge(evidence, budget=2, rng=np.random.default_rng(0)).info["feature_model"] == "supernet"
    assert select_bait(evidence, budget=2, rng=np.random.default_rng(0)).info["feature_model"] == "supernet"
