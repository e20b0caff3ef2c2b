"""Any scikit-learn estimator as a target model: the generic learner, user zoos, evidence from arrays."""
from __future__ import annotations

import warnings

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import profile_from_dict
from diamlib.training.sklearn import learner_accuracy, learner_evidence
from diamlib.userfiles.evidence_files import select_on_evidence
from diamlib.zoo import sklearn_zoo, zoo_table
from diamlib.zoo.sklearn_models import EstimatorLearner, KNNLearner, as_learner

LABELED = np.arange(0, 600, 6)  # 100 labels


def _arrays(flat):
    train_x, train_y, _, _ = flat
    pool = np.setdiff1d(np.arange(len(train_x)), LABELED)
    return train_x[LABELED], train_y[LABELED], train_x[pool], train_y[pool]


def test_learner_evidence_of_estimators_and_built_in_learners(digits_flat):
    x, y, pool_x, pool_y = _arrays(digits_flat)
    models = {"gaussian-nb": GaussianNB(), "lda": LinearDiscriminantAnalysis(), "k-nn": KNNLearner(committee=2)}
    evidence = learner_evidence(models, x, y, pool_x, n_classes=10, seed=0)
    assert evidence.task == "classification" and [m.name for m in evidence.models] == list(models)
    np.testing.assert_array_equal(evidence.unlabeled_indices, np.arange(len(pool_x)))
    for model, committee in zip(evidence.models, (4, 4, 2)):
        assert model.snapshot_predictions.shape == (committee + 1, len(pool_x))
        assert model.snapshot_predictions.dtype == np.int32
        assert model.pool_probs.shape == (len(pool_x), 10)
        np.testing.assert_allclose(model.pool_probs.sum(axis=1), 1.0, atol=1e-5)
        # the fitted model is the last member of its soft version space
        np.testing.assert_array_equal(model.snapshot_predictions[-1], model.pool_probs.argmax(axis=1))
        assert (model.pool_probs.argmax(axis=1) == pool_y).mean() > 0.6  # digits with 100 labels; chance 0.1
    nb, lda = evidence.models[:2]
    np.testing.assert_array_equal(nb.pool_features, pool_x.astype(np.float32))  # representation: the inputs
    assert nb.labeled_features.shape == x.shape
    # GaussianNB: theta_ and var_ (10 x 20 each) and class_prior_/class_count_ (10 each)
    assert nb.n_parameters == 2 * 10 * 20 + 2 * 10
    assert evidence.feature_model == int(np.argmax([m.n_parameters for m in evidence.models]))


def test_learner_evidence_is_deterministic_and_drawn_from_the_seed(digits_flat):
    x, y, pool_x, _ = _arrays(digits_flat)
    models = {"tree": DecisionTreeClassifier(max_depth=6), "nb": GaussianNB()}
    first = learner_evidence(models, x, y, pool_x, n_classes=10, seed=3)
    again = learner_evidence(models, x, y, pool_x, n_classes=10, seed=3)
    other = learner_evidence(models, x, y, pool_x, n_classes=10, seed=4)
    for a, b in zip(first.models, again.models):
        np.testing.assert_array_equal(a.snapshot_predictions, b.snapshot_predictions)
        np.testing.assert_array_equal(a.pool_probs, b.pool_probs)
    # bootstrap resamples (and the tree's random_state) come from the seed
    assert not np.array_equal(first.models[0].snapshot_predictions, other.models[0].snapshot_predictions)
    assert models["tree"].random_state is None and not hasattr(models["tree"], "tree_"), "the template is untouched"
    with pytest.raises(ValueError, match="out of range"):
        select_on_evidence(first, budget=len(pool_x) + 1)
    with pytest.raises(ValueError, match="beta"):
        select_on_evidence(first, budget=15, options={"beta": "high"})
    selection = select_on_evidence(first, budget=15, seed=0)
    assert len(np.unique(selection.indices)) == 15
    np.testing.assert_array_equal(select_on_evidence(again, budget=15, seed=0).indices, selection.indices)


