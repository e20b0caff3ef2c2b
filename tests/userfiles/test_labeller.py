"""The labeller without a browser: its layout, its keys (the path of a click) and the gate of the next round."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from diamlib.userfiles.labeller import BACK_KEY, SKIP_KEY, Labeller, class_keys, run_when_labelled, typed_text
from diamlib.userfiles.labelling import LabelStore, UserPool

DIGITS = [str(d) for d in range(10)]
IDS = ["a", "b", "c", "d"]


@pytest.fixture
def images():
    return np.arange(len(IDS) * 64, dtype=np.uint8).reshape(len(IDS), 8, 8)


@pytest.fixture
def store(tmp_path):
    return LabelStore(tmp_path / "labels.csv", DIGITS)


def saved(store):
    """The labels as the file holds them (a new store on the same file)."""
    return LabelStore(store.path, store.classes).labels


# --------------------------------------------------------------------------- keys
def test_class_keys_are_the_names_when_they_are_single_characters_and_else_in_order():
    assert class_keys(DIGITS) == {d: d for d in DIGITS}
    assert class_keys(["cat", "dog", "bird"]) == {"cat": "1", "dog": "2", "bird": "3"}
    assert class_keys(["x", "S"]) == {"x": "1", "S": "2"}  # s is Skip's key, in either case
    assert class_keys(["a", "A"]) == {"a": "1", "A": "2"}  # one key for two classes would be ambiguous
    many = class_keys([f"class{i}" for i in range(40)])
    assert list(many.values())[:11] == list("1234567890q") and len(many) == 34
    assert BACK_KEY not in many.values() and SKIP_KEY not in many.values()


def test_typed_text_is_what_was_added_to_the_field():
    assert typed_text("", "3") == "3"
    assert typed_text("3", "35s") == "5s"  # keys typed faster than the kernel answered arrive together
    assert typed_text("35", "3") == ""  # a deletion types nothing
    assert typed_text("13", "123") == "2"
    assert typed_text("", "") == ""


def test_a_key_goes_through_its_buttons_click(store, images):
    labeller = Labeller(store, IDS, images)
    clicks = []
    labeller.class_buttons["3"].on_click(lambda _button: clicks.append("3"))
    labeller.skip_button.on_click(lambda _button: clicks.append("skip"))
    labeller.key_field.value = "3"
    assert clicks == ["3"] and saved(store) == {"a": "3"} and labeller.current_id == "b"
    labeller.key_field.value += "s"
    assert clicks == ["3", "skip"] and labeller.current_id == "c"
    labeller.key_field.value += "B"  # Back, either case
    assert labeller.current_id == "b"


def test_keys_typed_together_are_each_applied_once(store, images):
    labeller = Labeller(store, IDS, images)
    labeller.key_field.value = "12"
    assert saved(store) == {"a": "1", "b": "2"} and labeller.current_id == "c"
    labeller.key_field.value = "1"  # Backspace: nothing typed, nothing labelled
    labeller.key_field.value = "19"
    assert saved(store) == {"a": "1", "b": "2", "c": "9"}


def test_an_unknown_key_is_named_and_labels_nothing(store, images):
    labeller = Labeller(store, IDS, images)
    labeller.key_field.value = "x"
    assert "key 'x' does nothing" in labeller.key_help.value and len(store) == 0
    labeller.key_field.value += "4"
    assert "does nothing" not in labeller.key_help.value and saved(store) == {"a": "4"}


def test_named_classes_take_number_keys_shown_on_their_buttons(tmp_path, images):
    store = LabelStore(tmp_path / "labels.csv", ["cat", "dog"])
    labeller = Labeller(store, IDS, images)
    assert labeller.class_buttons["dog"].description == "dog [2]"
    assert Labeller(LabelStore(tmp_path / "d.csv", DIGITS), IDS, images).class_buttons["7"].description == "7"
    labeller.key_field.value = "21"
    assert saved(store) == {"a": "dog", "b": "cat"}


def test_every_action_returns_the_focus_to_the_keys_field(store, images, monkeypatch):
    labeller = Labeller(store, IDS, images)
    focused = []
    monkeypatch.setattr(labeller.key_field, "focus", lambda: focused.append(labeller.current_id))
    labeller.class_buttons["0"].click()
    labeller.skip_button.click()
    labeller.back_button.click()
    assert focused == ["b", "c", "b"]


# --------------------------------------------------------------------------- layout
def test_the_image_has_a_fixed_size_and_tiny_images_are_enlarged_sharply(store, images):
    labeller = Labeller(store, IDS, images, image_size=240)
    assert (labeller.image.layout.width, labeller.image.layout.height) == ("240px", "240px")
    assert labeller.image.layout.object_fit == "contain"
    picture = Image.open(io.BytesIO(bytes(labeller.image.value)))
    assert picture.size == (240, 240)  # 8x8 repeated 30 times: nearest neighbour, no blur
    np.testing.assert_array_equal(np.asarray(picture)[::30, ::30], images[0])


def test_the_labeller_takes_the_pool_and_finds_each_image_by_id(store, images):
    pool = UserPool(images=images[::-1].copy(), ids=np.array(IDS[::-1]))
    labeller = Labeller(store, ["b", "d"], pool)
    np.testing.assert_array_equal(labeller.images, images[[1, 3]])
    with pytest.raises(ValueError, match="not in the pool"):
        Labeller(store, ["b", "zz"], pool)


# --------------------------------------------------------------------------- the next round waits
def test_the_next_round_runs_at_once_when_the_batch_is_labelled(store):
    store.label_many([("a", 1), ("b", 2)])
    runs = []
    assert run_when_labelled(store, ["a", "b"], lambda: runs.append(1)) is None
    assert runs == [1]


def test_the_next_round_waits_for_the_last_label(store, images):
    labeller = Labeller(store, IDS[:3], images[:3])
    runs = []
    gate = run_when_labelled(store, IDS[:3], lambda: runs.append(len(store)), labeller=labeller)
    assert gate is not None and runs == []
    assert "3 of 3 points of the batch are not labelled yet" in gate.status.value
    gate.button.click()
    assert runs == [] and gate.runs == 0 and "<b>" in gate.status.value  # refused, with the count
    labeller.key_field.value = "12"
    assert "1 of 3 points" in gate.status.value  # the status follows the labeller
    gate.button.click()
    assert runs == []
    labeller.key_field.value += "3"
    assert "all 3 points of the batch are labelled" in gate.status.value and gate.button.button_style == "success"
    gate.button.click()
    assert runs == [3] and gate.runs == 1
