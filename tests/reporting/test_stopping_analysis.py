"""The stopping analysis of notebook 05 on real runs of scikit-learn models on digits."""
from __future__ import annotations

import numpy as np
import pytest

from diamlib.config import SKLEARN_DIR, sklearn_experiment
from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import profile_from_dict
from diamlib.reporting.results import load_results
from diamlib.reporting.stopping import plot_kappas, stopping_analysis
from diamlib.stopping import first_stop_round


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stopping") / SKLEARN_DIR
    section = {"datasets": ["digits"], "seeds": [0, 1], "train_size": 240, "test_size": 80, "zoo": "sklearn-smoke",
               "initial_labels": 30, "query_size": 30, "rounds": 3, "strategies": ["random", "diam"]}
    profile = profile_from_dict({"name": "stoptest", "threads": 1, "progress": False, "execution": {"workers": 1},
                                 "sklearn": section})
    run_task(sklearn_experiment(profile), "classification", root)
    results = load_results(root, task="classification")
    return root, results[results["metric"] == "accuracy"]


def test_stop_rounds_and_the_accuracy_left_follow_the_recorded_kappas_and_curves(runs):
    root, acc = runs
    analysis = stopping_analysis(root, acc, rules=[(3, 0.99), (1, 0.5), (1, -0.99)])
    assert len(analysis.runs) == 3 * 2 * 2 and set(analysis.kappas["round"]) == {0, 1, 2, 3}
    assert analysis.kappas.query("round == 0")["kappa"].isna().all()
    assert analysis.kappas.query("round > 0")["kappa"].between(-1, 1).all()
    for row in analysis.runs.itertuples(index=False):
        run = analysis.kappas[(analysis.kappas["method"] == row.method) & (analysis.kappas["seed"] == row.seed)]
        by_model = {m: [None if np.isnan(k) else k for k in g.sort_values("round")["kappa"]]
                    for m, g in run.groupby("model")}
        stop = first_stop_round(by_model, window=row.window, threshold=row.threshold)["all"]
        assert (np.isnan(row.stop_round) and stop is None) or row.stop_round == stop
        curve = acc[(acc["method"] == row.method) & (acc["seed"] == row.seed)].groupby("round")["value"].mean()
        at = 3 if stop is None else stop
        assert row.accuracy_left == pytest.approx(curve[3] - curve[at])
        assert row.labels_saved == 30 * (3 - at)
    # a threshold every kappa passes fires after the first measured round; the paper's rule cannot within 3 rounds
    # unless every kappa of rounds 1..3 is high
    loose = analysis.runs[analysis.runs["threshold"] == -0.99]
    assert (loose["stop_round"] == 1).all() and (loose["labels_saved"] == 60).all()
    assert "digits, diam, mean kappa >= 0.99 over 3 rounds" in analysis.text
    fig = plot_kappas(analysis)
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "digits: diam"


def test_runs_without_stopping_records_are_refused(runs, tmp_path):
    import json
    import shutil

    root, acc = runs
    copy = tmp_path / "old"
    shutil.copytree(root, copy)
    meta_path = next(copy.rglob("diam/seed0/run.json"))
    meta = json.loads(meta_path.read_text())
    for log in meta["rounds"]:
        log.pop("stopping")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="records no stopping rule"):
        stopping_analysis(copy, acc)
