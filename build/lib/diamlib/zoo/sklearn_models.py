"""scikit-learn target models: fitting, soft version space, representation, size.

A scikit-learn learner is a target model like a network: each round it is fitted afresh on
the labeled set (flat PCA inputs, :mod:`diamlib.data.flat`) and reports the same evidence
(:class:`diamlib.evidence.ModelEvidence`), so every strategy runs on it unchanged.

Soft version space (``snapshot_predictions``, Sec. 5.2, Algorithm 2 line 4). The paper takes
the hypotheses of the later epochs ``floor(T/2) .. T`` of SGD training. Per family:

========================  =====================================================  ==========================
family                    soft version space                                     extra cost per round
========================  =====================================================  ==========================
linear-svm (SGD, hinge)   epochs ``floor(T/2) .. T`` of ``partial_fit``          one pool prediction / epoch
mlp                       epochs ``floor(T/2) .. T`` of ``partial_fit`` (Adam)   one pool prediction / epoch
hist-gradient-boosting    boosting stages ``floor(M/2) .. M`` (staged_predict)   one staged pass over the pool
random-forest             ``committee`` disjoint sub-forests, then the forest    one pool pass (tree votes)
logistic-regression       the model + ``committee`` bootstrap refits             ``committee`` fits and predictions
k-nn                      the model + ``committee`` bootstrap refits             ``committee`` fits and predictions
any estimator             the model + ``committee`` bootstrap refits             ``committee`` fits and predictions
========================  =====================================================  ==========================

Any other scikit-learn estimator becomes a target model through :class:`EstimatorLearner`
(a classifier with ``fit`` and ``predict_proba``, a regressor with ``fit`` and ``predict``):
it is cloned afresh each round and gets the default soft version space of non-iterative
learners, the bootstrap committee.

Iterative learners follow the paper exactly (their later iterates). The others have no
iterates: a random forest's trees already are a bootstrap committee, so its sub-forests are
free; logistic regression (solved by L-BFGS to convergence) and k-NN get a small bootstrap
committee drawn from the round's seed, the final model being one member as ``h^T`` is.

Representation (``pool_features`` / ``labeled_features``, the diversity term of Sec. 5.2,
which uses the penultimate layer of a network): an MLP's last hidden layer (exactly the
paper's choice); a random forest's leaf embedding (the one-hot leaf indicator of every tree,
whose inner products count shared leaves, i.e. the forest's proximity kernel, projected to
``embedding_dim`` dimensions by a Gaussian random projection seeded from the round); and the
input features themselves for linear models, k-NN and boosting, whose decision depends on
the inputs directly (and for any estimator).

Probabilities (``pool_probs``): ``predict_proba``, except the linear SVM (hinge loss, no
probabilities), whose class scores pass through a softmax of ``decision_function``. A model
fitted on labels that lack some classes still returns all ``n_classes`` columns (absent
classes get probability 0). Every estimator runs single-threaded (``n_jobs=1``; the loop
limits OpenMP/BLAS to one thread) and draws only from the ``random_state`` it is given.

References
----------
Sec. 5.2 and Algorithm 2 of the paper (soft version spaces, penultimate-layer features);
Sec. 6.1 (a zoo of target models).
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.ensemble import (HistGradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor

from diamlib.evidence import snapshot_epochs

__all__ = [
    "FittedLearner", "SklearnLearner", "LogisticRegressionLearner", "LinearSVMLearner", "KNNLearner",
    "RandomForestLearner", "HistGradientBoostingLearner", "MLPLearner", "RidgeLearner", "EstimatorLearner",
    "as_learner", "as_learners", "fitted_parameters", "full_width_probs", "softmax",
]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of class scores (n, k) -> probabilities (n, k)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


def full_width_probs(probs: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities over ``classes`` (n, len(classes)) -> over all classes (n, n_classes).

    A model fitted on a labeled set that lacks some classes knows only ``estimator.classes_``;
    the missing classes get probability 0.
    """
    full = np.zeros((probs.shape[0], n_classes), dtype=np.float32)
    full[:, np.asarray(classes, dtype=np.int64)] = probs
    return full


