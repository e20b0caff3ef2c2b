"""Small seeded evidence for strategy tests."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence


def build_evidence(
    task: str,
    *,
    n_pool: int = 40,
    n_labeled: int = 12,
    n_models: int = 3,
    n_classes: int = 4,
    n_snapshots: int = 4,
    flip_rate: float = 0.15,
    seed: int = 0,
) -> Evidence:
    """Random but seeded evidence: per-model features of different widths, probabilities,
    snapshot predictions (a base labelling with random flips) or regression outputs.
    Pool indices are scattered training-set indices, so that positions != indices."""
    rng = np.random.default_rng(seed)
    indices = rng.choice(10 * (n_pool + n_labeled), size=n_pool + n_labeled, replace=False)
    unlabeled = np.sort(indices[:n_pool]).astype(np.int64)
    base_labels = rng.integers(n_classes, size=n_pool)
    models = []
    for i in range(n_models):
        d = 3 + 2 * i
        pool = rng.normal(size=(n_pool, d)).astype(np.float32)
        labeled = rng.normal(size=(n_labeled, d)).astype(np.float32)
        if task == "classification":
            logits = rng.normal(size=(n_pool, n_classes)) * 2
            probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            snapshots = np.tile(base_labels, (n_snapshots, 1))
            flips = rng.random(snapshots.shape) < flip_rate
            snapshots[flips] = rng.integers(n_classes, size=int(flips.sum()))
            models.append(ModelEvidence(name=f"m{i}", pool_features=pool, labeled_features=labeled,
                                        pool_probs=probs.astype(np.float32),
                                        snapshot_predictions=snapshots.astype(np.int32), n_parameters=100 * (i + 1)))
        else:
            outputs = rng.normal(size=(n_pool, 2)).astype(np.float32)
            models.append(ModelEvidence(name=f"m{i}", pool_features=pool, labeled_features=labeled,
                                        pool_outputs=outputs, n_parameters=100 * (i + 1)))
    return Evidence(task=task, unlabeled_indices=unlabeled, models=tuple(models), feature_model=n_models - 1)


@pytest.fixture
def make_evidence():
    """Factory fixture: ``make_evidence(task, **overrides) -> Evidence``."""
    return build_evidence
