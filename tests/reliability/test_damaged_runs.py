"""Damaged run folders are refused by name (with the fix) or repaired to identical results."""
from __future__ import annotations

import json

import numpy as np
import pytest

import diamlib.experiment.loop as loop
from diamlib.experiment.loop import load_shared_evidence, repair_results
from diamlib.reporting.results import ResultsWarning, load_results
from diamlib.runstore import RunIntegrityError
from run_files import results_of, snapshot
from tiny_run import TASK, run

DIAM = "classification/digits/diam/seed0"
EVIDENCE = "classification/digits/_round0/seed0/evidence.npz"


def delete_line(path, number):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:number] + lines[number + 1:]))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES = {
    "curve row deleted": (lambda run: delete_line(run / DIAM / "curve.csv", 3),
                          "curve.csv: rows missing: it has 5 rows where run.json records 6"),
    "query row deleted": (lambda run: delete_line(run / DIAM / "queries.csv", 5),
                          "queries.csv: rows missing: it has 39 rows where run.json records 40"),
    "curve row added": (lambda run: (run / DIAM / "curve.csv").open("a").write("2,40,cnn,accuracy,0.99\n"),
                        "curve.csv: rows added: it has 7 rows where run.json records 6"),
    "curve.csv deleted": (lambda run: (run / DIAM / "curve.csv").unlink(), "curve.csv: file missing"),
    "run.json truncated": (lambda run: truncate(run / DIAM / "run.json"), "run.json: not valid JSON"),
    "run.json emptied": (lambda run: (run / DIAM / "run.json").write_text(""), "run.json: not valid JSON"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_run_is_refused_by_name_then_repaired(damage, run_copy, reference_run):
    harm, message = DAMAGES[damage]
    harm(run_copy)
    damaged = snapshot(run_copy)

    with pytest.raises(RunIntegrityError, match=message) as refused:
        run(run_copy)
    assert "--repair" in str(refused.value) and DIAM in str(refused.value)
    with pytest.raises(RunIntegrityError, match=message):
        load_results(run_copy)
    with pytest.warns(ResultsWarning, match=message):
        partial = load_results(run_copy, on_problem="warn")
    assert set(partial["method"]) == {"random"}
    assert snapshot(run_copy) == damaged, "a refusal changes nothing on disk"

    run(run_copy, repair=True)
    assert results_of(run_copy) == results_of(reference_run)
    assert len(load_results(run_copy)) == len(load_results(reference_run))


def test_interrupted_run_with_a_removed_row_is_refused_then_repaired(run_copy, reference_run, monkeypatch):
    real_train_round = loop.train_round

    def interrupt_round_two(ctx, labeled, seed, round_index, **kwargs):
        if round_index == 2:
            raise KeyboardInterrupt("simulated Ctrl-C")
        return real_train_round(ctx, labeled, seed, round_index, **kwargs)

    for name in ("curve.csv", "queries.csv", "run.json"):
        (run_copy / DIAM / name).unlink()
    monkeypatch.setattr(loop, "train_round", interrupt_round_two)
    with pytest.raises(KeyboardInterrupt):
        run(run_copy)
    monkeypatch.undo()
    assert json.loads((run_copy / DIAM / "run.json").read_text())["completed_rounds"] == 1
    delete_line(run_copy / DIAM / "curve.csv", 1)

    with pytest.raises(RunIntegrityError, match="curve.csv: rows missing"):
        run(run_copy)
    run(run_copy, repair=True)
    assert results_of(run_copy) == results_of(reference_run)


def test_truncated_evidence_is_named_and_recomputed_identically(run_copy):
    evidence = run_copy / EVIDENCE
    original = evidence.read_bytes()
    truncate(evidence)
    with pytest.raises(RunIntegrityError, match=r"evidence.npz: not a readable evidence file \(BadZipFile"):
        load_shared_evidence(run_copy, TASK, "digits", 0)
    for name in ("curve.csv", "queries.csv", "run.json"):  # a run that must start from round 0
        (run_copy / DIAM / name).unlink()
    damaged = snapshot(run_copy)
    with pytest.raises(RunIntegrityError, match="evidence.npz: .* truncated or changed; .*--repair"):
        run(run_copy)
    assert snapshot(run_copy) == damaged
    run(run_copy, repair=True)
    assert evidence.read_bytes() == original, "the recomputed round 0 equals the lost one"


def test_evidence_holding_pickled_objects_is_refused(run_copy):
    evidence = run_copy / EVIDENCE
    with np.load(evidence) as arrays:
        content = dict(arrays)
    content["unlabeled_indices"] = np.array([{"pickled": "object"}], dtype=object)
    with open(evidence, "wb") as handle:
        np.savez(handle, **content)
    with pytest.raises(RunIntegrityError, match="allow_pickle=False"):
        load_shared_evidence(run_copy, TASK, "digits", 0)


def test_repair_results_rolls_back_only_damaged_runs(run_copy, reference_run):
    delete_line(run_copy / DIAM / "curve.csv", 6)  # a row of the last round
    truncate(run_copy / EVIDENCE)
    untouched = (run_copy / "classification/digits/random/seed0/run.json").read_bytes()
    done = repair_results(run_copy)
    assert [line.split(": ")[0] for line in done] == [str(run_copy / DIAM), str(run_copy / EVIDENCE).rsplit("/", 1)[0]]
    assert "rolled back to round 1" in done[0]
    assert (run_copy / "classification/digits/random/seed0/run.json").read_bytes() == untouched
    run(run_copy)
    assert results_of(run_copy) == results_of(reference_run)
