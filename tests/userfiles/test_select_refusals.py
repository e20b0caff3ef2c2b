"""``python -m diamlib select`` refuses what it cannot use well: exit 2, the file and the fix named, nothing written."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from diamlib.__main__ import main
from diamlib.userfiles.evidence_files import EvidenceFileError, save_model_evidence


def run_select(paths, out, *extra):
    return main(["select", *map(str, paths), "--out", str(out), "--budget", "5", *extra])


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def refused(capsys, *words):
    message = capsys.readouterr().err
    assert all(word in message for word in words), message
    return message


# --------------------------------------------------------------------------- --out
@pytest.mark.parametrize("existing", ["notes.json", "notes.csv"])
def test_existing_batch_or_record_is_kept_without_force(tmp_path, evidence_paths, capsys, existing):
    kept = tmp_path / existing
    kept.write_text("my notes\n")
    before = listing(tmp_path)
    assert run_select(evidence_paths, tmp_path / "notes.csv") == 2
    refused(capsys, f"{kept} already exists", "--force", "choose another --out")
    assert kept.read_text() == "my notes\n" and listing(tmp_path) == before


def test_force_replaces_the_batch_and_its_record(tmp_path, evidence_paths):
    (tmp_path / "notes.json").write_text("old")
    assert run_select(evidence_paths, tmp_path / "notes.csv", "--force") == 0
    assert (tmp_path / "notes.json").read_text().startswith("{")


@pytest.mark.parametrize("folder", ["batches", "batch.csv"])
def test_out_naming_a_folder_exits_2(tmp_path, evidence_paths, capsys, folder):
    out = tmp_path / folder
    out.mkdir()
    before = listing(tmp_path)
    assert run_select(evidence_paths, out) == 2
    message = refused(capsys, f"--out {out} is a folder", str(out / "batch.csv"))
    assert "Free disk space" not in message
    assert listing(tmp_path) == before and list(out.iterdir()) == []


def test_record_path_naming_a_folder_exits_2_before_the_csv_is_written(tmp_path, evidence_paths, capsys):
    (tmp_path / "batch.json").mkdir()
    before = listing(tmp_path)
    assert run_select(evidence_paths, tmp_path / "batch.csv") == 2
    refused(capsys, f"{tmp_path / 'batch.json'} is a folder", "choose another --out")
    assert listing(tmp_path) == before


# --------------------------------------------------------------------------- the model files
def test_same_model_file_twice_is_refused(tmp_path, evidence_paths, capsys):
    twice = [evidence_paths[0], evidence_paths[1], tmp_path / "." / evidence_paths[0].name]
    before = listing(tmp_path)
    assert run_select(twice, tmp_path / "batch.csv") == 2
    refused(capsys, str(twice[2]), "given twice (files 1 and 3)", "once")
    assert listing(tmp_path) == before


def test_a_folder_given_as_an_evidence_file_is_named_a_folder(tmp_path, evidence_paths, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    assert run_select([evidence_paths[0], folder], tmp_path / "batch.csv") == 2
    message = refused(capsys, f"{folder}: a folder, not an evidence file", str(folder / "*.npz"))
    assert "not found" not in message
    assert not (tmp_path / "batch.csv").exists()


@pytest.mark.parametrize("content, words", [
    (b"pool_id,label\n1,cat\n", "a text file"),
    (pickle.dumps({"pool_probs": [0.5, 0.5]}), "a Python pickle, which is never loaded"),
    (b"", "an empty file"),
])
def test_a_file_that_is_not_an_npz_says_what_it_is(tmp_path, evidence_paths, capsys, content, words):
    other = tmp_path / "model.npz"
    other.write_bytes(content)
    before = listing(tmp_path)
    assert run_select([evidence_paths[0], other], tmp_path / "batch.csv") == 2
    message = refused(capsys, str(other), words, "np.savez")
    assert "pickled (object) data" not in message
    assert listing(tmp_path) == before


# --------------------------------------------------------------------------- classes
def test_models_with_different_numbers_of_classes_are_refused(tmp_path, capsys):
    rng = np.random.default_rng(0)
    three = save_model_evidence(tmp_path / "three.npz", pool_probs=rng.dirichlet(np.ones(3), size=20))
    five = save_model_evidence(tmp_path / "five.npz", pool_probs=rng.dirichlet(np.ones(5), size=20))
    before = listing(tmp_path)
    assert run_select([three, five], tmp_path / "batch.csv", "--strategy", "entropy") == 2
    refused(capsys, str(five), "'pool_probs' has 5 class columns", f"{three}'s has 3", "same classes")
    assert listing(tmp_path) == before


def _five_class_arrays(rng, label=0):
    snapshots = rng.integers(0, 5, size=(3, 20))
    snapshots[1, 7] = label
    return {"pool_probs": rng.dirichlet(np.ones(5), size=20), "snapshot_predictions": snapshots,
            "pool_features": rng.normal(size=(20, 4))}


def test_snapshot_label_beyond_the_classes_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(1)
    good = save_model_evidence(tmp_path / "good.npz", **_five_class_arrays(rng))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **_five_class_arrays(rng, label=99))
    before = listing(tmp_path)
    assert run_select([good, bad], tmp_path / "batch.csv") == 2
    refused(capsys, str(bad), "class label 99", "has 5 classes (labels 0..4)", "np.searchsorted")
    assert listing(tmp_path) == before
    with pytest.raises(EvidenceFileError, match="class label 99"):
        save_model_evidence(tmp_path / "other.npz", **_five_class_arrays(rng, label=99))


def test_snapshot_label_beyond_another_files_classes_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(2)
    probs = save_model_evidence(tmp_path / "probs.npz", **_five_class_arrays(rng))
    arrays = _five_class_arrays(rng, label=7)
    del arrays["pool_probs"]
    labels = save_model_evidence(tmp_path / "labels.npz", **arrays)
    assert run_select([probs, labels], tmp_path / "batch.csv") == 2
    refused(capsys, str(labels), "class label 7", f"'pool_probs' of {probs} has 5 classes")


# --------------------------------------------------------------------------- the strategy's task
@pytest.mark.parametrize("strategy", ["badge", "diam-svd"])
def test_regression_strategy_on_classification_files_is_refused(tmp_path, evidence_paths, capsys, strategy):
    before = listing(tmp_path)
    assert run_select(evidence_paths, tmp_path / "batch.csv", "--strategy", strategy) == 2
    refused(capsys, str(evidence_paths[0]), "holds classification evidence", f"strategy {strategy!r} is for "
            f"regression only", "choose a classification strategy (diam,")
    assert listing(tmp_path) == before


def test_classification_strategy_on_regression_files_is_refused(tmp_path, model_arrays, capsys):
    rng = np.random.default_rng(3)
    paths = [save_model_evidence(tmp_path / f"r{i}.npz", pool_features=a["pool_features"],
                                 pool_outputs=rng.normal(size=(len(a["pool_features"]), 1)))
             for i, a in enumerate(model_arrays)]
    assert run_select(paths, tmp_path / "batch.csv", "--strategy", "entropy") == 2
    refused(capsys, str(paths[0]), "holds regression evidence (pool_outputs)", "'entropy' is for classification")


def test_files_of_both_tasks_are_refused(tmp_path, model_arrays, capsys):
    rng = np.random.default_rng(4)
    a = model_arrays[0]
    classifier = save_model_evidence(tmp_path / "c.npz", pool_features=a["pool_features"], pool_probs=a["pool_probs"])
    regressor = save_model_evidence(tmp_path / "r.npz", pool_features=a["pool_features"],
                                    pool_outputs=rng.normal(size=(len(a["pool_features"]), 1)))
    assert run_select([classifier, regressor], tmp_path / "batch.csv", "--strategy", "random") == 2
    refused(capsys, str(regressor), "holds regression evidence but", "give files of one task")