@dataclass(frozen=True)
class FittedLearner:
    """A learner fitted on one round's labeled set.

    Attributes
    ----------
    estimator : sklearn estimator
        The final hypothesis (``h^T``).
    snapshots : list of ndarray of int, or None
        Labels the soft-version-space members predict on the pool, each (n_pool,), the final
        hypothesis last; None when not asked for (or for regression).
    seconds_version_space : float
        Time spent on the members beyond fitting the final hypothesis (evidence time).
    feature_seed : int
        Seed of the representation's random projection (forests), the same for pool and labeled.
    """

    estimator: Any
    snapshots: list[np.ndarray] | None
    seconds_version_space: float
    feature_seed: int


class SklearnLearner(ABC):
    """One family of scikit-learn target models (subclasses are frozen dataclasses of options).

    Attributes
    ----------
    family : str
        Family name shown in :func:`diamlib.zoo.zoo_table`.
    tasks : tuple of str
        Tasks the family can learn.
    """

    family: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]] = ("classification",)

    @abstractmethod
    def estimator(self, task: str, random_state: Any) -> Any:
        """A fresh, unfitted estimator."""

    # ----------------------------------------------------------------- fitting
    def fit(self, x: np.ndarray, y: np.ndarray, *, task: str, n_classes: int, random_state: int,
            pool_x: np.ndarray | None = None) -> FittedLearner:
        """Fit on the labeled set (x (n, d), y (n,) or (n, n_outputs)); with ``pool_x`` (m, d)
        in classification, also label the pool with the soft version space's members."""
        self._check_task(task)
        estimator = self.estimator(task, random_state).fit(x, y)
        snapshots, seconds = None, 0.0
        if pool_x is not None and task == "classification":
            start = time.perf_counter()
            snapshots = self.committee_labels(estimator, x, y, pool_x, task=task, random_state=random_state)
            seconds = time.perf_counter() - start
        return FittedLearner(estimator, snapshots, seconds, random_state)

    def committee_labels(self, estimator, x: np.ndarray, y: np.ndarray, pool_x: np.ndarray, *, task: str,
                         random_state: int) -> list[np.ndarray]:
        """Default soft version space: ``committee`` bootstrap refits, then the final model."""
        rng = np.random.default_rng(random_state)
        members = []
        for member in range(self.committee):
            sample = rng.integers(0, len(x), size=len(x))
            labels = np.unique(y[sample])
            if len(labels) < 2:  # a resample of one class predicts that class
                members.append(np.full(len(pool_x), labels[0], dtype=np.int32))
                continue
            refit = self.estimator(task, (random_state + member + 1) % 2**32).fit(x[sample], y[sample])
            members.append(refit.predict(pool_x).astype(np.int32))
        return members + [estimator.predict(pool_x).astype(np.int32)]

    def _check_task(self, task: str) -> None:
        if task not in self.tasks:
            raise ValueError(f"{self.family} target models learn {', '.join(self.tasks)}, not {task}; "
                             f"use a zoo made for {task}")

    # ----------------------------------------------------------------- evidence
    def class_probabilities(self, estimator, x: np.ndarray, n_classes: int) -> np.ndarray:
        """Probabilities over all classes, (n, n_classes) float32."""
        return full_width_probs(estimator.predict_proba(x), estimator.classes_, n_classes)

    def features(self, fitted: FittedLearner, x: np.ndarray) -> np.ndarray:
        """Representation for the diversity term, (n, feature_dim) float32: the inputs by default."""
        return np.asarray(x, dtype=np.float32)

    def feature_dim(self, n_inputs: int) -> int:
        return n_inputs

    @abstractmethod
    def n_parameters(self, estimator) -> int:
        """Fitted parameters of ``estimator``."""

    def nominal_parameters(self, n_inputs: int, n_outputs: int) -> int | None:
        """Parameters known before fitting (None when they depend on the data)."""
        return None

    def describe(self) -> str:
        """One line for the zoo table."""
        fields = ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
        return f"{self.family}({fields})"


def _tree_nodes_parameters(node_count: int, n_leaves: int, n_values: int) -> int:
    """A tree's parameters: a feature and a threshold per split, ``n_values`` values per leaf."""
    return 2 * (node_count - n_leaves) + n_values * n_leaves


