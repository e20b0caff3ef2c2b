"""``python -m diamlib select``: evidence files in, batch.csv and batch.json out, or a clear error."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from diamlib.__main__ import main, parse_option_arguments
from diamlib.userfiles.batchfile import BATCH_COLUMNS, read_batch_csv
from diamlib.userfiles.evidence_files import (
    EvidenceFileError,
    load_model_evidence,
    read_evidence_files,
    save_model_evidence,
    select_from_files,
)


def run_select(paths, out, *extra):
    return main(["select", *map(str, paths), "--out", str(out), *extra])


# --------------------------------------------------------------------------- good input
@pytest.mark.parametrize("strategy", ["diam", "random"])
def test_select_writes_a_batch_and_its_record(tmp_path, evidence_paths, model_arrays, strategy):
    out = tmp_path / "batch.csv"
    assert run_select(evidence_paths, out, "--budget", "12", "--strategy", strategy, "--seed", "3") == 0
    table = read_batch_csv(out)
    assert list(table.columns) == list(BATCH_COLUMNS)
    assert table["rank"].tolist() == list(range(1, 13))
    assert table["pool_index"].nunique() == 12
    ids = model_arrays[0]["pool_ids"]
    assert table["pool_id"].tolist() == [str(ids[i]) for i in table["pool_index"]]
    if strategy == "random":
        assert table["score"].isna().all()
        assert ",," not in out.read_text() and out.read_text().splitlines()[1].endswith(",")
    else:
        assert table["score"].notna().all()
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["strategy"] == strategy and record["seed"] == 3 and record["budget"] == 12
    assert [entry["path"] for entry in record["inputs"]] == [str(p) for p in evidence_paths]
    assert record["info"]["filled_at_random"] == 0
    assert record["n_pool"] == len(ids)


def test_diam_batch_prefers_points_the_models_disagree_on(evidence_paths):
    evidence = load_model_evidence(evidence_paths, "diam")
    selection = select_from_files(evidence_paths, budget=10, strategy="diam")
    votes = sum((m.snapshot_predictions != m.snapshot_predictions[:1]).any(axis=0) for m in evidence.models)
    assert votes[selection.indices].mean() > votes.mean()
    assert selection.info["vote_histogram"] == np.bincount(votes, minlength=4).tolist()


def test_options_reach_the_strategy_and_the_record(tmp_path, evidence_paths):
    out = tmp_path / "b.csv"
    assert run_select(evidence_paths, out, "--budget", "5", "--option", "beta=-10",
                      "--option", "solver=fista") == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["options"] == {"beta": -10.0, "solver": "fista"}
    assert record["resolved_options"]["knn_fraction"] == 0.01
    assert record["info"]["solver"] == "fista"


def test_same_seed_same_batch_other_seed_other_batch(tmp_path, evidence_paths):
    def batch(seed, name):
        out = tmp_path / name
        assert run_select(evidence_paths, out, "--budget", "20", "--strategy", "random", "--seed", str(seed)) == 0
        return out.read_text()

    first = batch(7, "a.csv")
    assert first == batch(7, "b.csv")
    assert first != batch(8, "c.csv")


def test_regression_strategy_on_features_only(tmp_path, model_arrays):
    paths = [save_model_evidence(tmp_path / f"r{i}.npz", pool_features=a["pool_features"],
                                 labeled_features=a["labeled_features"]) for i, a in enumerate(model_arrays)]
    out = tmp_path / "batch.csv"
    assert run_select(paths, out, "--budget", "8", "--strategy", "diam-leverage") == 0
    table = read_batch_csv(out)
    assert table["pool_id"].tolist() == [str(i) for i in table["pool_index"]]  # default ids 0..n-1
    assert json.loads(out.with_suffix(".json").read_text())["task"] == "regression"


def test_only_the_arrays_the_strategy_reads_are_required(tmp_path, model_arrays):
    paths = [save_model_evidence(tmp_path / f"e{i}.npz", pool_probs=a["pool_probs"])
             for i, a in enumerate(model_arrays)]
    files = read_evidence_files(paths, "entropy")
    assert files.evidence.n_pool == model_arrays[0]["pool_probs"].shape[0]
    assert all(m.snapshot_predictions is None for m in files.evidence.models)


def test_feature_model_is_the_largest(evidence_paths, model_arrays):
    evidence = load_model_evidence(evidence_paths, "coreset")
    sizes = [int(a["n_parameters"]) for a in model_arrays]
    assert evidence.feature_model == int(np.argmax(sizes))
    assert evidence.models[0].name == evidence_paths[0].stem


def test_inputs_are_left_unchanged(tmp_path, evidence_paths):
    before = [p.read_bytes() for p in evidence_paths]
    assert run_select(evidence_paths, tmp_path / "b.csv", "--budget", "5") == 0
    assert [p.read_bytes() for p in evidence_paths] == before


def test_parse_option_arguments():
    assert parse_option_arguments(["beta=-1.0", "solver=fista", "knn_approx_dim=null"]) == {
        "beta": -1.0, "solver": "fista", "knn_approx_dim": None}
    with pytest.raises(EvidenceFileError, match="NAME=VALUE"):
        parse_option_arguments(["beta"])
    with pytest.raises(EvidenceFileError, match="twice"):
        parse_option_arguments(["beta=-1", "beta=-2"])


# --------------------------------------------------------------------------- malformed input
def _set(name, value_of):
    def mutate(arrays):
        arrays[name] = value_of(arrays)
        return arrays
    return mutate


def _drop(name):
    def mutate(arrays):
        del arrays[name]
        return arrays
    return mutate


def _nan_features(arrays):
    features = arrays["pool_features"].copy()
    features[3, 1] = np.nan
    arrays["pool_features"] = features
    return arrays


def _negative_label(arrays):
    snapshots = arrays["snapshot_predictions"].copy()
    snapshots[0, 5] = -1
    arrays["snapshot_predictions"] = snapshots
    return arrays


def _duplicate_id(arrays):
    ids = arrays["pool_ids"].copy()
    ids[1] = ids[0]
    arrays["pool_ids"] = ids
    return arrays


#: (case, change to the second model's arrays, array named, words of the fix)
MALFORMED = [
    ("missing array", _drop("snapshot_predictions"), "snapshot_predictions", "strategy 'diam' reads it; compute "
     "the class indices (argmax of the outputs) that the model's checkpoints"),
    ("unknown array", lambda a: {**a, "pool_prob": a["pool_probs"]}, "pool_prob", "Did you mean 'pool_probs'"),
    ("wrong ndim", _set("pool_features", lambda a: a["pool_features"][:, 0]), "pool_features", "must have 2"),
    ("pool size within file", _set("pool_features", lambda a: a["pool_features"][:-1]), "pool_features",
     "same n_pool"),
    ("labeled width", _set("labeled_features", lambda a: a["labeled_features"][:, :2]), "labeled_features",
     "same model's penultimate features"),
    ("nan", _nan_features, "pool_features", "NaN or inf"),
    ("float snapshots", _set("snapshot_predictions", lambda a: a["snapshot_predictions"].astype(float)),
     "snapshot_predictions", "astype(np.int64)"),
    ("negative labels", _negative_label, "snapshot_predictions", "negative"),
    ("logits", _set("pool_probs", lambda a: np.log(a["pool_probs"] + 1e-3)), "pool_probs", "softmax outputs, not logits"),
    ("duplicated ids", _duplicate_id, "pool_ids", "its own id"),
    ("ids disagree", _set("pool_ids", lambda a: a["pool_ids"][::-1]), "pool_ids", "same order"),
    ("pool size across files", lambda a: {k: (v[..., :-1] if k == "snapshot_predictions" else
                                               v[:-1] if k.startswith("pool_") else v) for k, v in a.items()},
     None, "same pool points"),
    ("object ids", _set("pool_ids", lambda a: a["pool_ids"].astype(object)), "pool_ids", "pickled"),
]


@pytest.mark.parametrize("case, mutate, array, fix", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_is_refused_before_anything_is_written(tmp_path, model_arrays, capsys, case, mutate,
                                                               array, fix):
    good = save_model_evidence(tmp_path / "good.npz", **model_arrays[0])
    bad = tmp_path / "bad.npz"
    with open(bad, "wb") as handle:
        np.savez(handle, **mutate(dict(model_arrays[1])))
    out = tmp_path / "batch.csv"
    assert run_select([good, bad], out, "--budget", "5") == 2
    message = capsys.readouterr().err
    assert str(bad) in message and fix in message
    if array is not None:
        assert repr(array) in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz", "good.npz"]


def test_missing_and_invalid_files_are_named(tmp_path, evidence_paths, capsys):
    text = tmp_path / "notes.npz"
    text.write_text("not a zip archive")
    single = tmp_path / "single.npy"
    np.save(single, np.zeros((3, 4)))
    for path, words in ((tmp_path / "absent.npz", "not found"), (text, "not a valid .npz"),
                        (single, "a single .npy array")):
        assert run_select([evidence_paths[0], path], tmp_path / "batch.csv", "--budget", "5") == 2
        message = capsys.readouterr().err
        assert str(path) in message and words in message
        assert "np.savez" in message or "check the path" in message
    assert not (tmp_path / "batch.csv").exists() and not (tmp_path / "batch.json").exists()


@pytest.mark.parametrize("arguments, words", [
    (["--budget", "0"], "--budget 0 is out of range"),
    (["--budget", "301"], "pool size 300"),
    (["--budget", "5", "--strategy", "daim"], "Did you mean 'diam'"),
    (["--budget", "5", "--option", "bta=-1"], "Did you mean 'beta'"),
    (["--budget", "5", "--option", "beta=1.0"], "option 'beta' = 1.0"),
    (["--budget", "5", "--option", "solver=newton"], "'greedy-swap' or 'authors'"),
    (["--budget", "5", "--strategy", "random", "--option", "beta=-1"], "takes no options"),
    (["--budget", "5", "--seed", "-1"], "--seed -1"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, evidence_paths, capsys, arguments, words):
    out = tmp_path / "batch.csv"
    assert run_select(evidence_paths, out, *arguments) == 2
    assert words in capsys.readouterr().err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_out_folder_must_exist(tmp_path, evidence_paths, capsys):
    out = tmp_path / "missing" / "batch.csv"
    assert run_select(evidence_paths, out, "--budget", "5") == 2
    message = capsys.readouterr().err
    assert f"folder {out.parent} does not exist" in message and "mkdir -p" in message
    assert not out.parent.exists()


def test_out_must_be_a_csv_that_overwrites_no_input(tmp_path, evidence_paths, model_arrays, capsys):
    assert run_select(evidence_paths, tmp_path / "x.txt", "--budget", "5") == 2
    assert "ending in .csv" in capsys.readouterr().err
    odd_name = save_model_evidence(tmp_path / "batch.json", **model_arrays[0])
    before = odd_name.read_bytes()
    assert run_select([odd_name], tmp_path / "batch.csv", "--budget", "5") == 2
    assert f"would overwrite the evidence file {odd_name}" in capsys.readouterr().err
    assert odd_name.read_bytes() == before and not (tmp_path / "batch.csv").exists()


def test_save_model_evidence_refuses_what_select_would_refuse(tmp_path, model_arrays):
    with pytest.raises(EvidenceFileError, match="softmax outputs, not logits"):
        save_model_evidence(tmp_path / "m.npz", pool_probs=np.ones((4, 3)))
    with pytest.raises(EvidenceFileError, match="unknown array 'features'"):
        save_model_evidence(tmp_path / "m.npz", features=np.ones((4, 3)))
    assert list(tmp_path.iterdir()) == []


def test_saved_file_round_trips_without_pickle(tmp_path, model_arrays):
    path = save_model_evidence(tmp_path / "m.npz", **model_arrays[0])
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model_arrays[0])
        for name, value in model_arrays[0].items():
            np.testing.assert_array_equal(archive[name], value)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_help_lists_every_strategy_with_its_task_and_arrays(capsys):
    from diamlib.evidence import HOW_TO_COMPUTE
    from diamlib.strategies.registry import STRATEGIES

    with pytest.raises(SystemExit) as exit_:
        main(["select", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ") and line.split()}
    for name, spec in STRATEGIES.items():
        assert " or ".join(sorted(spec.tasks)) in lines[name]
        if spec.evidence:
            assert ", ".join(sorted(spec.evidence)) in lines[name]
    for name in HOW_TO_COMPUTE:
        assert name in lines
    assert "--force" in text
