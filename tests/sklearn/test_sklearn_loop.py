"""scikit-learn target models in the active-learning loop: layout, determinism, both tasks, mixed zoos."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from torch import nn

import diamlib.experiment.loop as loop
from diamlib.config import SKLEARN_DIR, sklearn_experiment
from diamlib.experiment.grid import run_task, task_context, GridSpec
from diamlib.experiment.setup import profile_from_dict
from diamlib.reporting.results import load_results
from diamlib.zoo import build_zoo, custom_zoo, wrap_module


def _section(**changes):
    section = {"datasets": ["digits"], "train_size": 240, "test_size": 80, "zoo": "sklearn-smoke",
               "initial_labels": 30, "query_size": 20, "rounds": 2, "strategies": ["random", "cal", "diam", "coreset"]}
    section.update(changes)
    return section


def _profile(**sections):
    return profile_from_dict({"name": "sklearntest", "seeds": [0], "threads": 1, "progress": False,
                              "execution": {"workers": 1}, **sections})


def test_sklearn_section_runs_under_its_own_folder_and_reads_back(tmp_path):
    profile = _profile(sklearn=_section(seeds=[0, 1]))
    folders = run_task(sklearn_experiment(profile), "classification", tmp_path / SKLEARN_DIR)
    assert [f.relative_to(tmp_path).as_posix() for f in folders] == [
        f"sklearn/classification/digits/{method}/seed{seed}"
        for seed in (0, 1) for method in ("random", "cal", "diam", "coreset")]
    curve = pd.read_csv(folders[2] / "curve.csv")
    assert sorted(curve["model"].unique()) == ["k-nn", "linear-svm", "mlp"]
    assert set(curve["metric"]) == {"accuracy"} and curve["value"].between(0, 1).all()
    assert curve.groupby("round")["n_labeled"].first().tolist() == [30, 50, 70]
    meta = json.loads((folders[2] / "run.json").read_text())
    assert [row["arch"].split("(")[0] for row in meta["model_info"]] == ["linear-svm", "k-nn", "mlp"]
    assert {"training", "evidence", "selection"} <= set(meta["rounds"][0]["seconds"])
    table = load_results(tmp_path / SKLEARN_DIR, task="classification")
    assert sorted(table["seed"].unique()) == [0, 1] and len(table["method"].unique()) == 4
    assert table.query("round == 2")["value"].mean() > 0.5  # 70 digits labels; chance is 0.1


def test_sklearn_runs_repeat_exactly(tmp_path):
    profile = sklearn_experiment(_profile(sklearn=_section(strategies=["diam"])))
    first = run_task(profile, "classification", tmp_path / "a")[0]
    second = run_task(profile, "classification", tmp_path / "b")[0]
    for name in ("curve.csv", "queries.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(first / name), pd.read_csv(second / name))


def test_round_evidence_has_only_the_requested_fields_and_dispatches_by_kind(tmp_path):
    profile = _profile(classification=_section(zoo="sklearn6"))
    spec = GridSpec(profile=profile, task="classification", profile_dir=tmp_path)
    ctx = task_context(spec, "digits")
    labeled = np.arange(0, 240, 4)
    evidence, rows, seconds, _ = loop.train_round(ctx, labeled, 0, 1, evidence=["pool_probs", "snapshot_predictions"])
    assert [m.name for m in evidence.models] == [s.name for s in build_zoo("sklearn6", n_outputs=10)]
    for model in evidence.models:
        assert model.pool_probs.shape == (evidence.n_pool, 10)
        assert model.snapshot_predictions.shape[1] == evidence.n_pool
        assert model.pool_features is None and model.labeled_features is None and model.pool_outputs is None
    assert evidence.models[evidence.feature_model].n_parameters == max(m.n_parameters for m in evidence.models)
    assert {r["metric"] for r in rows} == {"accuracy"} and seconds["training"] > 0
    train_x, test_x = ctx.flat_inputs(16, 40)
    assert train_x.shape == (240, 40) and test_x.shape == (80, 40)
    assert ctx.flat_inputs(16, 40)[0] is train_x, "the PCA inputs are computed once per context"


def test_regression_with_sklearn_regressors(tmp_path):
    profile = _profile(regression=_section(datasets=["landmarks-digits"], zoo="sklearn-reg", initial_labels=40,
                                           strategies=["diam-svd", "coreset", "random"]))
    folders = run_task(profile, "regression", tmp_path)
    curve = pd.read_csv(folders[0] / "curve.csv")
    assert sorted(curve["model"].unique()) == ["k-nn", "mlp", "random-forest", "ridge"]
    assert set(curve["metric"]) == {"mse", "mae"} and (curve["value"] > 0).all()
    assert curve.groupby("round")["n_labeled"].first().tolist() == [40, 60, 80]


def test_one_zoo_may_mix_networks_and_sklearn_models(tmp_path):
    network = custom_zoo({"mlp-net": lambda n_out: wrap_module(
        "mlp-net", nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU()), 16, n_out)}, resolution=8)
    zoo = network + build_zoo("sklearn-smoke", n_outputs=10)[:1]
    profile = _profile(classification={**_section(strategies=["diam"]), "training": {"epochs": 2, "batch_size": 16}})
    folder = run_task(profile, "classification", tmp_path, zoo=zoo)[0]
    curve = pd.read_csv(folder / "curve.csv")
    assert sorted(curve["model"].unique()) == ["linear-svm", "mlp-net"]


def test_two_dask_workers_write_the_same_bytes_as_one(tmp_path):
    """The seeds per (seed, round, model), one thread per learner: where a run executes does not matter."""
    profile = sklearn_experiment(_profile(sklearn=_section(seeds=[0, 1], strategies=["cal", "coreset"])))
    runs = {workers: run_task(profile, "classification", tmp_path / str(workers), workers=workers)
            for workers in (1, 2)}
    for one, two in zip(runs[1], runs[2]):
        for name in ("curve.csv", "queries.csv"):
            assert (one / name).read_bytes() == (two / name).read_bytes()


def test_every_round_records_the_stopping_rule_and_a_resumed_run_the_same(tmp_path):
    from diamlib.stopping import cohen_kappa

    profile = _profile(sklearn=_section(strategies=["diam"], rounds=3))
    experiment = sklearn_experiment(profile)
    folder = run_task(experiment, "classification", tmp_path / "a")[0]
    meta = json.loads((folder / "run.json").read_text())
    models = meta["models"]
    stopping = [r["stopping"] for r in sorted(meta["rounds"], key=lambda r: r["round"])]
    assert [sorted(s["models"]) for s in stopping] == [sorted(models)] * 4
    assert all(s["models"][m]["kappa"] is None for m in models for s in stopping[:1])  # round 0: nothing before
    ctx = task_context(GridSpec(profile=experiment, task="classification", profile_dir=tmp_path / "c"), "digits")
    stop_rows = loop.stop_set(ctx, 0)
    assert len(stop_rows) == 80 and np.array_equal(stop_rows, np.arange(80))  # the 80 test images, all of them
    # the last round's kappa is that of the two last rounds' stored stop-set labels
    last_labels = meta["stop_set"]["labels"]
    assert meta["stop_set"]["round"] == 3
    for m in models:
        assert all(-1.0 <= s["models"][m]["kappa"] <= 1.0 for s in stopping[1:])
        assert len(last_labels[m]) == 80
        assert stopping[3]["models"][m]["window_mean"] == pytest.approx(
            np.mean([s["models"][m]["kappa"] for s in stopping[1:]]))
    assert stopping[3]["all_stopped"] == all(stopping[3]["models"][m]["stopped"] for m in models)
    assert cohen_kappa(np.array(last_labels[models[0]]), np.array(last_labels[models[0]]), 10) == 1.0
    # interrupted after round 1, then resumed: the same kappas
    calls = []

    def stop_after_round_one(run_folder, round_index):
        calls.append(round_index)
        if round_index == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loop.run_method(task_context(GridSpec(profile=experiment, task="classification",
                                              profile_dir=tmp_path / "b" / SKLEARN_DIR), "digits"),
                        experiment.experiment("classification").strategies[0], 0, after_round=stop_after_round_one)
    resumed = run_task(experiment, "classification", tmp_path / "b" / SKLEARN_DIR)[0]
    assert calls == [0, 1] and "resuming after round 1" in (resumed / "log.txt").read_text()
    again = sorted(json.loads((resumed / "run.json").read_text())["rounds"], key=lambda r: r["round"])
    assert [r["stopping"] for r in again] == stopping