class _LinearSize:
    """Size of a linear model: a weight per (input, output) and a bias per output."""

    def n_parameters(self, estimator) -> int:
        """Entries of the fitted ``coef_`` and ``intercept_`` (either may be 1-d or, for ``intercept_``, a scalar)."""
        return int(np.size(estimator.coef_) + np.size(estimator.intercept_))

    def nominal_parameters(self, n_inputs: int, n_outputs: int) -> int:
        """``(n_inputs + 1) * n_outputs``."""
        return (n_inputs + 1) * n_outputs


# --------------------------------------------------------------------------- families
@dataclass(frozen=True)
class LogisticRegressionLearner(_LinearSize, SklearnLearner):
    """Multinomial logistic regression (L-BFGS); version space: bootstrap committee."""

    C: float = 1.0
    max_iter: int = 50
    committee: int = 3
    family: ClassVar[str] = "logistic-regression"

    def estimator(self, task, random_state):
        return LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=random_state)


@dataclass(frozen=True)
class LinearSVMLearner(_LinearSize, SklearnLearner):
    """Linear SVM (SGD on the hinge loss, one vs rest); version space: later epochs.

    ``pool_probs`` is a softmax of ``decision_function`` (the hinge loss has no probabilities).
    """

    alpha: float = 1e-3
    epochs: int = 8
    family: ClassVar[str] = "linear-svm"

    def estimator(self, task, random_state):
        # a RandomState object, so that every partial_fit epoch draws a new order
        return SGDClassifier(loss="hinge", alpha=self.alpha, random_state=np.random.RandomState(random_state))

    def fit(self, x, y, *, task, n_classes, random_state, pool_x=None):
        self._check_task(task)
        return _fit_by_epochs(self.estimator(task, random_state), x, y, task=task, epochs=self.epochs,
                              pool_x=pool_x, random_state=random_state)

    def class_probabilities(self, estimator, x, n_classes):
        scores = estimator.decision_function(x)
        if scores.ndim == 1:  # two classes: one score for the second
            scores = np.stack([-scores, scores], axis=1)
        return full_width_probs(softmax(scores), estimator.classes_, n_classes)


@dataclass(frozen=True)
class KNNLearner(SklearnLearner):
    """k nearest neighbours; version space: bootstrap committee. Its parameters are the stored
    labeled points (and targets)."""

    k: int = 5
    committee: int = 3
    family: ClassVar[str] = "k-nn"
    tasks: ClassVar[tuple[str, ...]] = ("classification", "regression")

    def estimator(self, task, random_state):
        model = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
        return model(n_neighbors=self.k, n_jobs=1)

    def fit(self, x, y, *, task, n_classes, random_state, pool_x=None):
        if len(x) < self.k:
            raise ValueError(f"k-nn with k = {self.k} needs at least {self.k} labeled points, got {len(x)}; "
                             f"raise initial_labels")
        return super().fit(x, y, task=task, n_classes=n_classes, random_state=random_state, pool_x=pool_x)

    def n_parameters(self, estimator) -> int:
        targets = np.asarray(estimator._y)
        return int(estimator.n_samples_fit_ * estimator.n_features_in_ + targets.size)


@dataclass(frozen=True)
class RandomForestLearner(SklearnLearner):
    """Random forest; version space: disjoint sub-forests; representation: leaf embedding."""

    n_estimators: int = 20
    max_leaf_nodes: int = 32
    committee: int = 4
    embedding_dim: int = 32
    family: ClassVar[str] = "random-forest"
    tasks: ClassVar[tuple[str, ...]] = ("classification", "regression")

    def estimator(self, task, random_state):
        model = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return model(n_estimators=self.n_estimators, max_leaf_nodes=self.max_leaf_nodes, n_jobs=1,
                     random_state=random_state)

    def committee_labels(self, estimator, x, y, pool_x, *, task, random_state):
        tree_probs = np.stack([tree.predict_proba(pool_x) for tree in estimator.estimators_])
        groups = np.array_split(np.arange(len(tree_probs)), min(self.committee, len(tree_probs)))
        members = [estimator.classes_[tree_probs[g].mean(axis=0).argmax(axis=1)].astype(np.int32) for g in groups]
        return members + [estimator.classes_[tree_probs.mean(axis=0).argmax(axis=1)].astype(np.int32)]

    def features(self, fitted, x):
        """Leaf embedding: ``sum_t R_t[leaf_t(x)] / sqrt(n_trees)``, ``R_t`` Gaussian (nodes_t, dim)."""
        rng = np.random.default_rng(fitted.feature_seed)
        trees = fitted.estimator.estimators_
        leaves = fitted.estimator.apply(x)
        embedding = np.zeros((len(x), self.embedding_dim))
        for t, tree in enumerate(trees):
            projection = rng.standard_normal((tree.tree_.node_count, self.embedding_dim))
            embedding += projection[leaves[:, t]]
        return (embedding / np.sqrt(len(trees))).astype(np.float32)

    def feature_dim(self, n_inputs):
        return self.embedding_dim

    def n_parameters(self, estimator) -> int:
        values = estimator.estimators_[0].tree_.value.shape[1] * estimator.estimators_[0].tree_.value.shape[2]
        return int(sum(_tree_nodes_parameters(t.tree_.node_count, t.tree_.n_leaves, values)
                       for t in estimator.estimators_))


