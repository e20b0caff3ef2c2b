"""One contract test over every registered strategy, per task."""
from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence, Selection
from diamlib.strategies.registry import STRATEGIES, make_selector, strategy_names

CASES = [(task, name) for task in ("classification", "regression") for name in strategy_names(task)]
FEATURE_STRATEGIES = {"coreset", "diam", "diam-svd", "diam-leverage", "badge", "bait"}


def _arrays(evidence: Evidence) -> list:
    out = [evidence.unlabeled_indices.copy()]
    for m in evidence.models:
        out += [None if a is None else np.array(a, copy=True)
                for a in (m.pool_features, m.labeled_features, m.pool_probs, m.snapshot_predictions, m.pool_outputs)]
    return out


def _same(a: list, b: list) -> bool:
    return all((x is None and y is None) or (x.dtype == y.dtype and np.array_equal(x, y)) for x, y in zip(a, b))


def _with_model(evidence: Evidence, position: int, **changes) -> Evidence:
    models = list(evidence.models)
    fields = {k: getattr(models[position], k) for k in ModelEvidence.__dataclass_fields__}
    models[position] = ModelEvidence(**{**fields, **changes})
    return Evidence(task=evidence.task, unlabeled_indices=evidence.unlabeled_indices, models=tuple(models),
                    feature_model=evidence.feature_model)


@pytest.mark.parametrize("task,name", CASES)
def test_returns_budget_distinct_unlabeled_indices(task, name, make_evidence):
    evidence = make_evidence(task)
    selection = make_selector(name, task)(evidence, budget=7, rng=np.random.default_rng(3))
    assert isinstance(selection, Selection)
    assert selection.indices.dtype == np.int64
    assert selection.indices.shape == (7,)
    assert np.unique(selection.indices).size == 7
    assert np.isin(selection.indices, evidence.unlabeled_indices).all()
    if selection.scores is not None:
        assert selection.scores.shape == (evidence.n_pool,)
        assert np.isfinite(selection.scores).all()
    assert isinstance(selection.info["filled_at_random"], int) and selection.info["filled_at_random"] >= 0
    json.dumps(selection.info)  # the run log stores it as JSON


