"""Evidence files from real models: SGD classifiers on scikit-learn's digits."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier

from diamlib.userfiles.evidence_files import save_model_evidence

N_POOL = 300
N_LABELED = 60


def digits_model_arrays(n_models: int = 3, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Per-model evidence arrays of ``n_models`` linear classifiers trained on 60 labeled digits.

    Each model sees another random projection of the pixels (its "penultimate features");
    its snapshot predictions are those after epochs 3..6 of SGD, its probabilities the final ones.
    """
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    labeled, pool = order[:N_LABELED], order[N_LABELED:N_LABELED + N_POOL]
    x = digits.data / 16.0
    models = []
    for i in range(n_models):
        projection = rng.normal(size=(64, 8 + 4 * i))
        features = np.tanh(x @ projection / 4.0)
        classifier = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=i)
        snapshots = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(6):
                classifier.partial_fit(features[labeled], digits.target[labeled], classes=np.arange(10))
                if epoch >= 2:
                    snapshots.append(classifier.predict(features[pool]))
        models.append({"snapshot_predictions": np.stack(snapshots).astype(np.int64),
                       "pool_probs": classifier.predict_proba(features[pool]),
                       "pool_features": features[pool].astype(np.float32),
                       "labeled_features": features[labeled].astype(np.float32),
                       "pool_ids": np.array([f"digit-{j:04d}" for j in pool]),
                       "n_parameters": np.array(classifier.coef_.size + classifier.intercept_.size)})
    return models


@pytest.fixture(scope="session")
def model_arrays() -> list[dict[str, np.ndarray]]:
    return digits_model_arrays()


@pytest.fixture
def evidence_paths(tmp_path: Path, model_arrays) -> list[Path]:
    """Three evidence files written with :func:`save_model_evidence`."""
    return [save_model_evidence(tmp_path / f"model{i}.npz", **arrays) for i, arrays in enumerate(model_arrays)]
