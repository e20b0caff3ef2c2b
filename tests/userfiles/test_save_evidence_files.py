"""``save_evidence_files``: a whole Evidence to one file per model, read back by ``select`` unchanged."""
from __future__ import annotations

import json

import numpy as np
import pytest

from diamlib.__main__ import main
from diamlib.evidence import Evidence, ModelEvidence
from diamlib.userfiles.batchfile import read_batch_csv
from diamlib.userfiles.evidence_files import (
    EvidenceFileError,
    read_evidence_files,
    save_evidence_files,
    select_on_evidence,
)

ARRAYS = ("snapshot_predictions", "pool_probs", "pool_features", "labeled_features")


def evidence_of(model_arrays, seed=0):
    """The digits models as in-memory evidence over scattered training-set indices."""
    n_pool = len(model_arrays[0]["pool_probs"])
    indices = np.sort(np.random.default_rng(seed).choice(10 * n_pool, size=n_pool, replace=False)).astype(np.int64)
    models = tuple(ModelEvidence(name=f"model-{i}", n_parameters=int(a["n_parameters"]),
                                 **{name: a[name] for name in ARRAYS}) for i, a in enumerate(model_arrays))
    return Evidence(task="classification", unlabeled_indices=indices, models=models,
                    feature_model=int(np.argmax([m.n_parameters for m in models])))


@pytest.mark.parametrize("strategy", ["diam", "coreset", "entropy"])
def test_round_trip_gives_the_same_evidence_and_the_same_batch(tmp_path, model_arrays, strategy):
    evidence = evidence_of(model_arrays)
    paths = save_evidence_files(evidence, tmp_path / "evidence")
    assert [p.name for p in paths] == ["model-0.npz", "model-1.npz", "model-2.npz"]
    files = read_evidence_files(paths, strategy)
    np.testing.assert_array_equal(files.pool_ids, evidence.unlabeled_indices)
    assert [m.name for m in files.evidence.models] == [m.name for m in evidence.models]
    assert files.evidence.feature_model == evidence.feature_model
    for read, saved in zip(files.evidence.models, evidence.models):
        assert read.n_parameters == saved.n_parameters
        for name in ARRAYS:
            if getattr(read, name) is not None:
                np.testing.assert_array_equal(getattr(read, name), getattr(saved, name))
                assert getattr(read, name).dtype == getattr(saved, name).dtype
    in_memory = select_on_evidence(evidence, budget=10, strategy=strategy, seed=4)
    from_files = select_on_evidence(files.evidence, budget=10, strategy=strategy, seed=4)
    np.testing.assert_array_equal(files.pool_ids[from_files.indices], in_memory.indices)


def test_select_reads_the_saved_folder_and_reports_training_set_indices(tmp_path, model_arrays):
    evidence = evidence_of(model_arrays)
    paths = save_evidence_files(evidence, tmp_path / "evidence")
    out = tmp_path / "batch.csv"
    assert main(["select", *map(str, paths), "--budget", "6", "--out", str(out), "--seed", "4"]) == 0
    expected = select_on_evidence(evidence, budget=6, seed=4).indices
    assert read_batch_csv(out)["pool_id"].astype(int).tolist() == expected.tolist()
    assert [entry["model"] for entry in json.loads(out.with_suffix(".json").read_text())["inputs"]] == [
        "model-0", "model-1", "model-2"]


def test_existing_files_are_kept_unless_overwrite(tmp_path, model_arrays):
    evidence = evidence_of(model_arrays)
    paths = save_evidence_files(evidence, tmp_path)
    before = [p.read_bytes() for p in paths]
    with pytest.raises(EvidenceFileError, match="model-0.npz already exists.*overwrite=True"):
        save_evidence_files(evidence_of(model_arrays, seed=1), tmp_path)
    assert [p.read_bytes() for p in paths] == before
    save_evidence_files(evidence_of(model_arrays, seed=1), tmp_path, overwrite=True)
    assert [p.read_bytes() for p in paths] != before


def test_what_select_would_refuse_is_not_written(tmp_path, model_arrays):
    evidence = evidence_of(model_arrays)
    three = ModelEvidence(name="three", pool_probs=np.full((evidence.n_pool, 3), 1 / 3))
    with pytest.raises(EvidenceFileError, match="'pool_probs' has 3 class columns"):
        save_evidence_files(Evidence("classification", evidence.unlabeled_indices, evidence.models + (three,)), tmp_path / "e")
    for name in ("", "../up", ".hidden"):
        bad = ModelEvidence(name=name, pool_probs=evidence.models[0].pool_probs)
        with pytest.raises(EvidenceFileError, match="cannot name an evidence file"):
            save_evidence_files(Evidence("classification", evidence.unlabeled_indices, (bad,)), tmp_path / "e")
    source = ModelEvidence(name="supernet", pool_features=evidence.models[0].pool_features)
    with pytest.raises(EvidenceFileError, match="feature_source"):
        save_evidence_files(Evidence("classification", evidence.unlabeled_indices, evidence.models, feature_source=source),
                      tmp_path / "e")
    assert not (tmp_path / "e").exists()