@pytest.mark.parametrize("task,name", CASES)
def test_same_seed_same_result_and_inputs_unchanged(task, name, make_evidence):
    evidence = make_evidence(task, seed=5)
    before = _arrays(evidence)
    selector = make_selector(name, task)
    first = selector(evidence, budget=5, rng=np.random.default_rng(11))
    second = selector(evidence, budget=5, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(first.indices, second.indices)
    if first.scores is not None:
        np.testing.assert_array_equal(first.scores, second.scores)
    assert first.info == second.info
    assert _same(before, _arrays(evidence))


@pytest.mark.parametrize("task,name", CASES)
def test_budget_equal_to_pool_returns_whole_pool(task, name, make_evidence):
    evidence = make_evidence(task, n_pool=15)
    selection = make_selector(name, task)(evidence, budget=15, rng=np.random.default_rng(0))
    assert sorted(selection.indices.tolist()) == sorted(evidence.unlabeled_indices.tolist())


@pytest.mark.parametrize("task,name", CASES)
def test_single_point_pool(task, name, make_evidence):
    evidence = make_evidence(task, n_pool=1)
    selection = make_selector(name, task)(evidence, budget=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(selection.indices, evidence.unlabeled_indices)


@pytest.mark.parametrize("task,name", CASES)
@pytest.mark.parametrize("budget", [0, -1, 41])
def test_budget_out_of_range_raises(task, name, budget, make_evidence):
    evidence = make_evidence(task, n_pool=40)
    with pytest.raises(ValueError, match="budget must be between 1 and the pool size 40"):
        make_selector(name, task)(evidence, budget=budget, rng=np.random.default_rng(0))


@pytest.mark.parametrize("task,name", CASES)
def test_bad_budget_type_or_rng_raises(task, name, make_evidence):
    evidence = make_evidence(task)
    selector = make_selector(name, task)
    with pytest.raises(TypeError, match="budget must be an integer"):
        selector(evidence, budget=2.0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        selector(evidence, budget=2, rng=0)


@pytest.mark.parametrize("task,name", [c for c in CASES if c[1] in FEATURE_STRATEGIES])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_raise_naming_the_model(task, name, bad, make_evidence):
    evidence = make_evidence(task)
    target = evidence.feature_model
    pool = evidence.models[target].pool_features.copy()
    pool[3, 1] = bad
    broken = _with_model(evidence, target, pool_features=pool)
    with pytest.raises(ValueError, match=f"model 'm{target}'.*NaN or inf"):
        make_selector(name, task)(broken, budget=3, rng=np.random.default_rng(0))


@pytest.mark.parametrize("task,name", [c for c in CASES if STRATEGIES[c[1]].tasks == {c[0]}])
def test_wrong_task_evidence_raises(task, name, make_evidence):
    other = "regression" if task == "classification" else "classification"
    with pytest.raises(ValueError, match=f"for {task}"):
        STRATEGIES[name].fn(make_evidence(other), budget=2, rng=np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_spec_options_are_the_keyword_options_with_defaults(name):
    spec = STRATEGIES[name]
    parameters = inspect.signature(spec.fn).parameters
    assert list(parameters)[:3] == ["evidence", "budget", "rng"]
    assert parameters["budget"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["rng"].kind is inspect.Parameter.KEYWORD_ONLY
    assert spec.options == tuple(list(parameters)[3:])
    assert all(parameters[o].default is not inspect.Parameter.empty for o in spec.options)
    assert spec.description


def _degenerate_evidence(name: str, make_evidence) -> tuple[Evidence, dict, int]:
    """Evidence on which ``name`` runs out of candidates; (evidence, options, expected fill for budget 4)."""
    if name == "cal":
        evidence = make_evidence("classification", n_pool=10)
        models = [ModelEvidence(name=m.name, pool_features=m.pool_features, labeled_features=m.labeled_features,
                                pool_probs=m.pool_probs, snapshot_predictions=np.zeros_like(m.snapshot_predictions))
                  for m in evidence.models]
        snapshots = models[0].snapshot_predictions.copy()
        snapshots[-1, 2] = 1  # only pool position 2 is in a disagreement region
        models[0] = ModelEvidence(name="m0", pool_features=models[0].pool_features,
                                  labeled_features=models[0].labeled_features, pool_probs=models[0].pool_probs,
                                  snapshot_predictions=snapshots)
        return Evidence("classification", evidence.unlabeled_indices, tuple(models), 0), {}, 3
    evidence = make_evidence("regression", n_pool=6, n_models=1)
    model = evidence.models[0]
    pool = np.zeros((6, model.pool_features.shape[1]), dtype=np.float32)
    if name == "badge":  # two distinct rows, each three times: D^2 sampling exhausts after two picks
        pool[0::2] = model.pool_features[0]
        pool[1::2] = model.pool_features[1]
        options = {}
    else:  # bait: zero rows have zero posterior features and score 0 (no bias gradient)
        pool[:2] = model.pool_features[:2]
        options = {"with_bias": False}
    return _with_model(evidence, 0, pool_features=pool), options, 2


@pytest.mark.parametrize("name", ["cal", "badge", "bait"])
def test_fills_at_random_when_candidates_run_out(name, make_evidence):
    evidence, options, expected_fill = _degenerate_evidence(name, make_evidence)
    selector = make_selector(name, evidence.task, options)
    selection = selector(evidence, budget=4, rng=np.random.default_rng(0))
    assert selection.info["filled_at_random"] == expected_fill
    assert np.unique(selection.indices).size == 4
    assert np.isin(selection.indices, evidence.unlabeled_indices).all()
    fills = {tuple(selector(evidence, budget=4, rng=np.random.default_rng(s)).indices[-expected_fill:])
             for s in range(8)}
    assert len(fills) > 1  # the fill is random, drawn from rng
