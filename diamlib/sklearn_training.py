"""Fitting one scikit-learn target model for one active-learning round, and reading off its evidence.

The counterpart of :func:`diamlib.training.train_model_round` for flat-input learners
(:mod:`diamlib.zoo.sklearn_models`): same inputs (:class:`~diamlib.training.RoundData`, with
feature matrices instead of images), same outputs (:class:`~diamlib.training.ModelRoundResult`),
so the loop, the round-0 cache and the strategies treat both kinds of model alike.

References
----------
Algorithm 2, lines 3-4 (train each target model, record its soft version space); Sec. 5.2.
"""
from __future__ import annotations

import time
from typing import Collection

import numpy as np
from threadpoolctl import threadpool_limits

from diamlib.evidence import ModelEvidence
from diamlib.training import ModelRoundResult, RoundData, evaluation_metrics, requested_evidence
from diamlib.zoo.sklearn_models import SklearnLearner

__all__ = ["train_sklearn_round", "sklearn_random_state"]


def sklearn_random_state(seed_int: int) -> int:
    """A 63-bit child seed (:func:`diamlib.seeding.child_int_seed`) as scikit-learn's 32-bit ``random_state``."""
    return int(seed_int) % 2**32


def train_sklearn_round(learner: SklearnLearner, data: RoundData, *, name: str, n_outputs: int, random_state: int,
                        evidence: Collection[str] | None = None) -> ModelRoundResult:
    """Fit ``learner`` on the labeled set; return test metrics, the requested evidence and timings.

    Parameters
    ----------
    learner : SklearnLearner
    data : RoundData
        ``train_inputs`` (n_train, d) and ``test_inputs`` (n_test, d) are feature matrices
        (:func:`diamlib.data.flat.pca_inputs`).
    name : str
        The model's name in the zoo.
    n_outputs : int
        Classes (classification) or outputs (regression) of the task.
    random_state : int
        Seeds every draw of the round (initialisation, shuffling, bootstrap, projection).
    evidence : collection of str, optional
        The evidence fields to compute (default: all that apply to the task).

    Returns
    -------
    ModelRoundResult
        ``snapshot_predictions`` (n_snapshots, n_pool) int32 for classification, ``pool_probs``
        (n_pool, n_outputs) over all classes, ``pool_outputs`` (n_pool, n_outputs) for
        regression, features (n, feature_dim) float32.

    Raises
    ------
    ValueError
        A classification labeled set with a single class (no classifier can be fitted; raise
        ``initial_labels``), or a learner fitted to the wrong task.

    References
    ----------
    Algorithm 2, lines 3-4; Sec. 5.2 (soft version space and features).
    """
    wanted = requested_evidence(evidence)
    classify = data.task == "classification"
    x, y = data.train_inputs[data.labeled], data.train_targets[data.labeled]
    if classify and len(np.unique(y)) < 2:
        raise ValueError(f"{name}: the labeled set holds a single class ({y[0]}), and a classifier needs two; "
                         f"raise initial_labels")
    pool_x = data.train_inputs[data.pool]
    want_snapshots = classify and "snapshot_predictions" in wanted
    with threadpool_limits(limits=1):  # one thread, as every worker of the grid
        start = time.perf_counter()
        fitted = learner.fit(x, y, task=data.task, n_classes=n_outputs, random_state=random_state,
                             pool_x=pool_x if want_snapshots else None)
        seconds_training = time.perf_counter() - start - fitted.seconds_version_space

        start = time.perf_counter()
        arrays: dict[str, np.ndarray | None] = {}
        if want_snapshots:
            arrays["snapshot_predictions"] = np.stack(fitted.snapshots).astype(np.int32)
        if classify and "pool_probs" in wanted:
            arrays["pool_probs"] = learner.class_probabilities(fitted.estimator, pool_x, n_outputs)
        if not classify and "pool_outputs" in wanted:
            arrays["pool_outputs"] = _as_outputs(fitted.estimator.predict(pool_x))
        if "pool_features" in wanted:
            arrays["pool_features"] = learner.features(fitted, pool_x)
        if "labeled_features" in wanted:
            arrays["labeled_features"] = learner.features(fitted, x)
        seconds_evidence = time.perf_counter() - start + fitted.seconds_version_space

        test_outputs = (learner.class_probabilities(fitted.estimator, data.test_inputs, n_outputs) if classify
                        else _as_outputs(fitted.estimator.predict(data.test_inputs)))
    metrics = evaluation_metrics(data.task, test_outputs, data.test_targets)
    model_evidence = ModelEvidence(name=name, n_parameters=learner.n_parameters(fitted.estimator), **arrays)
    return ModelRoundResult(metrics=metrics, evidence=model_evidence, seconds_training=seconds_training,
                            seconds_evidence=seconds_evidence)


def _as_outputs(predictions: np.ndarray) -> np.ndarray:
    """Regression predictions as (n, n_outputs) float32 (single-output models give (n,))."""
    predictions = np.asarray(predictions, dtype=np.float32)
    return predictions[:, None] if predictions.ndim == 1 else predictions
