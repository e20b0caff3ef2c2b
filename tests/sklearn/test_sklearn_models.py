"""scikit-learn learners: soft version space, representation, probabilities, sizes, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.data.flat import pca_inputs
from diamlib.training.sklearn import train_sklearn_round
from diamlib.zoo import ModelSpec, build_zoo, zoo_kind, zoo_table, zoo_task
from diamlib.zoo.sklearn_models import (HistGradientBoostingLearner, LinearSVMLearner, LogisticRegressionLearner,
                                         MLPLearner, RandomForestLearner, RidgeLearner, full_width_probs, softmax)
from flat_rounds import round_data

CLASSIFIERS = {spec.name: spec.factory(10) for spec in build_zoo("sklearn6", n_outputs=10)}
REGRESSORS = {spec.name: spec.factory(10) for spec in build_zoo("sklearn-reg", n_outputs=10)}
LABELED = np.arange(0, 600, 4)  # 150 labels


def _fit(learner, flat, *, labeled=LABELED, task="classification", seed=7, evidence=None, n_outputs=10):
    return train_sklearn_round(learner, round_data(flat, labeled, task), name=learner.family, n_outputs=n_outputs,
                               random_state=seed, evidence=evidence)


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_evidence_shapes_dtypes_and_ranges(name, digits_flat):
    learner = CLASSIFIERS[name]
    result = _fit(learner, digits_flat)
    e, n_pool = result.evidence, 600 - len(LABELED)
    assert e.snapshot_predictions.dtype == np.int32 and e.snapshot_predictions.shape[1] == n_pool
    assert e.snapshot_predictions.shape[0] >= 3
    assert e.snapshot_predictions.min() >= 0 and e.snapshot_predictions.max() < 10
    assert e.pool_probs.shape == (n_pool, 10) and e.pool_probs.dtype == np.float32
    np.testing.assert_allclose(e.pool_probs.sum(axis=1), 1.0, atol=1e-5)
    assert (e.pool_probs >= 0).all()
    dim = learner.feature_dim(20)
    assert e.pool_features.shape == (n_pool, dim) and e.labeled_features.shape == (len(LABELED), dim)
    assert e.pool_features.dtype == np.float32 and np.isfinite(e.pool_features).all()
    assert e.pool_outputs is None
    assert e.n_parameters > 0
    assert set(result.metrics) == {"accuracy"} and result.metrics["accuracy"] > 0.5  # digits: chance is 0.1
    # the final hypothesis is the last member of the soft version space
    np.testing.assert_array_equal(e.snapshot_predictions[-1], e.pool_probs.argmax(axis=1))
    assert result.seconds_training > 0 and result.seconds_evidence > 0


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_same_seed_same_evidence_other_seed_other_draws(name, digits_flat):
    learner = CLASSIFIERS[name]
    first, again = _fit(learner, digits_flat, seed=3).evidence, _fit(learner, digits_flat, seed=3).evidence
    for field in ("snapshot_predictions", "pool_probs", "pool_features", "labeled_features"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    if name == "hist-gradient-boosting":
        return  # draws nothing: no subsampling, no early-stopping split, exact bins on small data
    other = _fit(learner, digits_flat, seed=4).evidence
    assert not np.array_equal(first.snapshot_predictions, other.snapshot_predictions), \
        "the version space is drawn from the seed (initialisation, order, bootstrap or trees)"


@pytest.mark.parametrize("learner, settles", [(LinearSVMLearner(), False), (MLPLearner(), True),
                                              (HistGradientBoostingLearner(), True)],
                         ids=["linear-svm", "mlp", "hist-gradient-boosting"])
def test_iterative_learners_take_the_later_iterates(learner, settles, digits_flat):
    snapshots = _fit(learner, digits_flat).evidence.snapshot_predictions
    total = learner.epochs if hasattr(learner, "epochs") else learner.max_iter
    assert len(snapshots) == total - total // 2 + 1  # iterates floor(T/2) .. T
    assert len(np.unique(snapshots, axis=0)) > 1, "the iterates differ: the version space is not one hypothesis"
    if settles:  # Adam and boosting converge; SGD on the hinge loss keeps moving at a constant rate
        assert np.mean(snapshots[-2] == snapshots[-1]) >= np.mean(snapshots[0] == snapshots[-1])


def test_mlp_features_are_its_last_hidden_layer(digits_flat):
    """A linear head on the features reproduces the MLP's probabilities: they are its penultimate layer."""
    learner = MLPLearner(hidden=(24, 16), epochs=5)
    x = digits_flat[0]
    fitted = learner.fit(x[LABELED], digits_flat[1][LABELED], task="classification", n_classes=10, random_state=0)
    features = learner.features(fitted, x)
    assert features.shape == (600, 16)
    logits = features @ fitted.estimator.coefs_[-1] + fitted.estimator.intercepts_[-1]
    np.testing.assert_allclose(softmax(logits), fitted.estimator.predict_proba(x), atol=1e-5)


