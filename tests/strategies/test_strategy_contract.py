"""One contract test over every registered strategy, per task, with every option value that changes its code path."""
from __future__ import annotations

import inspect
import json
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from diamlib.config import ConfigError, apply_overrides
from diamlib.evidence import HOW_TO_COMPUTE, TASKS, Evidence, ModelEvidence, Selection
from diamlib.experiment.setup import profile_from_dict
from diamlib.reporting import plots, stats, styles
from diamlib.reporting.results import TIDY_COLUMNS
from diamlib.strategies._common import finish_selection
from diamlib.strategies.registry import EVIDENCE_KINDS, FAMILIES, STRATEGIES, StrategySpec, register, strategy_names
from diamlib.strategies.run import make_selector, run_strategy


def contract_cases() -> list[tuple[str, str, dict]]:
    """(task, name, options): every registered strategy with its defaults, then each code-path variant."""
    return [(task, name, options) for task in TASKS for name in strategy_names(task)
            for options in [{}, *STRATEGIES[name].option_variants()]]


def _case_id(case: tuple[str, str, dict]) -> str:
    task, name, options = case
    return "-".join([task[:5], name, *(f"{k}={v}" for k, v in options.items())])


CASES = contract_cases()
IDS = [_case_id(c) for c in CASES]
DEFAULT_CASES = [(task, name) for task, name, options in CASES if not options]


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


@pytest.mark.parametrize("task,name,options", CASES, ids=IDS)
def test_returns_budget_distinct_unlabeled_indices(task, name, options, make_evidence):
    evidence = make_evidence(task)
    selection = make_selector(name, task, options)(evidence, budget=7, rng=np.random.default_rng(3))
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


