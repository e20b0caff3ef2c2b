"""Fitting one scikit-learn target model for one active-learning round, and reading off its evidence.

The counterpart of :func:`diamlib.training.networks.train_model_round` for flat-input learners
(:mod:`diamlib.zoo.sklearn_models`): same inputs (:class:`~diamlib.training.networks.RoundData`,
with feature matrices instead of images), same outputs
(:class:`~diamlib.training.networks.ModelRoundResult`),
so the loop, the round-0 cache and the strategies treat both kinds of model alike.
:func:`learner_evidence` and :func:`learner_accuracy` fit the same way outside the loop, from
arrays (any estimator: :class:`~diamlib.zoo.sklearn_models.EstimatorLearner`).

References
----------
Algorithm 2, lines 3-4 (train each target model, record its soft version space); Sec. 5.2.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Collection, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from diamlib.evidence import Evidence, ModelEvidence
from diamlib.seeding import child_int_seed
from diamlib.training.round_result import ModelRoundResult, RoundData, evaluation_metrics, requested_evidence
from diamlib.zoo.sklearn_models import FittedLearner, SklearnLearner, as_learner, as_learners

__all__ = ["train_sklearn_round", "sklearn_random_state", "fit_sklearn_evidence", "SklearnEvidenceFit",
           "learner_evidence", "learner_accuracy"]


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
    classify = data.task == "classification"
    x, y = data.train_inputs[data.labeled], data.train_targets[data.labeled]
    with threadpool_limits(limits=1):  # one thread, as every worker of the grid
        fit = fit_sklearn_evidence(learner, x, y, data.train_inputs[data.pool], name=name, task=data.task,
                                   n_outputs=n_outputs, random_state=random_state, evidence=evidence)
        test_outputs = (learner.class_probabilities(fit.fitted.estimator, data.test_inputs, n_outputs) if classify
                        else _as_outputs(fit.fitted.estimator.predict(data.test_inputs)))
    metrics = evaluation_metrics(data.task, test_outputs, data.test_targets)
    return ModelRoundResult(metrics=metrics, evidence=fit.evidence, seconds_training=fit.seconds_training,
                            seconds_evidence=fit.seconds_evidence,
                            test_predictions=test_outputs.argmax(axis=1).astype(np.int32) if classify else None)


@dataclass(frozen=True)
class SklearnEvidenceFit:
    """One learner fitted on a labeled set, with its evidence on a pool and the timings (s)."""

    fitted: FittedLearner
    evidence: ModelEvidence
    seconds_training: float
    seconds_evidence: float


def fit_sklearn_evidence(learner: SklearnLearner, x: np.ndarray, y: np.ndarray, pool_x: np.ndarray, *, name: str,
                         task: str, n_outputs: int, random_state: int,
                         evidence: Collection[str] | None = None) -> SklearnEvidenceFit:
    """Fit ``learner`` on (x, y) and compute its evidence on ``pool_x``.

    Parameters
    ----------
    learner : SklearnLearner
    x : ndarray, shape (n_labeled, d)
    y : ndarray, shape (n_labeled,) int class labels, or (n_labeled, n_outputs) regression targets
    pool_x : ndarray, shape (n_pool, d)
    name : str
        The model's name (in the evidence and in error messages).
    task : {"classification", "regression"}
    n_outputs : int
        Classes (classification) or outputs (regression).
    random_state : int
        Seeds every draw (initialisation, shuffling, bootstrap, projection).
    evidence : collection of str, optional
        Evidence fields to compute (default: all that apply to the task).

    Returns
    -------
    SklearnEvidenceFit
        ``evidence.snapshot_predictions`` (n_snapshots, n_pool) int32 and ``pool_probs``
        (n_pool, n_outputs) for classification, ``pool_outputs`` (n_pool, n_outputs) for
        regression, features (n, feature_dim) float32.

    Raises
    ------
    ValueError
        A classification labeled set with a single class (raise ``initial_labels``), or a
        learner that cannot learn ``task``.

    References
    ----------
    Algorithm 2, lines 3-4; Sec. 5.2 (soft version space and features).
    """
    wanted = requested_evidence(evidence)
    classify = task == "classification"
    if classify and len(np.unique(y)) < 2:
        raise ValueError(f"{name}: the labeled set holds a single class ({y[0]}), and a classifier needs two; "
                         f"raise initial_labels")
    want_snapshots = classify and "snapshot_predictions" in wanted
    start = time.perf_counter()
    fitted = learner.fit(x, y, task=task, n_classes=n_outputs, random_state=random_state,
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
    model_evidence = ModelEvidence(name=name, n_parameters=learner.n_parameters(fitted.estimator), **arrays)
    return SklearnEvidenceFit(fitted, model_evidence, seconds_training, seconds_evidence)


def learner_evidence(learners: Mapping[str, Any], x_labeled: np.ndarray, y_labeled: np.ndarray, x_pool: np.ndarray,
                     *, n_classes: int, seed: int, evidence: Collection[str] | None = None) -> Evidence:
    """The evidence of scikit-learn target models, from arrays: one classification round outside the loop.

    Every model is fitted on the labeled set as the loop fits it in round 0 (its
    ``random_state`` drawn from ``seed`` and its position, one thread) and reports its soft
    version space, probabilities and representation on the pool; the result goes straight
    to a strategy (``get_strategy("diam", "classification").fn(evidence, budget=..., rng=...)``).

    Parameters
    ----------
    learners : mapping of str to estimator or SklearnLearner
        Model name -> an unfitted classifier with ``fit`` and ``predict_proba`` (wrapped in
        :class:`~diamlib.zoo.sklearn_models.EstimatorLearner`) or a built-in learner, in zoo order.
    x_labeled : ndarray, shape (n_labeled, d)
    y_labeled : ndarray of int, shape (n_labeled,)
        Class indices 0..n_classes-1, at least two distinct.
    x_pool : ndarray, shape (n_pool, d)
    n_classes : int
    seed : int
        Master seed of the fits (:func:`diamlib.seeding.child_int_seed`).
    evidence : collection of str, optional
        Evidence fields to compute (default: all classification fields).

    Returns
    -------
    Evidence
        ``task="classification"``, ``unlabeled_indices`` = 0..n_pool-1 (rows of ``x_pool``),
        one :class:`ModelEvidence` per learner in the given order, ``feature_model`` the model
        with most parameters.

    Raises
    ------
    ValueError
        No learners, arrays of mismatched shapes, labels outside 0..n_classes-1 or of a
        single class, or a model that cannot classify (no ``predict_proba``); raised before
        any fit.
    TypeError
        An entry that is not an estimator.

    References
    ----------
    Algorithm 2, lines 3-4 of the paper; Sec. 5.2.
    """
    if not learners:
        raise ValueError("learner_evidence needs at least one model: {name: estimator, ...}")
    x_labeled, x_pool, y_labeled = np.asarray(x_labeled), np.asarray(x_pool), np.asarray(y_labeled)
    if x_labeled.ndim != 2 or x_pool.ndim != 2 or x_labeled.shape[1] != x_pool.shape[1]:
        raise ValueError(f"x_labeled {x_labeled.shape} and x_pool {x_pool.shape} must be 2-d feature matrices "
                         f"with the same number of columns; flatten images first (e.g. images.reshape(len(images), -1))")
    if y_labeled.shape != (len(x_labeled),) or not np.issubdtype(y_labeled.dtype, np.integer):
        raise ValueError(f"y_labeled must hold one integer class index per row of x_labeled ({len(x_labeled)}), "
                         f"got shape {y_labeled.shape} and dtype {y_labeled.dtype}")
    if len(y_labeled) and (y_labeled.min() < 0 or y_labeled.max() >= n_classes):
        raise ValueError(f"y_labeled holds classes outside 0..{n_classes - 1} (n_classes = {n_classes}); map the "
                         f"labels to class indices first")
    models = as_learners(learners, "classification")
    fits = []
    with threadpool_limits(limits=1):
        for position, (name, learner) in enumerate(models.items()):
            random_state = _first_round_random_state(seed, position)
            fits.append(fit_sklearn_evidence(learner, x_labeled, y_labeled, x_pool, name=name,
                                             task="classification", n_outputs=n_classes,
                                             random_state=random_state, evidence=evidence).evidence)
    return Evidence(task="classification", unlabeled_indices=np.arange(len(x_pool), dtype=np.int64),
                    models=tuple(fits), feature_model=Evidence.feature_model_position(
                        "largest", [m.name for m in fits], [m.n_parameters for m in fits]))


def learner_accuracy(learners: Mapping[str, Any], x_labeled: np.ndarray, y_labeled: np.ndarray, x_test: np.ndarray,
                     y_test: np.ndarray, *, n_classes: int, seed: int) -> dict[str, float]:
    """Test accuracy of each model fitted on the labeled set, fitted exactly as :func:`learner_evidence` fits it.

    Parameters
    ----------
    learners : mapping of str to estimator or SklearnLearner
    x_labeled : ndarray, shape (n_labeled, d)
    y_labeled : ndarray of int, shape (n_labeled,)
    x_test : ndarray, shape (n_test, d)
    y_test : ndarray of int, shape (n_test,)
    n_classes : int
    seed : int
        The same seed as :func:`learner_evidence` gives the same fitted models.

    Returns
    -------
    dict
        Model name -> accuracy in [0, 1].

    References
    ----------
    Sec. 6.1 of the paper (test accuracy of every target model).
    """
    x_labeled, x_test = np.asarray(x_labeled), np.asarray(x_test)
    y_labeled, y_test = np.asarray(y_labeled, dtype=np.int64), np.asarray(y_test, dtype=np.int64)
    if y_test.shape != (len(x_test),):
        raise ValueError(f"y_test must hold one class index per row of x_test ({len(x_test)}), got shape {y_test.shape}")
    data = RoundData(train_inputs=x_labeled, train_targets=y_labeled, test_inputs=x_test, test_targets=y_test,
                     labeled=np.arange(len(x_labeled)), pool=np.zeros(0, dtype=np.int64), task="classification")
    accuracy = {}
    for position, (name, model) in enumerate(learners.items()):
        random_state = _first_round_random_state(seed, position)
        result = train_sklearn_round(as_learner(model), data, name=name, n_outputs=n_classes,
                                     random_state=random_state, evidence=())
        accuracy[name] = result.metrics["accuracy"]
    return accuracy


def _first_round_random_state(seed: int, position: int) -> int:
    """The ``random_state`` the loop gives the model at ``position`` in round 0 of ``seed``."""
    return sklearn_random_state(child_int_seed(seed, "init", 0, position))


def _as_outputs(predictions: np.ndarray) -> np.ndarray:
    """Regression predictions as (n, n_outputs) float32 (single-output models give (n,))."""
    predictions = np.asarray(predictions, dtype=np.float32)
    return predictions[:, None] if predictions.ndim == 1 else predictions