def test_forest_leaf_embedding_follows_shared_leaves(digits_flat):
    learner = RandomForestLearner(n_estimators=10, embedding_dim=16)
    x = digits_flat[0]
    fitted = learner.fit(x[LABELED], digits_flat[1][LABELED], task="classification", n_classes=10, random_state=0)
    features = learner.features(fitted, x)
    leaves = fitted.estimator.apply(x)
    assert features.shape == (600, 16)
    same = np.flatnonzero((leaves == leaves[0]).all(axis=1))
    np.testing.assert_array_equal(features[same], np.repeat(features[:1], len(same), axis=0))
    # the embedding's inner products approximate the forest's proximity (shared leaves / trees)
    proximity = (leaves[:100, None, :] == leaves[None, :100, :]).mean(axis=2)
    gram = features[:100] @ features[:100].T / learner.embedding_dim
    assert np.corrcoef(proximity.ravel(), gram.ravel())[0, 1] > 0.5


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_missing_classes_still_give_all_class_columns(name, digits_flat):
    train_y = digits_flat[1]
    labeled = np.flatnonzero(train_y < 7)[:150]  # classes 7, 8, 9 never labeled
    e = _fit(CLASSIFIERS[name], digits_flat, labeled=labeled).evidence
    assert e.pool_probs.shape == (600 - len(labeled), 10)
    np.testing.assert_allclose(e.pool_probs.sum(axis=1), 1.0, atol=1e-5)
    assert not np.isin(e.snapshot_predictions, [7, 8, 9]).any()


def test_full_width_probs_places_known_classes_and_zeros_the_others():
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    full = full_width_probs(probs, np.array([1, 3]), 5)
    np.testing.assert_allclose(full, [[0, 0.2, 0, 0.8, 0], [0, 0.6, 0, 0.4, 0]])


def test_a_single_labeled_class_is_refused_with_the_fix(digits_flat):
    labeled = np.flatnonzero(digits_flat[1] == 3)[:20]
    with pytest.raises(ValueError, match="single class.*raise initial_labels"):
        _fit(CLASSIFIERS["k-nn"], digits_flat, labeled=labeled)


@pytest.mark.parametrize("name", list(REGRESSORS))
def test_regressors_give_multi_output_predictions_and_features(name, landmarks_flat):
    learner = REGRESSORS[name]
    labeled = np.arange(0, 500, 4)
    result = _fit(learner, landmarks_flat, labeled=labeled, task="regression", n_outputs=10)
    e = result.evidence
    n_pool = 500 - len(labeled)
    assert e.pool_outputs.shape == (n_pool, 10) and e.pool_outputs.dtype == np.float32
    assert e.snapshot_predictions is None and e.pool_probs is None
    assert e.pool_features.shape == (n_pool, learner.feature_dim(20))
    assert set(result.metrics) == {"mse", "mae"}
    constant = np.mean((landmarks_flat[3] - landmarks_flat[1][labeled].mean(axis=0)) ** 2)
    assert result.metrics["mse"] < constant, "better than predicting the labeled mean"


@pytest.mark.parametrize("learner, task", [(LogisticRegressionLearner(), "classification"),
                                           (LinearSVMLearner(), "classification"),
                                           (RidgeLearner(), "regression")],
                         ids=["logistic-regression", "linear-svm", "ridge"])
