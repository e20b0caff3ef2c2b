"""The active-learning loop: result layout, determinism, resume after interruption, BYO models."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import diamlib.experiment.loop as loop
from diamlib.experiment.grid import run_task
from diamlib.runstore import RunConflictError


def read_run(folder):
    return (pd.read_csv(folder / "curve.csv"), pd.read_csv(folder / "queries.csv"),
            json.loads((folder / "run.json").read_text()))


def test_loop_with_user_defined_zoo_writes_the_contract_layout(tmp_path, user_zoo, make_profile):
    folders = run_task(make_profile(), "classification", tmp_path, zoo=user_zoo)
    assert [f.relative_to(tmp_path).as_posix() for f in folders] == [
        "classification/digits/random/seed0", "classification/digits/diam/seed0"]
    curve, queries, meta = read_run(folders[1])
    assert list(curve.columns) == ["round", "n_labeled", "model", "metric", "value"]
    assert list(queries.columns) == ["round", "index"]
    assert sorted(curve["model"].unique()) == ["cnn-4", "cnn-8", "mlp"]
    assert set(curve["metric"]) == {"accuracy"} and curve["value"].between(0, 1).all()
    assert curve.groupby("round")["n_labeled"].first().tolist() == [30, 50, 70]
    assert queries.groupby("round").size().tolist() == [30, 20, 20]
    assert queries["index"].is_unique
    assert meta["complete"] and meta["completed_rounds"] == 2 and meta["strategy"] == "diam"
    assert {"training", "evidence", "snapshots", "final_pass", "test", "selection"} <= set(meta["rounds"][0]["seconds"])
    assert meta["device_options"] == {"channels_last": False, "eval_batch_size": "auto", "cuda_graphs": False}
    assert "torch" in meta["versions"]


def test_round_zero_is_shared_by_all_strategies(tmp_path, user_zoo, make_profile):
    folders = run_task(make_profile(), "classification", tmp_path, zoo=user_zoo)
    curves = [read_run(f)[0] for f in folders]
    queries = [read_run(f)[1] for f in folders]
    pd.testing.assert_frame_equal(curves[0][curves[0]["round"] == 0], curves[1][curves[1]["round"] == 0])
    assert set(queries[0].query("round == 0")["index"]) == set(queries[1].query("round == 0")["index"])


def test_same_seed_gives_identical_runs(tmp_path, user_zoo, make_profile):
    first = run_task(make_profile(strategies=("diam",)), "classification", tmp_path / "a", zoo=user_zoo)[0]
    second = run_task(make_profile(strategies=("diam",)), "classification", tmp_path / "b", zoo=user_zoo)[0]
    pd.testing.assert_frame_equal(read_run(first)[1], read_run(second)[1])
    pd.testing.assert_frame_equal(read_run(first)[0], read_run(second)[0])


def test_interrupted_run_resumes_after_last_completed_round(tmp_path, user_zoo, monkeypatch, make_profile):
    profile = make_profile(strategies=("entropy",))
    reference = run_task(profile, "classification", tmp_path / "reference", zoo=user_zoo)[0]

    real_train_round = loop.train_round
    trained_rounds = []
    crash = {"armed": True}

    def crash_in_round_two(ctx, labeled, seed, round_index, **kwargs):
        trained_rounds.append(round_index)
        if round_index == 2 and crash["armed"]:
            crash["armed"] = False
            raise KeyboardInterrupt("simulated interruption")
        return real_train_round(ctx, labeled, seed, round_index, **kwargs)

    monkeypatch.setattr(loop, "train_round", crash_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        run_task(profile, "classification", tmp_path / "run", zoo=user_zoo)
    folder = tmp_path / "run" / "classification" / "digits" / "entropy" / "seed0"
    meta = json.loads((folder / "run.json").read_text())
    assert meta["completed_rounds"] == 1 and not meta["complete"]

    trained_rounds.clear()
    run_task(profile, "classification", tmp_path / "run", zoo=user_zoo)
    assert trained_rounds == [2], "only the unfinished round is trained again"
    for got, want in zip(read_run(folder)[:2], read_run(reference)[:2]):
        pd.testing.assert_frame_equal(got, want)

    trained_rounds.clear()
    run_task(profile, "classification", tmp_path / "run", zoo=user_zoo)
    assert trained_rounds == [], "a finished run is skipped"


def test_changed_parameters_do_not_mix_with_old_results(tmp_path, user_zoo, make_profile):
    run_task(make_profile(strategies=("random",)), "classification", tmp_path, zoo=user_zoo)
    with pytest.raises(RunConflictError, match=r"other settings(.|\n)*rounds: 2 there, 1 now"):
        run_task(make_profile(strategies=("random",), rounds=1), "classification", tmp_path, zoo=user_zoo)


def test_regression_loop_records_mse_and_mae(tmp_path, user_zoo, make_profile):
    profile = make_profile("regression", strategies=("diam-svd",), rounds=1)
    folder = run_task(profile, "regression", tmp_path, zoo=user_zoo)[0]
    curve, queries, meta = read_run(folder)
    assert folder.relative_to(tmp_path).as_posix() == "regression/landmarks-digits/diam-svd/seed0"
    assert set(curve["metric"]) == {"mse", "mae"} and (curve["value"] >= 0).all()
    assert len(queries) == 50 and meta["complete"]


def test_regression_rounds_record_the_constant_predictor_and_flag_models_not_better(tmp_path, user_zoo,
                                                                                     make_profile, monkeypatch):
    from diamlib.reporting.results import load_constant_predictor, load_results
    from diamlib.reporting.tables import models_worse_than_constant

    profile = make_profile("regression", strategies=("random",), rounds=1)
    folder = run_task(profile, "regression", tmp_path, zoo=user_zoo)[0]
    curve, queries, meta = read_run(folder)
    for log in meta["rounds"]:
        labeled = queries[queries["round"] <= log["round"]]["index"].to_numpy()
        assert set(log["constant_predictor"]) == {"mse", "mae"} and log["constant_predictor"]["mse"] > 0
        mse = curve[(curve["round"] == log["round"]) & (curve["metric"] == "mse")].set_index("model")["value"]
        assert log["worse_than_constant"] == [m for m, v in mse.items() if v >= log["constant_predictor"]["mse"]]
        assert len(labeled) == log["n_labeled"]
    constant = load_constant_predictor(tmp_path)
    assert len(constant) == 2 * 2 and set(constant["metric"]) == {"mse", "mae"}
    flagged = models_worse_than_constant(load_results(tmp_path, task="regression"), constant)
    assert len(flagged) == sum(len(log["worse_than_constant"]) for log in meta["rounds"])

    # a model that predicts nothing useful is flagged in run.json and in the run's log
    monkeypatch.setattr(loop, "evaluation_metrics", lambda task, outputs, targets: {"mse": 0.0, "mae": 0.0})
    other = tmp_path / "other"
    run_task(profile, "regression", other, zoo=user_zoo)
    meta = json.loads((other / folder.relative_to(tmp_path) / "run.json").read_text())
    assert all(sorted(log["worse_than_constant"]) == sorted(meta["models"]) for log in meta["rounds"])
    assert "not better than the constant predictor" in (other / folder.relative_to(tmp_path) / "log.txt").read_text()


def test_strategies_get_only_the_evidence_they_declare(tmp_path, user_zoo, make_profile):
    from diamlib.evidence import Selection
    from diamlib.strategies.registry import STRATEGIES, StrategySpec, register

    seen = []

    def select_probs_only(evidence, *, budget, rng):
        seen.append({f: any(getattr(m, f) is not None for m in evidence.models)
                     for f in ("snapshot_predictions", "pool_probs", "pool_features", "labeled_features")})
        return Selection(indices=evidence.unlabeled_indices[:budget])

    saved = dict(STRATEGIES)
    register(StrategySpec("probs-only", select_probs_only, "Probs only", "uncertainty",
                          frozenset({"classification"}), frozenset({"pool_probs"}), "test strategy"))
    try:
        folder = run_task(make_profile(strategies=("probs-only",)), "classification", tmp_path, zoo=user_zoo)[0]
    finally:
        STRATEGIES.clear()
        STRATEGIES.update(saved)
    assert seen == [{"snapshot_predictions": False, "pool_probs": True, "pool_features": False,
                     "labeled_features": False}] * 2
    assert read_run(folder)[2]["complete"]


def test_last_round_computes_no_evidence_and_gives_the_same_metrics(tmp_path, user_zoo, make_profile, monkeypatch):
    asked = []
    original = loop.train_round

    def recording_train_round(ctx, labeled, seed, round_index, *, evidence=None):
        asked.append((round_index, None if evidence is None else set(evidence)))
        return original(ctx, labeled, seed, round_index, evidence=evidence)

    monkeypatch.setattr(loop, "train_round", recording_train_round)
    folder = run_task(make_profile(strategies=("diam",)), "classification", tmp_path / "a", zoo=user_zoo)[0]
    assert asked[-1] == (2, set())  # the last round: nothing is selected after it
    assert asked[1] == (1, {"snapshot_predictions", "pool_features"})
    assert json.loads((folder / "run.json").read_text())["rounds"][-1]["seconds"]["evidence"] < 0.01
    # the test metrics do not depend on which evidence was computed
    last = pd.read_csv(folder / "curve.csv").query("round == 2").reset_index(drop=True)
    monkeypatch.setattr(loop, "train_round", lambda c, l, s, r, *, evidence=None: original(c, l, s, r, evidence=None))
    full = run_task(make_profile(strategies=("diam",)), "classification", tmp_path / "b", zoo=user_zoo)[0]
    pd.testing.assert_frame_equal(last, pd.read_csv(full / "curve.csv").query("round == 2").reset_index(drop=True))