@dataclass(frozen=True)
class HistGradientBoostingLearner(SklearnLearner):
    """Histogram gradient boosting; version space: the later boosting stages."""

    max_iter: int = 10
    max_leaf_nodes: int = 8
    learning_rate: float = 0.3
    family: ClassVar[str] = "hist-gradient-boosting"

    def estimator(self, task, random_state):
        return HistGradientBoostingClassifier(max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                                              learning_rate=self.learning_rate, early_stopping=False,
                                              random_state=random_state)

    def fit(self, x, y, *, task, n_classes, random_state, pool_x=None):
        self._check_task(task)
        estimator = self.estimator(task, random_state).fit(x, y)
        snapshots, seconds = None, 0.0
        if pool_x is not None:
            start = time.perf_counter()
            keep = snapshot_epochs(estimator.n_iter_)
            snapshots = [labels.astype(np.int32) for stage, labels in enumerate(estimator.staged_predict(pool_x), 1)
                         if stage in keep]
            seconds = time.perf_counter() - start
        return FittedLearner(estimator, snapshots, seconds, random_state)

    def n_parameters(self, estimator) -> int:
        return int(sum(_tree_nodes_parameters(len(p.nodes), int(p.nodes["is_leaf"].sum()), 1)
                       for stage in estimator._predictors for p in stage))


@dataclass(frozen=True)
class MLPLearner(SklearnLearner):
    """Multi-layer perceptron (Adam, ReLU); version space: later epochs; representation: last hidden layer."""

    hidden: tuple[int, ...] = (64,)
    epochs: int = 20
    learning_rate: float = 3e-3
    alpha: float = 1e-4
    batch_size: int = 64
    family: ClassVar[str] = "mlp"
    tasks: ClassVar[tuple[str, ...]] = ("classification", "regression")

    def estimator(self, task, random_state):
        model = MLPClassifier if task == "classification" else MLPRegressor
        return model(hidden_layer_sizes=self.hidden, alpha=self.alpha, batch_size=self.batch_size,
                     learning_rate_init=self.learning_rate, random_state=np.random.RandomState(random_state))

    def fit(self, x, y, *, task, n_classes, random_state, pool_x=None):
        self._check_task(task)
        estimator = self.estimator(task, random_state).set_params(batch_size=min(self.batch_size, len(x)))
        return _fit_by_epochs(estimator, x, y, task=task, epochs=self.epochs, pool_x=pool_x,
                              random_state=random_state)

    def features(self, fitted, x):
        """Activations of the last hidden layer (ReLU), (n, hidden[-1])."""
        activation = np.asarray(x, dtype=np.float64)
        for weights, bias in zip(fitted.estimator.coefs_[:-1], fitted.estimator.intercepts_[:-1]):
            activation = np.maximum(activation @ weights + bias, 0.0)
        return activation.astype(np.float32)

    def feature_dim(self, n_inputs):
        return self.hidden[-1]

    def n_parameters(self, estimator) -> int:
        return int(sum(w.size for w in estimator.coefs_) + sum(b.size for b in estimator.intercepts_))

    def nominal_parameters(self, n_inputs, n_outputs):
        sizes = [n_inputs, *self.hidden, n_outputs]
        return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class RidgeLearner(_LinearSize, SklearnLearner):
    """Ridge regression (multi-output, closed form); regression only."""

    alpha: float = 1.0
    family: ClassVar[str] = "ridge"
    tasks: ClassVar[tuple[str, ...]] = ("regression",)

    def estimator(self, task, random_state):
        return Ridge(alpha=self.alpha)