def test_estimator_gets_the_round_seed_and_one_thread():
    from sklearn.ensemble import ExtraTreesClassifier

    fresh = EstimatorLearner(ExtraTreesClassifier(n_estimators=5, n_jobs=4)).estimator("classification", 11)
    assert fresh.random_state == 11 and fresh.n_jobs == 1 and fresh.n_estimators == 5
    assert EstimatorLearner(GaussianNB()).estimator("classification", 11).get_params() == GaussianNB().get_params()


def test_a_classifier_without_predict_proba_is_refused_with_the_fix(digits_flat):
    x, y, pool_x, _ = _arrays(digits_flat)
    with pytest.raises(ValueError, match=r"model 'svm': LinearSVC has no predict_proba.*CalibratedClassifierCV"):
        learner_evidence({"nb": GaussianNB(), "svm": LinearSVC()}, x, y, pool_x, n_classes=10, seed=0)
    with pytest.raises(ValueError, match="CalibratedClassifierCV"):
        sklearn_zoo({"svm": LinearSVC()})
    # the suggested fix works
    evidence = learner_evidence({"svm": CalibratedClassifierCV(LinearSVC(), cv=3)}, x, y, pool_x, n_classes=10, seed=0)
    assert evidence.models[0].pool_probs.shape == (len(pool_x), 10)


def test_svc_advice_is_the_calibrated_wrapper_not_the_deprecated_probability_flag(digits_flat):
    x, y, pool_x, _ = _arrays(digits_flat)
    with pytest.raises(ValueError) as refused:
        learner_evidence({"svc": SVC()}, x, y, pool_x, n_classes=10, seed=0)
    message = str(refused.value)
    assert "CalibratedClassifierCV(SVC(...), ensemble=False)" in message
    assert "deprecates SVC(probability=True)" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning from the suggested wrapper, in any fit of the committee
        evidence = learner_evidence({"svc": CalibratedClassifierCV(SVC(), cv=3, ensemble=False)}, x, y, pool_x,
                                    n_classes=10, seed=0)
    assert evidence.models[0].pool_probs.shape == (len(pool_x), 10)


def test_wrong_kinds_of_models_and_arrays_are_refused(digits_flat):
    x, y, pool_x, _ = _arrays(digits_flat)
    with pytest.raises(TypeError, match="not a scikit-learn estimator: it has no fit"):
        EstimatorLearner(object())
    with pytest.raises(ValueError, match="committee must be a positive integer"):
        EstimatorLearner(GaussianNB(), committee=0)
    with pytest.raises(ValueError, match="LinearRegression is a regressor"):
        sklearn_zoo({"ols": LinearRegression()})
    with pytest.raises(ValueError, match="at least one model"):
        learner_evidence({}, x, y, pool_x, n_classes=10, seed=0)
    with pytest.raises(ValueError, match="same number of columns"):
        learner_evidence({"nb": GaussianNB()}, x, y, pool_x[:, :5], n_classes=10, seed=0)
    with pytest.raises(ValueError, match=r"outside 0\.\.4"):
        learner_evidence({"nb": GaussianNB()}, x, y, pool_x, n_classes=5, seed=0)
    with pytest.raises(ValueError, match="single class"):
        learner_evidence({"nb": GaussianNB()}, x[y == 3], y[y == 3], pool_x, n_classes=10, seed=0)


def test_sklearn_zoo_table_and_a_pipeline_size():
    specs = sklearn_zoo({"nb": GaussianNB(), "scaled-lr": make_pipeline(StandardScaler(), LogisticRegression()),
                         "k-nn": KNNLearner()}, pca_components=12, resolution=8, n_outputs=10)
    table = zoo_table(specs)
    assert table["name"].tolist() == ["nb", "scaled-lr", "k-nn"]
    assert table["arch"].tolist()[0] == "estimator(GaussianNB(), committee=4)"
    assert table["feature_dim"].tolist() == [12, 12, 12] and set(table["resolution"]) == {8}
    assert all(s.kind == "sklearn" and s.pca_components == 12 for s in specs)
    learner = as_learner(make_pipeline(StandardScaler(), LogisticRegression()))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((60, 12)), np.arange(60) % 3
    fitted = learner.estimator("classification", 0).fit(x, y)
    # scaler mean_, var_, scale_ (12 each); logistic coef_ (3 x 12) and intercept_ (3)
    assert learner.n_parameters(fitted) == 3 * 12 + 3 * 12 + 3


