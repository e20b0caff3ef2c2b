"""Reading our run folders and the authors' published files into the tidy table."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from diamlib.reporting.results import (AUTHORS_MODELS, TIDY_COLUMNS, NoResultsError, ResultsWarning,
                                       load_authors_results, load_results)
from diamlib.runstore import RunIntegrityError, RunRecord, RunStore, file_digest

MODELS = ["big", "mid", "small"]


def write_run(root, *, task="classification", dataset="digits", method="diam", strategy="diam",
              seed=0, options=None, rounds=2, completed=None, metrics=("accuracy",), offset=0.0):
    """A run folder as the active-learning loop writes it (models listed in zoo order)."""
    folder = root / task / dataset / method / f"seed{seed}"
    completed = rounds if completed is None else completed
    rows = []
    for r in range(completed + 1):
        # curve rows in an order other than the zoo's, to check model_index follows run.json
        for name in reversed(MODELS):
            for metric in metrics:
                value = 0.5 + 0.1 * r + 0.01 * MODELS.index(name) + offset
                rows.append((r, 60 + 40 * r, name, metric, value))
    meta = {"task": task, "dataset": dataset, "method": method, "strategy": strategy,
            "strategy_options": options or {}, "seed": seed, "models": MODELS,
            "settings": {"dataset": dataset, "training": {"epochs": 2}},
            "rounds": [{"round": r} for r in range(completed + 1)],
            "completed_rounds": completed, "complete": completed == rounds}
    RunStore(folder).save(RunRecord(
        meta=meta, curve=pd.DataFrame(rows, columns=["round", "n_labeled", "model", "metric", "value"]),
        queries=pd.DataFrame({"round": [0, 0], "index": [3, 7]})))
    return folder


def vouch(folder):
    """Record the files' current checksums in run.json, as if the loop had written them."""
    meta = json.loads((folder / "run.json").read_text())
    meta["files"] = {name: file_digest(folder / name, table=True) for name in ("curve.csv", "queries.csv")}
    (folder / "run.json").write_text(json.dumps(meta))


def test_reads_a_results_tree(tmp_path):
    write_run(tmp_path, method="diam", options={"beta": -1.0})
    write_run(tmp_path, method="diam", options={"beta": -1.0}, seed=1, offset=0.02)
    write_run(tmp_path, method="diam-beta-0.1", options={"beta": -0.1})
    write_run(tmp_path, method="random", strategy="random")
    write_run(tmp_path, task="regression", dataset="landmarks-digits", method="diam-svd",
              strategy="diam-svd", metrics=("mse", "mae"))
    (tmp_path / "figures").mkdir()  # other folders of the profile are ignored

    table = load_results(tmp_path)
    assert list(table.columns) == TIDY_COLUMNS
    assert len(table) == 4 * 3 * 3 + 3 * 3 * 2
    assert set(table["source"]) == {"ours"}
    first = table[(table["method"] == "diam") & (table["seed"] == 0) & (table["round"] == 1)]
    assert first["model"].tolist() == MODELS and first["model_index"].tolist() == [0, 1, 2]
    assert first["value"].tolist() == pytest.approx([0.6, 0.61, 0.62])
    assert first["n_labeled"].unique().tolist() == [100]
    assert set(table["n_models"]) == {3}
    betas = table.groupby("method")["beta"].first()
    assert betas["diam"] == -1.0 and betas["diam-beta-0.1"] == -0.1 and math.isnan(betas["random"])
    assert table.groupby("method")["strategy"].first()["diam-beta-0.1"] == "diam"

    regression = load_results(tmp_path, task="regression")
    assert set(regression["metric"]) == {"mse", "mae"} and set(regression["task"]) == {"regression"}


def test_incomplete_runs_are_listed_never_dropped(tmp_path):
    write_run(tmp_path, method="random", strategy="random")
    incomplete = write_run(tmp_path, method="diam", rounds=3, completed=1)
    with pytest.raises(RunIntegrityError, match=r"1 of 2 runs(.|\n)*diam/seed0: incomplete: rounds 0..1"):
        load_results(tmp_path)
    with pytest.warns(ResultsWarning, match="left out 1 of 2 runs"):
        table = load_results(tmp_path, on_problem="warn")
    assert set(table["method"]) == {"random"}
    assert [run for run, _ in table.attrs["problems"]] == [str(incomplete)]
    assert pd.concat([table, table]).attrs["problems"] == table.attrs["problems"]  # attrs stay comparable


