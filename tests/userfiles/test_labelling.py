"""The labelling round trip on scikit-learn's digits: pool, store, exports, imports, buttons."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from diamlib.evidence import Selection
from diamlib.userfiles.batchfile import batch_table, read_batch_csv, write_batch_csv
from diamlib.userfiles.labeller import Labeller
from diamlib.userfiles.labelling import (
    LABEL_COLUMNS,
    LabelStore,
    image_png,
    import_label_studio_json,
    import_labels_csv,
    label_studio_config,
    label_studio_tasks,
    load_user_pool,
    local_files_url,
    write_label_studio_tasks,
    write_pool_images,
)

CLASSES = [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.images[:40] * (255 / 16)).round().astype(np.uint8), data.target[:40]


@pytest.fixture
def pool_folder(tmp_path, digits):
    images, _ = digits
    folder = tmp_path / "pool"
    write_pool_images(folder, images, [f"d{i:03d}" for i in range(len(images))])
    return folder


@pytest.fixture
def batch(digits):
    images, _ = digits
    ids = np.array([f"d{i:03d}.png" for i in range(len(images))])
    selection = Selection(indices=np.array([7, 3, 12, 0, 25]), scores=np.linspace(0, 1, len(images)))
    return batch_table(selection, ids)


# --------------------------------------------------------------------------- the pool
def test_folder_pool_is_read_in_name_order_with_file_names_as_ids(pool_folder, digits):
    images, _ = digits
    pool = load_user_pool(pool_folder)
    assert pool.ids.tolist() == [f"d{i:03d}.png" for i in range(len(images))]
    np.testing.assert_array_equal(pool.images, images)  # PNG is lossless, grayscale stays (n, H, W)
    assert pool.paths[0] == pool_folder / "d000.png"
    np.testing.assert_array_equal(pool.positions(["d003.png", "d001.png"]), [3, 1])
    with pytest.raises(ValueError, match="not in the pool"):
        pool.positions(["nope.png"])


def test_mixed_sizes_need_size(pool_folder):
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(pool_folder / "z_big.png")
    with pytest.raises(ValueError, match=r"z_big.png is 10x12.*pass size=\(height, width\)"):
        load_user_pool(pool_folder)
    pool = load_user_pool(pool_folder, size=8)
    assert pool.images.shape[1:] == (8, 8)


def test_colour_file_makes_the_pool_rgb(pool_folder):
    Image.fromarray(np.full((8, 8, 3), 200, dtype=np.uint8)).save(pool_folder / "colour.jpg")
    pool = load_user_pool(pool_folder)
    assert pool.images.shape[-1] == 3 and pool.ids[0] == "colour.jpg"


def test_empty_folder_and_unreadable_file_are_named(tmp_path, pool_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"holds no PNG/JPEG images \(found \['notes.txt'\]\)"):
        load_user_pool(empty)
    (pool_folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png cannot be read"):
        load_user_pool(pool_folder)


def test_array_pools(tmp_path, digits):
    images, target = digits
    np.save(tmp_path / "pool.npy", images)
    pool = load_user_pool(tmp_path / "pool.npy")
    assert pool.ids[:3].tolist() == ["0", "1", "2"] and pool.labels is None
    np.savez(tmp_path / "pool.npz", images=images.astype(np.float32) / 255, ids=np.arange(100, 140), labels=target)
    pool = load_user_pool(tmp_path / "pool.npz")
    assert pool.ids[0] == "100" and pool.labels.tolist() == target.tolist()
    np.savez(tmp_path / "bad.npz", pictures=images)
    with pytest.raises(ValueError, match="holds 'images'"):
        load_user_pool(tmp_path / "bad.npz")
    np.savez(tmp_path / "dup.npz", images=images, ids=np.zeros(len(images), dtype=int))
    with pytest.raises(ValueError, match="repeats"):
        load_user_pool(tmp_path / "dup.npz")
    np.save(tmp_path / "objects.npy", np.array([images[0], "x"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="without unpickling"):
        load_user_pool(tmp_path / "objects.npy")


def test_image_png_enlarges_small_images(digits):
    images, _ = digits
    picture = Image.open(__import__("io").BytesIO(image_png(images[0], min_side=64)))
    assert picture.size == (64, 64)
    np.testing.assert_array_equal(np.asarray(picture)[::8, ::8], images[0])


# --------------------------------------------------------------------------- the store
def test_store_survives_a_restart_and_knows_what_is_pending(tmp_path, batch, digits):
    _, target = digits
    ids = batch["pool_id"].tolist()
    path = tmp_path / "labels.csv"
    store = LabelStore(path, CLASSES)
    store.label(ids[0], int(target[7]))
    store.label(ids[1], "4")
    del store  # the session ends without any closing step
    resumed = LabelStore(path, CLASSES)
    assert resumed.pending(ids) == ids[2:]
    assert resumed.labels == {ids[0]: CLASSES[target[7]], ids[1]: "4"}
    resumed.label_all(ids[2:], target[[12, 0, 25]])
    again = LabelStore(path, CLASSES)
    assert again.pending(ids) == []
    np.testing.assert_array_equal(again.class_indices(ids[2:]), target[[12, 0, 25]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]  # no temporary file left
    table = pd.read_csv(path, dtype=str)
    assert tuple(table.columns) == LABEL_COLUMNS and len(table) == 5


def test_relabelling_replaces_and_unknown_classes_are_refused(tmp_path):
    store = LabelStore(tmp_path / "labels.csv", ["cat", "dog"], pool_ids=["a", "b"])
    store.label("a", "cat")
    store.label("a", "dog")
    assert LabelStore(tmp_path / "labels.csv", ["cat", "dog"]).labels == {"a": "dog"}
    with pytest.raises(ValueError, match="unknown class 'dgo'. Did you mean 'dog'"):
        store.label("b", "dgo")
    with pytest.raises(ValueError, match="class index 2 is out of range"):
        store.label("b", 2)
    with pytest.raises(ValueError, match="not in the pool"):
        store.label("c", "cat")
    assert LabelStore(tmp_path / "labels.csv", ["cat", "dog"]).labels == {"a": "dog"}


def test_an_empty_label_file_is_an_empty_store_and_a_foreign_csv_is_refused(tmp_path):
    (tmp_path / "labels.csv").write_text("")
    assert len(LabelStore(tmp_path / "labels.csv", CLASSES)) == 0
    (tmp_path / "other.csv").write_text("id,class\na,1\n")
    with pytest.raises(ValueError, match="other.csv: columns \\['id', 'class'\\], expected pool_id, label"):
        LabelStore(tmp_path / "other.csv", CLASSES)


def test_a_label_file_with_other_classes_is_refused(tmp_path):
    LabelStore(tmp_path / "labels.csv", ["cat", "dog"]).label("a", "cat")
    with pytest.raises(ValueError, match=r"line 2: label 'cat' of 'a' is not one of the classes"):
        LabelStore(tmp_path / "labels.csv", ["0", "1"])


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    store = LabelStore(tmp_path / "labels.csv", CLASSES)
    store.label("x", "1")
    before = (tmp_path / "labels.csv").read_bytes()

    def broken(handle_path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="could not write"):
        store.label("y", "2")
    assert (tmp_path / "labels.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]


# --------------------------------------------------------------------------- exports and imports
def test_batch_csv_round_trip(tmp_path, batch):
    write_batch_csv(tmp_path / "batch.csv", batch)
    read = read_batch_csv(tmp_path / "batch.csv")
    assert read["pool_id"].tolist() == batch["pool_id"].tolist()
    np.testing.assert_allclose(read["score"], batch["score"])


def test_a_batch_selected_among_candidates_carries_pool_rows():
    pool_ids = np.array([f"p{i}" for i in range(8)])
    candidates = np.array([6, 1, 4, 3])  # the strategy saw these pool rows, in this order
    selection = Selection(indices=np.array([2, 0]), scores=np.array([0.1, 0.2, 0.3, 0.4]))
    table = batch_table(selection, pool_ids, pool_rows=candidates)
    assert table["pool_index"].tolist() == [4, 6] and table["pool_id"].tolist() == ["p4", "p6"]
    assert table["score"].tolist() == [0.3, 0.1]
    assert batch_table(selection, pool_ids[candidates])["pool_index"].tolist() == [2, 0]  # rows of what it saw
    with pytest.raises(ValueError, match="pool_rows must be pool rows 0..7"):
        batch_table(selection, pool_ids, pool_rows=np.array([6, 1, 9, 3]))


def test_label_studio_task_list(tmp_path, batch, pool_folder):
    pool = load_user_pool(pool_folder)
    urls = {pool_id: local_files_url(path, tmp_path) for pool_id, path in zip(pool.ids, pool.paths)}
    path = write_label_studio_tasks(tmp_path / "tasks.json", batch, urls)
    tasks = json.loads(path.read_text())
    assert isinstance(tasks, list) and len(tasks) == len(batch)
    first = tasks[0]
    assert first["id"] == 1 and set(first) == {"id", "data"}
    assert first["data"] == {"image": "/data/local-files/?d=pool/d007.png", "pool_id": "d007.png",
                             "pool_index": 7, "rank": 1, "score": batch["score"].iloc[0]}
    with pytest.raises(ValueError, match="no image URL for pool id"):
        label_studio_tasks(batch, {})
    config = label_studio_config(CLASSES)
    assert '<Image name="image" value="$image"/>' in config and config.count("<Choice ") == 10


def test_label_studio_tasks_carry_each_models_pre_label_and_the_strategys_score(batch, digits):
    images, _ = digits
    rng = np.random.default_rng(0)
    probs = {name: rng.dirichlet(np.ones(10), size=len(images)) for name in ("small-net", "large-net")}
    tasks = label_studio_tasks(batch, lambda pool_id: f"http://host/{pool_id}", pool_probs=probs, classes=CLASSES)
    for task, row in zip(tasks, batch.itertuples(index=False)):
        assert task["data"]["score"] == row.score and task["data"]["rank"] == row.rank
        assert [p["model_version"] for p in task["predictions"]] == ["small-net", "large-net"]
        for prediction in task["predictions"]:
            model_probs = probs[prediction["model_version"]][row.pool_index]
            assert prediction["score"] == model_probs.max()
            assert prediction["result"] == [{"from_name": "label", "to_name": "image", "type": "choices",
                                             "value": {"choices": [CLASSES[int(model_probs.argmax())]]}}]
    json.dumps(tasks, allow_nan=False)  # valid JSON for Label Studio's import
    with pytest.raises(ValueError, match="needs the class names"):
        label_studio_tasks(batch, lambda p: p, pool_probs=probs)
    with pytest.raises(ValueError, match=r"shape \(40, 10\); expected \(n_pool, 3\)"):
        label_studio_tasks(batch, lambda p: p, pool_probs=probs, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="names pool_index 25"):
        label_studio_tasks(batch, lambda p: p, pool_probs={"m": probs["small-net"][:20]}, classes=CLASSES)


def test_label_studio_export_is_imported(tmp_path, batch):
    tasks = label_studio_tasks(batch, lambda pool_id: f"http://host/{pool_id}")
    def annotation(choice, when, cancelled=False):
        return {"was_cancelled": cancelled, "updated_at": when,
                "result": [{"from_name": "label", "to_name": "image", "type": "choices",
                            "value": {"choices": [choice]}}]}
    tasks[0]["annotations"] = [annotation("3", "2026-01-01T10:00"), annotation("5", "2026-01-01T11:00")]
    tasks[1]["annotations"] = [annotation("8", "2026-01-02T10:00", cancelled=True)]
    tasks[2]["annotations"] = [annotation("1", "2026-01-01T10:00")]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    store = LabelStore(tmp_path / "labels.csv", CLASSES)
    assert import_label_studio_json(tmp_path / "export.json", store, batch_ids=batch["pool_id"]) == 2
    ids = batch["pool_id"].tolist()
    assert store.labels == {ids[0]: "5", ids[2]: "1"}
    assert store.pending(ids) == [ids[1], ids[3], ids[4]]
    tasks[3]["annotations"] = [annotation("cat", "2026-01-01T10:00")]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    with pytest.raises(ValueError, match=r"export.json, task 3 \(id 4\): unknown class 'cat'"):
        import_label_studio_json(tmp_path / "export.json", store)
    del tasks[0]["data"]["pool_id"]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    with pytest.raises(ValueError, match="task 0 .id 1.: no data.pool_id"):
        import_label_studio_json(tmp_path / "export.json", store)


def test_csv_import_good_and_bad(tmp_path, batch):
    ids = batch["pool_id"].tolist()
    store = LabelStore(tmp_path / "labels.csv", CLASSES)
    good = tmp_path / "good.csv"
    pd.DataFrame({"pool_id": ids[:3], "label": ["1", "7", "7"]}).to_csv(good, index=False)
    assert import_labels_csv(good, store, batch_ids=ids) == 3
    assert store.pending(ids) == ids[3:]
    cases = [
        ({"pool_id": [ids[3], "stranger.png"], "label": ["1", "2"]}, r"line 3: pool_id 'stranger.png' is not in "
                                                                     r"the proposed batch"),
        ({"pool_id": [ids[3], ids[4]], "label": ["1", "eleven"]}, r"line 3: unknown class 'eleven'"),
        ({"pool_id": [ids[3], ids[3]], "label": ["1", "2"]}, "appears twice"),
        ({"id": [ids[3]], "label": ["1"]}, r"columns \['pool_id'\] missing"),
    ]
    for columns, words in cases:
        bad = tmp_path / "bad.csv"
        pd.DataFrame(columns).to_csv(bad, index=False)
        with pytest.raises(ValueError, match=words):
            import_labels_csv(bad, store, batch_ids=ids)
        assert store.pending(ids) == ids[3:]  # nothing of a bad file is stored
    assert LabelStore(tmp_path / "labels.csv", CLASSES).pending(ids) == ids[3:]
    with pytest.raises(ValueError, match="does not exist"):
        import_labels_csv(tmp_path / "absent.csv", store)


# --------------------------------------------------------------------------- the widget
def test_button_clicks_save_labels_and_move_on(tmp_path, batch, digits):
    images, target = digits
    ids = batch["pool_id"].tolist()
    store = LabelStore(tmp_path / "labels.csv", CLASSES)
    labeller = Labeller(store, ids, images[batch["pool_index"]])
    assert labeller.current_id == ids[0] and "1 / 5" in labeller.header.value
    assert bytes(labeller.image.value).startswith(b"\x89PNG")
    labeller.class_buttons[CLASSES[target[7]]].click()
    assert labeller.current_id == ids[1] and "2 / 5" in labeller.header.value
    labeller.skip_button.click()
    assert labeller.current_id == ids[2]
    labeller.class_buttons["9"].click()
    labeller.back_button.click()
    labeller.back_button.click()
    assert labeller.current_id == ids[1]
    labeller.class_buttons["4"].click()
    assert LabelStore(tmp_path / "labels.csv", CLASSES).labels == {ids[0]: CLASSES[target[7]], ids[2]: "9",
                                                                   ids[1]: "4"}
    # a new labeller on the same file starts at the first point still pending
    resumed = Labeller(LabelStore(tmp_path / "labels.csv", CLASSES), batch, images[batch["pool_index"]])
    assert resumed.current_id == ids[3]
    resumed.class_buttons["0"].click()
    resumed.class_buttons["2"].click()
    assert resumed.done and "all labelled" in resumed.header.value
    resumed.back_button.click()
    resumed.class_buttons["3"].click()  # relabelling the shown point replaces its label
    assert resumed.store.get(ids[3]) == "3" and len(resumed.store) == 5
    with pytest.raises(ValueError, match="3 images for 5 batch ids"):
        Labeller(store, ids, images[:3])