@dataclass(frozen=True)
class EstimatorLearner(SklearnLearner):
    """Any scikit-learn estimator as a target model; version space: bootstrap committee.

    Each round fits a clone of ``model`` (its ``random_state``, when it has one, set from the
    round's seed; its ``n_jobs``, when set to more than one job, set to 1). The soft version space is the
    fitted model and ``committee`` seeded bootstrap refits (the default of non-iterative
    families, Sec. 5.2); the representation is the inputs; the probabilities are
    ``predict_proba`` over all classes.

    Parameters
    ----------
    model : sklearn estimator
        Unfitted template: a classifier with ``fit`` and ``predict_proba`` (classification),
        or an estimator with ``fit`` and ``predict`` (regression). It is never fitted itself.
        A classifier without ``predict_proba`` (``SVC()``, ``LinearSVC()``) goes in
        ``CalibratedClassifierCV(..., ensemble=False)``; scikit-learn 1.9 deprecates
        ``SVC(probability=True)``.
    committee : int
        Bootstrap refits in the soft version space (besides the model itself).

    Raises
    ------
    TypeError
        ``model`` has no ``fit`` or ``predict`` method.
    ValueError
        ``committee`` below 1.

    References
    ----------
    Sec. 5.2 and Algorithm 2, line 4 of the paper (soft version space of each target model).
    """

    model: Any
    committee: int = 4
    family: ClassVar[str] = "estimator"
    tasks: ClassVar[tuple[str, ...]] = ("classification", "regression")

    def __post_init__(self) -> None:
        missing = [m for m in ("fit", "predict", "get_params") if not callable(getattr(self.model, m, None))]
        if missing:
            raise TypeError(f"{type(self.model).__name__} is not a scikit-learn estimator: it has no "
                            f"{', '.join(missing)} method; pass an estimator such as LogisticRegression()")
        if isinstance(self.committee, bool) or not isinstance(self.committee, int) or self.committee < 1:
            raise ValueError(f"committee must be a positive integer (bootstrap refits), got {self.committee!r}")

    def estimator(self, task, random_state):
        model = clone(self.model)
        params = model.get_params(deep=False)
        settings = {"random_state": random_state} if "random_state" in params else {}
        if params.get("n_jobs") not in (None, 1):  # None already means one job
            settings["n_jobs"] = 1
        return model.set_params(**settings)

    def _check_task(self, task: str) -> None:
        name = type(self.model).__name__
        if task == "classification":
            if is_regressor(self.model):
                raise ValueError(f"{name} is a regressor; classification needs a classifier with predict_proba")
            if not hasattr(self.model, "predict_proba"):
                raise ValueError(f"{name} has no predict_proba, which the strategies read as class probabilities; "
                                 f"wrap it as CalibratedClassifierCV({name}(...), ensemble=False) (for SVC too: "
                                 f"scikit-learn 1.9 deprecates SVC(probability=True)) or pick a classifier that "
                                 f"has it")
        elif task == "regression":
            if is_classifier(self.model):
                raise ValueError(f"{name} is a classifier; regression needs a regressor with predict")
        else:
            raise ValueError(f"task must be classification or regression, got {task!r}")

    def n_parameters(self, estimator) -> int:
        """The fitted estimator's size (:func:`fitted_parameters`): what it learned from the labeled set."""
        return fitted_parameters(estimator)

    def describe(self) -> str:
        return f"{self.family}({self.model!r}, committee={self.committee})"