def test_clear_errors(tmp_path):
    with pytest.raises(NoResultsError, match="does not exist"):
        load_results(tmp_path / "nothing")
    with pytest.raises(NoResultsError, match="no runs found"):
        load_results(tmp_path)
    write_run(tmp_path, method="random", strategy="random")
    with pytest.raises(NoResultsError, match="no regression runs"):
        load_results(tmp_path, task="regression")
    with pytest.raises(ValueError, match="unknown task"):
        load_results(tmp_path, task="ranking")
    with pytest.raises(ValueError, match="on_problem must be"):
        load_results(tmp_path, on_problem="ignore")
    bad = write_run(tmp_path, method="entropy", strategy="entropy")
    (bad / "curve.csv").write_text("round,labels,model,metric,value\n0,60,big,accuracy,0.5\n")
    with pytest.raises(RunIntegrityError, match="curve.csv: rows missing: it has 1 rows where run.json records 9"):
        load_results(tmp_path)
    vouch(bad)
    with pytest.raises(ValueError, match="curve.csv: header must be"):
        load_results(tmp_path)
    (bad / "curve.csv").write_text("round,n_labeled,model,metric,value\n0,60,huge,accuracy,0.5\n")
    vouch(bad)
    with pytest.raises(ValueError, match=r"models \['huge'\] are not in run.json"):
        load_results(tmp_path)
    (bad / "run.json").write_text(json.dumps({"task": "classification"}))
    with pytest.raises(ValueError, match="missing keys"):
        load_results(tmp_path)


# --------------------------------------------------------------------------- authors' files
def test_reads_the_published_files(authors):
    assert list(authors.columns) == TIDY_COLUMNS
    # 5 model counts x 2 datasets x 7 methods x 11 iterations, N models x 2 metrics each
    assert len(authors) == 2 * 7 * 11 * 2 * (2 + 4 + 6 + 8 + 12)
    assert sorted(authors["n_models"].unique()) == [2, 4, 6, 8, 12]
    assert sorted(authors["method"].unique()) == sorted(
        ["diam", "cal", "entropy", "margin", "least-confidence", "coreset", "random"])
    assert authors["value"].between(0, 1).all()
    row = authors[(authors["n_models"] == 12) & (authors["dataset"] == "mnist") & (authors["method"] == "diam")
                  & (authors["round"] == 0) & (authors["model_index"] == 0)]
    assert row.set_index("metric")["value"].to_dict() == pytest.approx(
        {"accuracy": 0.94549995, "top5_accuracy": 0.99790001})
    assert row["model"].iloc[0] == AUTHORS_MODELS[0] == "note10_lat@22ms_top1@76.6_finetune@25"
    assert authors.groupby("round")["n_labeled"].first().to_dict() == {i: 3000 + 1500 * i for i in range(11)}
    assert set(authors["seed"]) == {0} and authors["beta"].isna().all()


def test_authors_reader_errors(tmp_path, authors_dir):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_authors_results(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="performances.txt"):
        load_authors_results(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(authors_dir / "2" / "mnist" / "random", copy / "2" / "mnist" / "random")
    target = copy / "2" / "mnist" / "random" / "3" / "performances.txt"
    target.write_text("97.1 99.9\n97.2 abc\n")
    with pytest.raises(ValueError, match=r"performances.txt, line 2: expected two accuracies"):
        load_authors_results(copy)
    target.write_text("97.1 99.9\n")
    with pytest.raises(ValueError, match=r"1 rows, expected one per target model \(2\)"):
        load_authors_results(copy)


def test_resolve_reference_dir(tmp_path, monkeypatch):
    from diamlib.paths import project_root
    from diamlib.reporting.results import resolve_reference_dir

    assert resolve_reference_dir(tmp_path) == tmp_path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here").mkdir()
    assert resolve_reference_dir("here") == Path("here")  # relative to the working directory first
    assert resolve_reference_dir("diamlib") == project_root() / "diamlib"  # then to the project root
    with pytest.raises(FileNotFoundError, match="reference_dir 'nowhere' does not exist"):
        resolve_reference_dir("nowhere")


def _run_with_votes(root, method, picks, info=None):
    """A complete one-round run whose round-0 batch is ``picks``; DIAM's run.json carries ``info``."""
    folder = write_run(root, method=method, strategy=method, rounds=1)
    meta = json.loads((folder / "run.json").read_text())
    if info is not None:
        meta["rounds"][0]["selection_info"] = info
    (folder / "run.json").write_text(json.dumps(meta))
    pd.DataFrame({"round": [0, 0] + [1] * len(picks), "index": [3, 7, *picks]}).to_csv(folder / "queries.csv",
                                                                                      index=False)
    vouch(folder)


def test_vote_diagnostics_reads_diams_selection_info_and_the_overlaps(tmp_path):
    from diamlib.reporting.results import vote_diagnostics

    info = {"vote_histogram": [1, 2, 5, 2], "max_vote": 3, "max_vote_tie": 2, "top_tau_vote": 2,
            "top_tau_tie": 5, "top_tau_tie_needed": 2, "fraction_in_any_disagreement": 0.90001}
    _run_with_votes(tmp_path, "diam", [10, 11, 12, 13], info)
    _run_with_votes(tmp_path, "random", [10, 20, 21, 22])
    votes = vote_diagnostics(tmp_path, ["digits", "absent"], [0, 1], overlap_with=("random", "cal"))
    assert len(votes) == 1  # one round with a selection; missing datasets, seeds and methods skipped
    row = votes.iloc[0]
    assert (row["dataset"], row["seed"], row["round"]) == ("digits", 0, 0)
    assert row["v histogram (0..n_models)"] == [1, 2, 5, 2] and row["max-vote tie"] == 2
    assert row["in some DIS region"] == 0.9 and row["Eq. 9 objective"] is None
    assert row["overlap random"] == 0.25 and "overlap cal" not in votes.columns
