"""Run All after a restart: the pending batch is resumed, and labels that did not change are not rewritten."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from diamlib.evidence import Selection
from diamlib.userfiles.batchfile import batch_table, write_batch_csv
from diamlib.userfiles.labelling import LabelStore, import_labels_csv
from diamlib.userfiles.rounds import next_batch, pending_batch

CLASSES = ["cat", "dog"]
POOL = np.array([f"p{i}" for i in range(10)])


@pytest.fixture
def store(tmp_path):
    return LabelStore(tmp_path / "labels.csv", CLASSES, pool_ids=POOL)


@pytest.fixture
def batch_path(tmp_path):
    path = tmp_path / "batch.csv"
    write_batch_csv(path, batch_table(Selection(indices=np.array([4, 2, 7])), POOL))
    return path


def snapshot(path):
    return path.read_bytes(), path.stat().st_mtime_ns


# --------------------------------------------------------------------------- labels that did not change
def test_the_same_label_again_rewrites_nothing(store):
    store.label_many([("p0", "cat"), ("p1", "dog")])
    before = snapshot(store.path)
    assert store.label_many([("p0", "cat"), ("p1", 1)]) == 0  # a name or its index: the same class
    store.label("p0", "cat")
    assert snapshot(store.path) == before
    assert store.label_all(["p0", "p1"], [0, 1]) == 0  # the oracle on a second run
    assert snapshot(store.path) == before


def test_a_change_rewrites_only_the_changed_row(store):
    store.label_many([("p0", "cat"), ("p1", "dog")])
    stamps = pd.read_csv(store.path, dtype=str).set_index("pool_id")["labelled_at"]
    assert store.label_many([("p0", "cat"), ("p1", "cat"), ("p2", "dog")]) == 2
    table = pd.read_csv(store.path, dtype=str).set_index("pool_id")
    assert table.index.tolist() == ["p0", "p1", "p2"]  # the unchanged row keeps its place
    assert table.loc["p0", "labelled_at"] == stamps["p0"]
    assert table["label"].tolist() == ["cat", "cat", "dog"]


def test_an_id_given_twice_keeps_its_last_label(store):
    store.label("p0", "cat")
    assert store.label_many([("p0", "dog"), ("p0", "cat")]) == 0
    assert store.label_many([("p0", "cat"), ("p0", "dog")]) == 1 and store.get("p0") == "dog"


def test_a_reimport_rewrites_nothing(tmp_path, store):
    source = tmp_path / "initial.csv"
    pd.DataFrame({"pool_id": ["p0", "p1"], "label": ["cat", "dog"]}).to_csv(source, index=False)
    assert import_labels_csv(source, store) == 2
    before = snapshot(store.path)
    assert import_labels_csv(source, LabelStore(store.path, CLASSES, pool_ids=POOL)) == 0  # Run All after restart
    assert snapshot(store.path) == before


# --------------------------------------------------------------------------- the pending batch
def test_a_half_labelled_batch_is_resumed_without_rewriting_it(store, batch_path):
    store.label("p4", "dog")
    before = snapshot(batch_path)
    plan = next_batch(batch_path, store, n_labelled=5, pool_ids=POOL)
    assert plan.kind == "resume" and plan.batch["pool_id"].tolist() == ["p4", "p2", "p7"]
    assert "1 of 3 points labelled, 2 to go" in plan.note and "new_batch=True" in plan.note
    assert snapshot(batch_path) == before


def test_a_labelled_batch_asks_for_a_new_one(store, batch_path):
    store.label_many([("p4", "dog"), ("p2", "cat"), ("p7", "cat")])
    assert pending_batch(batch_path, store) is None
    plan = next_batch(batch_path, store, n_labelled=5)
    assert plan.kind == "select" and plan.batch is None and "fully labelled" in plan.note


def test_new_batch_is_selected_on_request_even_with_points_pending(store, batch_path):
    plan = next_batch(batch_path, store, n_labelled=5, new_batch=True)
    assert plan.kind == "select" and "replacing any earlier one" in plan.note


def test_without_labels_a_first_random_batch_is_offered(tmp_path, store):
    plan = next_batch(tmp_path / "batch.csv", store, n_labelled=0)
    assert plan.kind == "first" and "first random batch" in plan.note
    assert next_batch(tmp_path / "batch.csv", store, n_labelled=1, min_labels=2).kind == "first"
    assert next_batch(tmp_path / "batch.csv", store, n_labelled=2, min_labels=2).kind == "select"


def test_a_pending_first_batch_is_resumed_before_anything_else(tmp_path, store):
    first = batch_table(Selection(indices=np.array([0, 1, 2])), POOL)  # as notebook 05 writes it
    write_batch_csv(tmp_path / "batch.csv", first)
    store.label("p0", "cat")
    plan = next_batch(tmp_path / "batch.csv", store, n_labelled=1)
    assert plan.kind == "resume" and plan.batch["pool_index"].tolist() == [0, 1, 2]


def test_a_batch_of_another_pool_is_refused_with_the_fix(store, batch_path):
    with pytest.raises(ValueError, match=r"batch.csv lists pool ids \['p4', 'p2', 'p7'\] that are not in the "
                                         r"pool.*new_batch=True"):
        pending_batch(batch_path, store, pool_ids=["q1", "q2"])
    assert next_batch(batch_path, store, n_labelled=5, pool_ids=["q1"], new_batch=True).kind == "select"