def fitted_parameters(estimator: Any) -> int:
    """Number of values a fitted scikit-learn estimator learned, comparable across families.

    =================================  ====================================================
    estimator                          counted
    =================================  ====================================================
    pipeline                           the sum over its steps
    MLP (``coefs_``, ``intercepts_``)  every weight and bias
    decision tree (``tree_``)          a feature and a threshold per split, the values of
                                       every leaf (as :class:`RandomForestLearner` counts)
    ensembles (``estimators_``)        the sum over their members (forests: the nodes of
                                       all trees; boosting: of all stages)
    histogram gradient boosting        the nodes of every predictor of every stage
    calibrated classifier              its fitted classifiers and their calibrators
    k-NN (``_fit_X``)                  the stored training values and targets
    any other                          the floating-point arrays named by scikit-learn's
                                       trailing-underscore convention (``coef_``,
                                       ``intercept_``, ``theta_``, ``support_vectors_``...;
                                       not counts such as ``n_iter_``)
    =================================  ====================================================

    It ranks target models by size: single-model strategies read the features of the largest
    (``Evidence.feature_model``).

    Parameters
    ----------
    estimator : fitted scikit-learn estimator

    Returns
    -------
    int
    """
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return sum(fitted_parameters(step) for _, step in steps if step not in (None, "passthrough"))
    if hasattr(estimator, "coefs_") and hasattr(estimator, "intercepts_"):
        return int(sum(np.size(w) for w in estimator.coefs_) + sum(np.size(b) for b in estimator.intercepts_))
    tree = getattr(estimator, "tree_", None)
    if tree is not None and hasattr(tree, "node_count"):
        return _tree_nodes_parameters(tree.node_count, tree.n_leaves, int(np.prod(tree.value.shape[1:])))
    if hasattr(estimator, "_predictors"):
        return int(sum(_tree_nodes_parameters(len(p.nodes), int(p.nodes["is_leaf"].sum()), 1)
                       for stage in estimator._predictors for p in stage))
    if hasattr(estimator, "_fit_X") and hasattr(estimator, "n_samples_fit_"):
        return int(np.size(estimator._fit_X) + np.size(getattr(estimator, "_y", ())))
    members = [m for m in np.ravel(np.asarray(getattr(estimator, "estimators_", []), dtype=object))
               if hasattr(m, "fit")]
    calibrated = getattr(estimator, "calibrated_classifiers_", [])
    members += [c.estimator for c in calibrated] + [k for c in calibrated for k in getattr(c, "calibrators", [])]
    if members:
        return sum(fitted_parameters(m) for m in members)
    return _fitted_float_arrays(estimator)


def _fitted_float_arrays(estimator: Any) -> int:
    """Entries of the estimator's own fitted floating-point arrays (public names ending in ``_``)."""
    return int(sum(value.size for key, value in vars(estimator).items()
                   if key.endswith("_") and not key.startswith("_") and isinstance(value, np.ndarray)
                   and np.issubdtype(value.dtype, np.floating)))


def as_learner(model: Any) -> SklearnLearner:
    """``model`` as a target model: a :class:`SklearnLearner` unchanged, an estimator in an
    :class:`EstimatorLearner` (default committee)."""
    return model if isinstance(model, SklearnLearner) else EstimatorLearner(model)


def as_learners(models: Mapping[str, Any], task: str) -> dict[str, SklearnLearner]:
    """Model name -> estimator or learner, as learners (:func:`as_learner`), in the given order.

    Raises
    ------
    ValueError
        A model that cannot learn ``task`` (the message names the model).
    TypeError
        An entry that is not an estimator.
    """
    learners = {name: as_learner(model) for name, model in models.items()}
    for name, learner in learners.items():
        try:
            learner._check_task(task)
        except ValueError as error:
            raise ValueError(f"model {name!r}: {error}") from None
    return learners


def _fit_by_epochs(estimator, x, y, *, task, epochs, pool_x, random_state) -> FittedLearner:
    """``epochs`` passes of ``partial_fit``; the pool labels of epochs floor(T/2)..T form the
    soft version space (Algorithm 2, line 4)."""
    classify = task == "classification"
    keep = snapshot_epochs(epochs) if pool_x is not None and classify else range(0)
    # only the labeled classes: a class without examples must not be predicted (it gets probability 0)
    present = np.unique(y) if classify else None
    snapshots, seconds = [], 0.0
    for epoch in range(1, epochs + 1):
        if classify:
            estimator.partial_fit(x, y, classes=present)
        else:
            estimator.partial_fit(x, y)
            if epoch == 1 and hasattr(estimator, "intercepts_"):
                # start from the constant predictor, as the network models do (the output
                # bias becomes the labeled mean) instead of creeping up from zero
                estimator.intercepts_[-1] = estimator.intercepts_[-1] + (y - estimator.predict(x)).mean(axis=0)
        if epoch in keep:
            start = time.perf_counter()
            snapshots.append(estimator.predict(pool_x).astype(np.int32))
            seconds += time.perf_counter() - start
    return FittedLearner(estimator, snapshots if keep else None, seconds, random_state)