def test_user_estimators_in_the_loop(tmp_path):
    profile = profile_from_dict({
        "name": "estimators", "seeds": [0], "threads": 1, "progress": False, "execution": {"workers": 1},
        "classification": {"datasets": ["digits"], "train_size": 240, "test_size": 80, "zoo": "sklearn-smoke",
                           "initial_labels": 30, "query_size": 20, "rounds": 1, "strategies": ["diam"]}})
    zoo = sklearn_zoo({"gaussian-nb": GaussianNB(), "lda": LinearDiscriminantAnalysis()}, pca_components=10,
                      resolution=8)
    first = run_task(profile, "classification", tmp_path / "a", zoo=zoo)[0]
    second = run_task(profile, "classification", tmp_path / "b", zoo=zoo)[0]
    curve = pd.read_csv(first / "curve.csv")
    assert sorted(curve["model"].unique()) == ["gaussian-nb", "lda"]
    assert curve.query("round == 1")["value"].min() > 0.3  # 50 digits labels; chance is 0.1
    pd.testing.assert_frame_equal(curve, pd.read_csv(second / "curve.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(first / "queries.csv"), pd.read_csv(second / "queries.csv"))
    meta = json.loads((first / "run.json").read_text())
    assert [row["arch"] for row in meta["model_info"]] == ["estimator(GaussianNB(), committee=4)",
                                                          "estimator(LinearDiscriminantAnalysis(), committee=4)"]


def test_learner_accuracy_fits_the_models_learner_evidence_fits(digits_flat):
    x, y, pool_x, pool_y = _arrays(digits_flat)
    models = {"tree": DecisionTreeClassifier(max_depth=6), "nb": GaussianNB()}
    accuracy = learner_accuracy(models, x, y, pool_x, pool_y, n_classes=10, seed=5)
    evidence = learner_evidence(models, x, y, pool_x, n_classes=10, seed=5)
    for model in evidence.models:
        assert accuracy[model.name] == pytest.approx((model.pool_probs.argmax(axis=1) == pool_y).mean())
    assert list(accuracy) == ["tree", "nb"] and accuracy["nb"] > 0.6


def test_estimators_without_coef_arrays_have_their_size_counted(digits_flat):
    """An MLP's weights, a forest's nodes and k-NN's stored points count, as the built-in learners count them."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier

    from diamlib.zoo.sklearn_models import MLPLearner, RandomForestLearner

    x, y, pool_x, _ = _arrays(digits_flat)
    models = {"nb": GaussianNB(), "mlp": MLPClassifier((16,), max_iter=30),
              "forest": RandomForestClassifier(n_estimators=5, max_leaf_nodes=8), "k-nn": KNeighborsClassifier(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP stops before it converges
        evidence = learner_evidence(models, x, y, pool_x, n_classes=10, seed=0)
        fitted = {name: EstimatorLearner(model).estimator("classification", 0).fit(x, y)
                  for name, model in models.items()}
    sizes = {m.name: m.n_parameters for m in evidence.models}
    assert sizes["mlp"] == 20 * 16 + 16 + 16 * 10 + 10
    assert sizes["k-nn"] == len(x) * x.shape[1] + len(x)  # stored points and their labels
    assert sizes["forest"] > 5 * 8  # a split and a leaf's class values per node of every tree
    for name, built_in in (("mlp", MLPLearner()), ("forest", RandomForestLearner()), ("k-nn", KNNLearner())):
        assert EstimatorLearner(models[name]).n_parameters(fitted[name]) == built_in.n_parameters(fitted[name])
    assert evidence.models[evidence.feature_model].name == "k-nn" == max(sizes, key=sizes.get)
