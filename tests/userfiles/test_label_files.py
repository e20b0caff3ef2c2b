"""Label files that cannot be trusted: each is refused with the file, the row and the fix, before anything is written.

A label store's own CSV, a CSV of labels to import and a Label Studio export are read at the
boundary; what a reader would misread (a row outside the pool, a ragged row, a binary file, a
folder, a task of the wrong shape) ends in the same result as labelling by hand, or in a
``ValueError`` that names the file and says what to do.
"""
from __future__ import annotations

import json

import pytest

from diamlib.userfiles.labelling import LabelStore, import_label_studio_json, import_labels_csv

CLASSES = ["cat", "dog"]
POOL = ["p0", "p1", "p2", "p3"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08"


@pytest.fixture
def store(tmp_path):
    """A store of the pool with one label, p0 = cat."""
    store = LabelStore(tmp_path / "labels.csv", CLASSES, pool_ids=POOL)
    store.label("p0", "cat")
    return store


def unchanged(store):
    """The store's file as it is now; compare after a refused call (nothing may be written)."""
    return store.path.read_bytes(), store.path.stat().st_mtime_ns


# --------------------------------------------------------------------------- the store's own file
def test_a_row_outside_the_pool_is_refused_as_label_is(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("pool_id,label,labelled_at\np0,cat,2026-01-01\n999,cat,2026-01-01\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 3: pool id '999' is not in the pool.*delete the row, or "
                                         r"open the store with the pool the file was labelled on"):
        LabelStore(path, CLASSES, pool_ids=POOL)
    with pytest.raises(ValueError, match="'999' is not in the pool"):
        LabelStore(tmp_path / "other.csv", CLASSES, pool_ids=POOL).label("999", "cat")
    assert LabelStore(path, CLASSES).labels == {"p0": "cat", "999": "cat"}  # without a pool every id is fine


def test_an_empty_pool_id_is_refused_in_the_file_and_by_label(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("pool_id,label,labelled_at\n,cat,2026-01-01\n")
    for pool_ids in (POOL, None):
        with pytest.raises(ValueError, match=r"labels.csv, line 2: empty pool id.*delete the row"):
            LabelStore(path, CLASSES, pool_ids=pool_ids)
    store = LabelStore(tmp_path / "new.csv", CLASSES)
    with pytest.raises(ValueError, match="empty pool id"):
        store.label("", "cat")
    assert not store.path.exists()


@pytest.mark.parametrize("text, words", [
    ("pool_id,label,labelled_at\np0,cat,2026-01-01,extra\n", r"line 2: 4 fields \['p0', 'cat', '2026-01-01', "
                                                              r"'extra'\] under the 3 columns"),
    ("pool_id,label,labelled_at\np0,cat,2026-01-01\np1,dog\n", r"line 3: 2 fields .* under the 3 columns"),
    ("pool_id,label,label\np0,cat,dog\n", r"line 1: column \['label'\] appears more than once"),
])
def test_a_ragged_row_of_the_store_is_refused_with_its_line(tmp_path, text, words):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"label file {path}, {words}"):
        LabelStore(path, CLASSES)


def test_a_binary_file_a_folder_or_another_encoding_is_named_with_the_fix(tmp_path):
    binary = tmp_path / "labels.png"
    binary.write_bytes(PNG)
    with pytest.raises(ValueError, match=rf"label file {binary} is a binary file.*give a new file name"):
        LabelStore(binary, CLASSES)
    folder = tmp_path / "labels"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"label file {folder} is a folder, not a file; give a new file name"):
        LabelStore(folder, CLASSES)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("pool_id,label,labelled_at\np0,cat,x\np1,ch\u00e9,x\n".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"label file {latin}, line 3: not UTF-8 text.*save it as UTF-8"):
        LabelStore(latin, ["cat", "ch\u00e9"])


def test_a_spreadsheets_byte_order_mark_and_quoted_commas_read_as_written(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes("\ufeffpool_id,label,labelled_at\n\"a,1\",\"cat, big\",t\n\n".encode())
    assert LabelStore(path, ["cat, big"]).labels == {"a,1": "cat, big"}
    store = LabelStore(tmp_path / "again.csv", ["cat, big"])
    store.label("a,1", "cat, big")
    assert LabelStore(store.path, ["cat, big"]).labels == {"a,1": "cat, big"}  # the store's own round trip


# --------------------------------------------------------------------------- a CSV to import
@pytest.mark.parametrize("text, words", [
    # every row one field longer than the header: pandas took the first column as the index and
    # read pool_id 'cat', label 'x'
    ("pool_id,label\np1,cat,x\np2,dog,y\n", r"line 2: 3 fields \['p1', 'cat', 'x'\] under the 2 columns .*quote a "
                                            r"value that contains a comma"),
    ("pool_id,label\np1,cat\np2\n", r"line 3: 1 fields \['p2'\] under the 2 columns"),
    ("pool_id,label\np1,cat\n,dog\n", r"line 3: empty pool_id"),
    ("pool_id,label\np1,cat\n999,dog\n", r"line 3: pool id '999' is not in the pool"),
    ("pool_id,label\np1,cat\n\"p2,dog\n", r"line 3: 1 fields"),  # an unclosed quote swallows the rest
])
def test_a_ragged_or_foreign_csv_row_is_refused_before_anything_is_stored(tmp_path, store, text, words):
    source = tmp_path / "import.csv"
    source.write_text(text)
    before = unchanged(store)
    with pytest.raises(ValueError, match=rf"label file {source}, {words}"):
        import_labels_csv(source, store)
    assert unchanged(store) == before and store.labels == {"p0": "cat"}


def test_import_reads_columns_by_name_and_in_any_order(tmp_path, store):
    source = tmp_path / "import.csv"
    source.write_text("label,note,pool_id\ndog,\"blurry, small\",p1\n\ncat,,p2\n")
    assert import_labels_csv(source, store) == 2
    assert store.labels == {"p0": "cat", "p1": "dog", "p2": "cat"}


def test_an_import_that_is_binary_a_folder_or_missing_names_the_file(tmp_path, store):
    before = unchanged(store)
    binary = tmp_path / "labels.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    with pytest.raises(ValueError, match=rf"label file {binary} is a binary file.*export the labels as a CSV"):
        import_labels_csv(binary, store)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"label file {folder} is a folder, not a file; export the labels as a CSV"):
        import_labels_csv(folder, store)
    with pytest.raises(ValueError, match=rf"label file {tmp_path / 'absent.csv'} does not exist"):
        import_labels_csv(tmp_path / "absent.csv", store)
    assert unchanged(store) == before


# --------------------------------------------------------------------------- a Label Studio export
def task(pool_id="p1", choices=("dog",), **changes):
    """One task of a Label Studio JSON export with one choices annotation; ``changes`` replace its parts."""
    result = {"type": "choices", "from_name": "label", "to_name": "image", "value": {"choices": list(choices)}}
    base = {"id": 7, "data": {"image": "/data/x.png", "pool_id": pool_id},
            "annotations": [{"id": 70, "result": [result], "was_cancelled": False}]}
    base.update(changes)
    return base


@pytest.mark.parametrize("tasks, words", [
    ([task(data="p1")], r"task 0 \(id 7\): data is a JSON str, not an object with pool_id"),
    ([task(data=["p1"])], r"task 0 \(id 7\): data is a JSON list"),
    ([task(data={"image": "x"})], r"task 0 \(id 7\): no data.pool_id"),
    ([task(pool_id=["p1"])], r"task 0 \(id 7\): data.pool_id is a JSON list, not a string"),
    (["p1"], r"task 0: a JSON str, not a task object"),
    ([task(annotations={"result": []})], r"task 0 \(id 7\): annotations is not a list of objects"),
    ([task(annotations=["dog"])], r"annotations is not a list of objects"),
    ([task(annotations=[{"id": 70, "result": "dog"}])], r"the result of annotation 70 is not a list of objects"),
    ([task(annotations=[{"result": ["dog"]}])], r"the result of an annotation is not a list of objects"),
    ([task(annotations=[{"id": 70, "result": [{"type": "choices", "value": "dog"}]}])],
     r"annotation 70 has a choices result whose value.choices is not a list of class names"),
    ([task(annotations=[{"id": 70, "result": [{"type": "choices", "value": {"choices": "dog"}}]}])],
     r"value.choices is not a list of class names"),
    ([task("p1"), task("p1", ["cat"], id=8)], r"task 1 \(id 8\): pool_id 'p1' appears twice \(also at task 0 "
                                              r"\(id 7\)\)"),
    ([task(""), ], r"task 0 \(id 7\): empty pool_id"),
    ([task("999")], r"task 0 \(id 7\): pool id '999' is not in the pool"),
    ({"tasks": []}, r"a JSON dict, not a list of tasks"),
])
def test_a_malformed_label_studio_export_is_refused_before_anything_is_stored(tmp_path, store, tasks, words):
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    before = unchanged(store)
    with pytest.raises(ValueError, match=rf"Label Studio export {export}|{export}, "):
        import_label_studio_json(export, store)
    with pytest.raises(ValueError, match=words):
        import_label_studio_json(export, store)
    assert unchanged(store) == before and store.labels == {"p0": "cat"}


def test_label_studio_structure_errors_say_how_to_export(tmp_path, store):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task(data="p1")]))
    with pytest.raises(ValueError, match=r"export the project as JSON \(not JSON-MIN\)"):
        import_label_studio_json(export, store)