def test_linear_learners_count_a_weight_per_input_and_output_and_a_bias_per_output(learner, task, digits_flat,
                                                                                  landmarks_flat):
    x, y = (digits_flat if task == "classification" else landmarks_flat)[:2]
    fitted = learner.fit(x[:400], y[:400], task=task, n_classes=10, random_state=0)
    assert learner.n_parameters(fitted.estimator) == (x.shape[1] + 1) * 10
    assert learner.nominal_parameters(x.shape[1], 10) == (x.shape[1] + 1) * 10
    # one output: a 1-d coefficient vector and a scalar intercept
    if task == "regression":
        single = learner.fit(x[:400], y[:400, 0], task=task, n_classes=1, random_state=0)
        assert learner.n_parameters(single.estimator) == x.shape[1] + 1


def test_only_the_requested_evidence_is_computed(digits_flat):
    e = _fit(CLASSIFIERS["random-forest"], digits_flat, evidence=["pool_probs"]).evidence
    assert e.pool_probs is not None
    assert e.snapshot_predictions is None and e.pool_features is None and e.labeled_features is None


def test_a_classifier_refuses_the_regression_task(landmarks_flat):
    with pytest.raises(ValueError, match="hist-gradient-boosting target models learn classification"):
        _fit(CLASSIFIERS["hist-gradient-boosting"], landmarks_flat, labeled=np.arange(50), task="regression")


def test_pca_inputs_are_whitened_deterministic_and_checked():
    from diamlib.data import load_dataset

    images = load_dataset("digits", split="train").images[:300]
    train_x, test_x = pca_inputs(images, images[:50], resolution=8, n_components=12)
    assert train_x.shape == (300, 12) and test_x.shape == (50, 12) and train_x.dtype == np.float32
    np.testing.assert_allclose(train_x.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(train_x.std(axis=0, ddof=1), 1, atol=1e-3)
    np.testing.assert_allclose(test_x, train_x[:50], atol=1e-5)
    np.testing.assert_array_equal(pca_inputs(images, images[:50], resolution=8, n_components=12)[0], train_x)
    with pytest.raises(ValueError, match="pca_components = 65 .* allow 1 .. 64"):
        pca_inputs(images, images[:50], resolution=8, n_components=65)


def test_sklearn_zoos_are_registered_with_their_kind_task_and_table():
    assert [s.name for s in build_zoo("sklearn6", n_outputs=10)] == [
        "logistic-regression", "linear-svm", "k-nn", "random-forest", "hist-gradient-boosting", "mlp"]
    assert len(build_zoo("sklearn-smoke", n_outputs=10)) == 3
    assert (zoo_kind("sklearn6"), zoo_task("sklearn6"), zoo_task("sklearn-reg")) == \
        ("sklearn", "classification", "regression")
    assert (zoo_kind("smoke3"), zoo_task("smoke3")) == ("torch", None)
    table = zoo_table(build_zoo("sklearn6", n_outputs=10))
    assert table["arch"].str.startswith(("logistic-regression(", "linear-svm(", "k-nn(", "random-forest(",
                                         "hist-gradient-boosting(", "mlp(")).all()
    assert table.set_index("name").loc["logistic-regression", "params"] == (40 + 1) * 10
    assert table.set_index("name").loc["k-nn", "params"] is None  # grows with the labeled set
    with pytest.raises(ValueError, match="no supernet"):
        build_zoo("sklearn6", n_outputs=10, width_mult=0.5)


def test_model_spec_kind_and_pca_components_are_checked():
    learner = MLPLearner()
    with pytest.raises(ValueError, match="kind of 'm' must be one of torch, sklearn"):
        ModelSpec("m", lambda n: learner, 16, kind="jax")
    with pytest.raises(ValueError, match="pca_components is set for sklearn models"):
        ModelSpec("m", lambda n: learner, 16, kind="sklearn")
    with pytest.raises(ValueError, match="pca_components of 'm' must be a positive integer"):
        ModelSpec("m", lambda n: learner, 16, kind="sklearn", pca_components=0)