@pytest.mark.parametrize("task,name,options", CASES, ids=IDS)
def test_same_seed_same_result_and_inputs_unchanged(task, name, options, make_evidence):
    evidence = make_evidence(task, seed=5)
    before = _arrays(evidence)
    selector = make_selector(name, task, options)
    first = selector(evidence, budget=5, rng=np.random.default_rng(11))
    second = selector(evidence, budget=5, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(first.indices, second.indices)
    if first.scores is not None:
        np.testing.assert_array_equal(first.scores, second.scores)
    assert first.info == second.info
    assert _same(before, _arrays(evidence))


@pytest.mark.parametrize("task,name,options", CASES, ids=IDS)
def test_budget_equal_to_pool_returns_whole_pool(task, name, options, make_evidence):
    evidence = make_evidence(task, n_pool=15)
    selection = make_selector(name, task, options)(evidence, budget=15, rng=np.random.default_rng(0))
    assert sorted(selection.indices.tolist()) == sorted(evidence.unlabeled_indices.tolist())


@pytest.mark.parametrize("task,name,options", CASES, ids=IDS)
def test_single_point_pool(task, name, options, make_evidence):
    evidence = make_evidence(task, n_pool=1)
    selection = make_selector(name, task, options)(evidence, budget=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(selection.indices, evidence.unlabeled_indices)


@pytest.mark.parametrize("task,name", DEFAULT_CASES)
@pytest.mark.parametrize("budget", [0, -1, 41])
def test_budget_out_of_range_raises(task, name, budget, make_evidence):
    evidence = make_evidence(task, n_pool=40)
    with pytest.raises(ValueError, match="budget must be between 1 and the pool size 40"):
        make_selector(name, task)(evidence, budget=budget, rng=np.random.default_rng(0))


@pytest.mark.parametrize("task,name", DEFAULT_CASES)
def test_bad_budget_type_or_rng_raises(task, name, make_evidence):
    evidence = make_evidence(task)
    selector = make_selector(name, task)
    with pytest.raises(TypeError, match="budget must be an integer"):
        selector(evidence, budget=2.0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        selector(evidence, budget=2, rng=0)


@pytest.mark.parametrize("task,name", [c for c in DEFAULT_CASES if "pool_features" in STRATEGIES[c[1]].evidence])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_raise_naming_the_model(task, name, bad, make_evidence):
    evidence = make_evidence(task)
    target = evidence.feature_model
    pool = evidence.models[target].pool_features.copy()
    pool[3, 1] = bad
    broken = _with_model(evidence, target, pool_features=pool)
    with pytest.raises(ValueError, match=f"model 'm{target}'.*NaN or inf"):
        make_selector(name, task)(broken, budget=3, rng=np.random.default_rng(0))


@pytest.mark.parametrize("task,name", [c for c in DEFAULT_CASES if STRATEGIES[c[1]].tasks == {c[0]}])
def test_wrong_task_evidence_raises(task, name, make_evidence):
    other = "regression" if task == "classification" else "classification"
    with pytest.raises(ValueError, match=f"for {task} only, but the evidence is for {other}.*choose a {other} "
                                         f"strategy: {strategy_names(other)[0]}"):
        run_strategy(name, make_evidence(other), budget=2, rng=np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_spec_describes_the_function(name):
    spec = STRATEGIES[name]
    parameters = inspect.signature(spec.fn).parameters
    assert list(parameters)[:3] == ["evidence", "budget", "rng"]
    assert parameters["budget"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["rng"].kind is inspect.Parameter.KEYWORD_ONLY
    assert spec.options == tuple(list(parameters)[3:]) == tuple(spec.options_model.model_fields)
    defaults = spec.options_model().model_dump()
    assert defaults == {o: parameters[o].default for o in spec.options}
    assert spec.description and spec.display_name and spec.family in FAMILIES
    assert set(spec.evidence) <= set(EVIDENCE_KINDS)


@pytest.mark.parametrize("task,name", DEFAULT_CASES)
def test_reads_only_the_evidence_it_declares(task, name, make_evidence):
    """Optional per-model arrays a strategy does not declare are dropped: it must still run."""
    evidence = make_evidence(task)
    declared = STRATEGIES[name].evidence
    models = tuple(ModelEvidence(**{k: getattr(m, k) for k in ModelEvidence.__dataclass_fields__
                                    if k in ("name", "n_parameters", "pool_features", "labeled_features")
                                    or k in declared}) for m in evidence.models)
    stripped = Evidence(task=task, unlabeled_indices=evidence.unlabeled_indices, models=models,
                        feature_model=evidence.feature_model)
    expected = make_selector(name, task)(evidence, budget=5, rng=np.random.default_rng(2))
    selection = make_selector(name, task)(stripped, budget=5, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(selection.indices, expected.indices)


def test_every_diam_solver_and_the_approximate_knn_are_contract_cases():
    diam = [options for _, name, options in CASES if name == "diam"]
    solver = STRATEGIES["diam"].options_model.model_fields["solver"]
    assert [{"solver": s} for s in solver.annotation.__args__ if s != solver.default] == \
        [o for o in diam if "solver" in o]
    assert {"knn_approx_dim": 2} in diam


def test_options_are_checked_when_binding(make_evidence):
    with pytest.raises(ValueError, match="option 'beta' = 0.5: Input should be less than 0"):
        make_selector("diam", "classification", {"beta": 0.5})
    with pytest.raises(ValueError, match="no option 'knn_fractoin'. Did you mean 'knn_fraction'"):
        make_selector("diam", "classification", {"knn_fractoin": 0.1})
    assert make_selector("diam", "classification", {"knn_fraction": 1}).keywords == {"knn_fraction": 1.0}


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


# --------------------------------------------------------------------------- a new strategy needs one entry
def select_toy(evidence: Evidence, *, budget: int, rng: np.random.Generator,
               gain: Annotated[float, Field(gt=0)] = 1.0, end: Literal["first", "last"] = "first") -> Selection:
    """Toy strategy: the first (or last) pool positions, scored by ``gain``."""
    order = np.arange(evidence.n_pool) if end == "first" else np.arange(evidence.n_pool)[::-1]
    scores = gain * (evidence.n_pool - np.argsort(order)).astype(np.float64)
    return finish_selection(evidence, order, budget=budget, rng=rng, scores=scores)


@pytest.fixture
def toy_strategy():
    """Register ``toy`` for both tasks; the registry is restored afterwards."""
    saved = dict(STRATEGIES)
    spec = register(StrategySpec("toy", select_toy, "Toy", "passive", frozenset(TASKS), frozenset(),
                                 "the first pool positions"))
    yield spec
    STRATEGIES.clear()
    STRATEGIES.update(saved)


def _tidy(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Tidy rows (source ours, one seed) from ``{method: array (n_rounds, n_models)}``."""
    rows = [{"source": "ours", "task": "classification", "dataset": "digits", "method": method,
             "strategy": "diam" if method.startswith("diam") else method, "seed": 0, "n_models": array.shape[1],
             "round": r, "n_labeled": 10 * (r + 1), "model": f"m{m}", "model_index": m, "metric": "accuracy",
             "value": array[r, m], "beta": np.nan}
            for method, array in values.items() for r in range(array.shape[0]) for m in range(array.shape[1])]
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


def test_a_registered_strategy_reaches_every_consumer(toy_strategy, make_evidence):
    # the contract test's parameters, and the contract holds for each of them
    toy_cases = [c for c in contract_cases() if c[1] == "toy"]
    assert toy_cases == [(t, "toy", o) for t in TASKS for o in ({}, {"end": "last"})]
    for task, name, options in toy_cases:
        test_returns_budget_distinct_unlabeled_indices(task, name, options, make_evidence)
        test_same_seed_same_result_and_inputs_unchanged(task, name, options, make_evidence)
    # profile validation
    profile = {"name": "toy", "classification": {
        "datasets": ["digits"], "train_size": 300, "zoo": "smoke3", "initial_labels": 20, "query_size": 10,
        "rounds": 1, "strategies": ["random", {"strategy": "toy", "label": "toy-last", "options": {"end": "last"}}]}}
    assert profile_from_dict(profile).classification.strategies[1].strategy == "toy"
    bad = apply_overrides(profile, {"classification.strategy_options": {"toy": {"gain": -2.0}}})
    with pytest.raises(ConfigError, match=r"toy.yaml: classification.strategy_options.toy: strategy 'toy', "
                                          r"option 'gain' = -2.0: Input should be greater than 0"):
        profile_from_dict(bad, source="toy.yaml")
    with pytest.raises(ConfigError, match="no option 'gian'. Did you mean 'gain'"):
        profile_from_dict(apply_overrides(profile, {"classification.strategy_options": {"toy": {"gian": 2.0}}}))
    # the display name; its colour: one of the style's extra colours until the style names it
    assert plots.display_name("toy") == "Toy"
    assert "toy" not in styles.palette() and styles.method_colours(["diam", "toy"])["toy"] in styles.EXTRA_COLOURS
    # the W/T/L tables: listed in registry order (after the registered baselines, before other names)
    base = np.array([[0.5, 0.6, 0.7, 0.8]] * 3) + np.arange(3)[:, None] * 0.05
    table = _tidy({"diam": base + [[0], [0.05], [0.1]], "zz-baseline": base, "toy": base, "random": base})
    wtl = stats.wtl_table(stats.compare_all(table))
    assert list(wtl.index) == ["random", "toy", "zz-baseline", "W/T/L"]
    assert stats.order_methods(["zz-baseline", "toy", "diam"]) == ["diam", "toy", "zz-baseline"]


@pytest.mark.parametrize("task,name,array", [(t, n, a) for t, n in DEFAULT_CASES for a in sorted(STRATEGIES[n].evidence)])
def test_a_missing_array_is_named_with_how_to_compute_it(task, name, array, make_evidence):
    """The message tells the user which array to compute and how, not how to change the registry."""
    evidence = make_evidence(task)
    target = evidence.feature_model if STRATEGIES[name].reads_feature_model else 1
    broken = _with_model(evidence, target, **{array: None})
    with pytest.raises(ValueError) as caught:
        run_strategy(name, broken, budget=2, rng=np.random.default_rng(0))
    message = str(caught.value)
    assert f"model 'm{target}': {array} is missing, and strategy {name!r} reads it" in message
    assert HOW_TO_COMPUTE[array] in message and f"ModelEvidence({array}=...)" in message
    assert "registry" not in message