def test_a_label_studio_export_that_is_binary_a_folder_or_not_json_names_the_file(tmp_path, store):
    before = unchanged(store)
    binary = tmp_path / "export.zip"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    with pytest.raises(ValueError, match=rf"Label Studio export {binary} is a binary file.*export the project as JSON"):
        import_label_studio_json(binary, store)
    folder = tmp_path / "export"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"Label Studio export {folder} is a folder, not a file"):
        import_label_studio_json(folder, store)
    csv_export = tmp_path / "export.csv"
    csv_export.write_text("pool_id,label\np1,dog\n")
    with pytest.raises(ValueError, match=rf"Label Studio export {csv_export}: not JSON .*export the project as JSON"):
        import_label_studio_json(csv_export, store)
    assert unchanged(store) == before


def test_a_well_formed_export_labels_as_the_buttons_would(tmp_path, store):
    export = tmp_path / "export.json"
    skipped = task("p3", annotations=[{"id": 1, "was_cancelled": True, "result": "anything"}])
    other = task("p2", annotations=[{"id": 2, "result": [{"type": "textarea", "value": "a note"}]}])
    export.write_text(json.dumps([task("p1"), skipped, other, task("p0", ["cat"])]))
    by_hand = LabelStore(tmp_path / "by_hand.csv", CLASSES, pool_ids=POOL)
    by_hand.label_many([("p0", "cat"), ("p1", "dog")])
    assert import_label_studio_json(export, store) == 1  # p0 already is a cat
    assert store.labels == by_hand.labels and store.pending(POOL) == ["p2", "p3"]
