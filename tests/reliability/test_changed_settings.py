"""A run with other settings is refused before any training, naming each differing parameter."""
from __future__ import annotations

import json

import pytest

import diamlib.experiment.loop as loop
from diamlib.experiment.grid import run_task
from diamlib.experiment.loop import repair_results
from diamlib.reporting.results import load_results
from diamlib.runstore import RunConflictError, RunIntegrityError
from run_files import results_of, snapshot
from tiny_run import TASK, run, tiny_profile, tiny_zoo


@pytest.fixture
def no_training(monkeypatch):
    """Fails the test if any target model is trained."""
    def refuse(*args, **kwargs):
        raise AssertionError("a model was trained before the conflict was reported")

    monkeypatch.setattr(loop, "train_round", refuse)


@pytest.mark.parametrize("profile, message", [
    # epochs changed and a method added: refused before the new method's round 0, which would
    # otherwise replace the shared round-0 cache and mix 1-epoch and 2-epoch runs
    (tiny_profile(("random", "diam", "entropy"), epochs=2), r"training\.epochs: 1 there, 2 now"),
    (tiny_profile(epochs=2), r"training\.epochs: 1 there, 2 now"),
    (tiny_profile(train_size=100), r"train_size: 120 there, 100 now"),
    (tiny_profile(beta=-0.5), r"strategy_options\.beta: -1\.0 there, -0\.5 now"),
], ids=["epochs-and-new-method", "epochs", "train_size", "beta"])
def test_other_settings_are_refused_naming_both_values(profile, message, run_copy, no_training):
    before = snapshot(run_copy)
    with pytest.raises(RunConflictError, match=message):
        run_task(profile, TASK, run_copy, zoo=tiny_zoo())
    assert snapshot(run_copy) == before


def test_new_method_alone_is_refused_beside_a_round_zero_of_other_settings(run_copy, no_training):
    for run in ("random", "diam"):
        for name in ("curve.csv", "queries.csv", "run.json"):
            (run_copy / TASK / "digits" / run / "seed0" / name).unlink()
    with pytest.raises(RunConflictError, match=r"_round0/seed0 (.|\n)*training\.epochs: 1 there, 2 now"):
        run_task(tiny_profile(("entropy",), epochs=2), TASK, run_copy, zoo=tiny_zoo())


def test_load_results_refuses_a_folder_that_mixes_settings(run_copy):
    meta_path = run_copy / TASK / "digits" / "diam" / "seed0" / "run.json"
    meta = json.loads(meta_path.read_text())
    meta["settings"]["training"]["epochs"] = 2  # as if made by another profile, then copied in
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(RunIntegrityError, match=r"mixes runs made with other settings(.|\n)*"
                                                r"training\.epochs: 2 in diam/seed0, 1 in random/seed0"):
        load_results(run_copy)


def test_legacy_runs_without_checksums_are_refused_then_recomputed_by_repair(run_copy, reference_run):
    for meta_path in run_copy.rglob("*.json"):
        meta = json.loads(meta_path.read_text())
        for key in ("files", "settings", "evidence", "round0_evidence"):
            meta.pop(key, None)
        for entry in meta.get("rounds", []):
            entry.pop("files")
        meta_path.write_text(json.dumps(meta))
    with pytest.raises(RunConflictError, match="records no settings or checksums(.|\n)*--repair"):
        run(run_copy)
    assert len(repair_results(run_copy)) == 3
    run(run_copy)
    assert results_of(run_copy) == results_of(reference_run)


def test_runs_of_another_numerics_mode_or_cpu_capability_are_refused_naming_both_values(run_copy, no_training,
                                                                                         monkeypatch):
    monkeypatch.setattr(loop, "folder_setting", lambda: {"mode": "native", "cpu_capability": "AVX512"})
    before = snapshot(run_copy)
    with pytest.raises(RunConflictError, match=r"numerics\.cpu_capability: 'AVX2' there, 'AVX512' now(.|\n)*"
                                                r"numerics\.mode: 'portable' there, 'native' now"):
        run_task(tiny_profile(), TASK, run_copy, zoo=tiny_zoo())
    assert snapshot(run_copy) == before


def test_run_json_records_the_numerics_beside_the_versions(reference_run):
    meta = json.loads((reference_run / TASK / "digits" / "diam" / "seed0" / "run.json").read_text())
    assert meta["numerics"]["mode"] == "portable" and meta["numerics"]["cpu_capability"] == "AVX2"
    assert meta["numerics"]["aten_cpu_capability"] == "avx2" and meta["numerics"]["onednn_max_cpu_isa"] == "AVX2"
    assert meta["settings"]["numerics"] == {"mode": "portable", "cpu_capability": "AVX2"}
    assert "torch" in meta["versions"]
