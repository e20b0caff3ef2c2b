"""``feature_model: supernet``: single-model strategies read a frozen supernet's features."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import diamlib.experiment.loop as loop
import diamlib.zoo.pretrained as pretrained
import diamlib.zoo.supernet_features as supernet_module
from diamlib.config import ConfigError
from diamlib.evidence import Evidence, ModelEvidence, restrict_evidence
from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import load_task_data, profile_from_dict
from diamlib.strategies.coreset import select_coreset
from diamlib.zoo.supernet_features import SUPERNET_FEATURE_NAME

FAKE_DIM = 5


class FakeSupernet(nn.Module):
    """A tiny frozen feature extractor standing in for the ImageNet supernet: (n, 3, r, r) -> (n, 5)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(123)
        self.features = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, FAKE_DIM))

    def forward(self, x):
        return self.features(x)


def _profile(strategies, feature_model_setting="supernet"):
    return profile_from_dict({
        "name": "supernettest", "seeds": [0], "threads": 1, "progress": False, "execution": {"workers": 1},
        "classification": {
            "datasets": ["digits"], "train_size": 240, "test_size": 80, "zoo": "smoke3",
            "initial_labels": 30, "query_size": 20, "rounds": 1, "strategies": list(strategies),
            "feature_model": feature_model_setting, "training": {"epochs": 2, "batch_size": 16, "lr": 0.05},
        },
    })


@pytest.fixture
def fake_supernet(monkeypatch):
    """The supernet loader and weights check replaced by a small fake; counts the loads."""
    loads = []

    def load():
        loads.append(1)
        return FakeSupernet().eval()

    monkeypatch.setattr(supernet_module, "load_feature_supernet", load)
    monkeypatch.setattr(supernet_module, "check_supernet_weights", lambda: None)
    return loads


def test_coreset_uses_the_supernet_features_and_diam_does_not(tmp_path, user_zoo, fake_supernet, monkeypatch):
    seen = []
    real = loop.with_supernet_features

    def spy(ctx, evidence, labeled):
        out = real(ctx, evidence, labeled)
        seen.append(out)
        return out

    monkeypatch.setattr(loop, "with_supernet_features", spy)
    coreset, diam = run_task(_profile(["coreset", "diam"]), "classification", tmp_path / "s", zoo=user_zoo)
    assert len(seen) == 1, "only coreset's selection reads the supernet"
    source = seen[0].feature_source
    assert source.name == SUPERNET_FEATURE_NAME
    assert source.pool_features.shape == (seen[0].n_pool, FAKE_DIM)
    assert source.labeled_features.shape == (30, FAKE_DIM)
    assert len(fake_supernet) == 1, "features computed once for the training set"

    coreset_meta = json.loads((coreset / "run.json").read_text())
    assert coreset_meta["feature_model"]["setting"] == "supernet"
    assert coreset_meta["feature_model"]["read_by_strategy"] is True
    assert "supernet" in coreset_meta["feature_model"]["description"]
    assert coreset_meta["rounds"][0]["selection_info"]["feature_model"] == SUPERNET_FEATURE_NAME
    assert json.loads((diam / "run.json").read_text())["feature_model"]["read_by_strategy"] is False

    # DIAM selects exactly what it selects with the default feature model
    reference = run_task(_profile(["diam"], "largest"), "classification", tmp_path / "l", zoo=user_zoo)[0]
    pd.testing.assert_frame_equal(pd.read_csv(diam / "queries.csv"), pd.read_csv(reference / "queries.csv"))


def test_coreset_selection_is_k_center_on_the_supernet_features(tmp_path, user_zoo, fake_supernet):
    folder = run_task(_profile(["coreset"]), "classification", tmp_path, zoo=user_zoo)[0]
    queries = pd.read_csv(folder / "queries.csv")
    labeled = np.sort(queries.query("round == 0")["index"].to_numpy())
    train, _ = load_task_data(_profile(["coreset"]).classification, "classification", "digits")
    features = supernet_module.supernet_features(train.images, user_zoo[0].resolution)
    pool = np.setdiff1d(np.arange(train.n), labeled)
    source = ModelEvidence("fake", pool_features=features[pool], labeled_features=features[labeled])
    evidence = Evidence("classification", pool, (ModelEvidence("unused"),), feature_source=source)
    expected = select_coreset(evidence, budget=20, rng=np.random.default_rng(0)).indices
    assert set(queries.query("round == 1")["index"]) == set(expected.tolist())


def test_feature_source_survives_restriction_and_is_what_strategies_read():
    pool = np.arange(4, dtype=np.int64)
    target = ModelEvidence("target", pool_features=np.zeros((4, 2)), labeled_features=np.zeros((1, 2)),
                           pool_probs=np.full((4, 2), 0.5))
    source = ModelEvidence("supernet", pool_features=np.eye(4, 3), labeled_features=np.ones((1, 3)))
    evidence = restrict_evidence(Evidence("classification", pool, (target,), feature_source=source),
                                 {"pool_features", "labeled_features"})
    assert evidence.feature_evidence() is evidence.feature_source
    assert evidence.feature_source.pool_features.shape == (4, 3)
    assert evidence.models[0].pool_probs is None


def test_offline_supernet_fails_before_training_naming_the_file(tmp_path, user_zoo, monkeypatch):
    net_id = pretrained.pretrained_net_id(1.0)
    monkeypatch.setattr(pretrained, "weights_candidates", lambda nid, weights_dir=None: [tmp_path / "cache" / nid])

    def no_network(url, destination, timeout):
        raise OSError("network is unreachable")

    monkeypatch.setattr(pretrained, "_download", no_network)
    trained = []
    monkeypatch.setattr(loop, "train_round", lambda *a, **k: trained.append(1))
    with pytest.raises(ConfigError) as error:
        run_task(_profile(["random", "coreset"]), "classification", tmp_path / "results", zoo=user_zoo)
    message = str(error.value)
    assert "classification.feature_model: supernet (used by coreset)" in message
    assert net_id in message and str(tmp_path / "cache" / net_id) in message
    assert "network is unreachable" in message and "largest" in message
    assert not trained and not (tmp_path / "results").exists()


def test_supernet_is_not_fetched_when_no_strategy_reads_it(tmp_path, user_zoo, monkeypatch):
    def fail():
        raise AssertionError("weights fetched although no listed strategy reads the feature model")

    monkeypatch.setattr(supernet_module, "check_supernet_weights", fail)
    folder = run_task(_profile(["random"]), "classification", tmp_path, zoo=user_zoo)[0]
    assert json.loads((folder / "run.json").read_text())["feature_model"]["read_by_strategy"] is False
