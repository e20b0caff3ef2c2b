"""``select --previous``: the stop set travels from round to round and batch.json reports the stopping rule."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from diamlib.__main__ import main
from diamlib.userfiles.evidence_files import EvidenceFileError, run_select, save_model_evidence


def next_round_files(folder: Path, arrays: list[dict], batch_ids: set[str], change: int = 0) -> list[Path]:
    """The same models' files after the batch left the pool; ``change`` models relabel 30 points."""
    folder.mkdir()
    paths = []
    for i, model in enumerate(arrays):
        keep = ~np.isin(model["pool_ids"], list(batch_ids))
        new = {k: (v[keep] if k in ("pool_probs", "pool_features", "pool_ids") else v) for k, v in model.items()}
        new["snapshot_predictions"] = model["snapshot_predictions"][:, keep].copy()
        if i < change:
            new["snapshot_predictions"][-1, :30] = (new["snapshot_predictions"][-1, :30] + 1) % 10
        paths.append(save_model_evidence(folder / f"model{i}.npz", **new))
    return paths


def test_kappas_over_rounds_and_the_verdict_for_all_models(tmp_path: Path, model_arrays, evidence_paths):
    for r in range(4):
        (tmp_path / f"r{r}").mkdir()
    _, first_json, _ = run_select(evidence_paths, budget=10, out=tmp_path / "r0" / "batch.csv", seed=4)
    first = json.loads(first_json.read_text())["stopping"]
    assert first["all_stopped"] is False and all(m["kappa"] is None for m in first["models"].values())
    stop_ids = first["stop_set"]["pool_ids"]
    assert len(stop_ids) == 300 and set(stop_ids) == set(model_arrays[0]["pool_ids"])  # the pool has 300 < 1000

    arrays, record, changed_kappa = model_arrays, first_json, None
    for r in range(1, 4):
        batch = {line.split(",")[2] for line in (record.parent / "batch.csv").read_text().splitlines()[1:]}
        paths = next_round_files(tmp_path / f"files{r}", arrays, batch, change=1 if r == 1 else 0)
        _, record, _ = run_select(paths, budget=10, out=tmp_path / f"r{r}" / "batch.csv", seed=4, previous=record)
        stopping = json.loads(record.read_text())["stopping"]
        arrays = [dict(np.load(p)) for p in paths]
        if r == 1:
            changed_kappa = stopping["models"]["model0"]["kappa"]
            old = np.asarray(model_arrays[0]["snapshot_predictions"][-1])
            kept = np.isin(model_arrays[0]["pool_ids"], arrays[0]["pool_ids"])
            expected = cohen_kappa_score(old[kept], arrays[0]["snapshot_predictions"][-1], labels=np.arange(10))
            assert changed_kappa == pytest.approx(expected) and changed_kappa < 0.95
            assert stopping["models"]["model1"]["kappa"] == 1.0 and stopping["n_compared"] == 290
    # kappas of model0: None, changed, 1, 1 -> mean of the last three below 0.99; the others: 1, 1, 1
    assert stopping["kappas"]["model0"] == [None, changed_kappa, 1.0, 1.0]
    assert stopping["models"]["model0"]["stopped"] is False and stopping["models"]["model1"]["stopped"] is True
    assert stopping["all_stopped"] is False


def test_the_command_prints_the_verdicts_and_refuses_a_record_without_a_stop_set(tmp_path: Path, evidence_paths,
                                                                                  capsys):
    assert main(["select", *map(str, evidence_paths), "--budget", "5", "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["select", *map(str, evidence_paths), "--budget", "5", "--out", str(tmp_path / "b.csv"),
                 "--previous", str(tmp_path / "a.json")]) == 0
    printed = capsys.readouterr().out
    assert "model0: kappa 1.0000" in printed and "all models stopped (mean kappa >= 0.99): no" in printed
    (tmp_path / "old.json").write_text(json.dumps({"strategy": "diam"}))
    with pytest.raises(EvidenceFileError, match="holds no stop set"):
        run_select(evidence_paths, budget=5, out=tmp_path / "c.csv", previous=tmp_path / "old.json")
    assert not (tmp_path / "c.csv").exists()
