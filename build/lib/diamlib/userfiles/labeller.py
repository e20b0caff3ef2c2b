"""A notebook labeller: one image at a time, one button and one key per class, every label saved.

``Labeller(store, batch, pool).widget`` shows the current pool point (its id, progress
"3 / 20" and label) above its image, at a fixed size beside the class buttons and Back /
Skip, so that everything fits on one screen. A class click stores the label
(:class:`~diamlib.userfiles.labelling.LabelStore` writes its CSV at once) and moves to the
next unlabelled point, so closing the notebook loses nothing; a new labeller on the same
store starts at the first point still pending. Without a browser (papermill, nbval) label
with ``store.label_all(batch_ids, truth)`` instead.

Keys. ipywidgets sends no key events, so the labeller has a small text field, *keys*: every
character typed into it is handed to the button it names (``button.click()``, the path of
a mouse click). After any click the focus returns to that field, so one click on a button
(or on the field) is enough to go on with the keyboard. Each class's key is shown on its
button (:func:`class_keys`); ``b`` is Back and ``s`` is Skip.

:func:`run_when_labelled` holds the next round until the batch is labelled: a button that
says how many points are still pending, and trains once none is.

References
----------
Algorithm 2, lines 10-11 of the paper: the oracle labels the queried batch.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from diamlib.userfiles.labelling import LabelStore, UserPool, image_png

#: Keys of the Back and Skip buttons.
BACK_KEY, SKIP_KEY = "b", "s"
#: Keys given to the classes in order when the class names are not keys themselves.
ORDERED_KEYS = "1234567890qwertyuiopadfghjklzxcvnm"
#: CSS class of the labeller's outer box (and prefix of its parts' classes), for styling and browser tests.
CSS_CLASS = "diamlib-labeller"


def class_keys(classes: Sequence[str]) -> dict[str, str]:
    """The keyboard key of each class.

    When every class name is a single distinct character other than Back's and Skip's keys
    (the digits "0".."9", say), each class is its own key. Otherwise the classes take
    1-9, 0, then letters (:data:`ORDERED_KEYS`) in order; classes beyond those have buttons only.

    Parameters
    ----------
    classes : sequence of str

    Returns
    -------
    dict
        Class name -> key, in class order.
    """
    names = [str(c) for c in classes]
    reserved = {BACK_KEY, SKIP_KEY}
    own = [n for n in names if len(n) == 1 and n.isprintable() and not n.isspace() and n.lower() not in reserved]
    if len(own) == len(names) and len({n.lower() for n in names}) == len(names):
        return {n: n for n in names}
    return dict(zip(names, ORDERED_KEYS))


def typed_text(before: str, after: str) -> str:
    """The characters typed into a text field whose value went from ``before`` to ``after``.

    Keys typed faster than the kernel answers reach it as one change of several characters
    (ipywidgets sends the field's latest value), so the difference is taken, not the last
    character: appended or inserted text is returned, a deletion gives "".
    """
    start = len(os.path.commonprefix([before, after]))
    rest_before, rest_after = before[start:], after[start:]
    end = len(os.path.commonprefix([rest_before[::-1], rest_after[::-1]]))
    return rest_after[:len(rest_after) - end]


class Labeller:
    """Buttons and keys that label a batch into a :class:`~diamlib.userfiles.labelling.LabelStore`.

    Parameters
    ----------
    store : LabelStore
        Receives every label; its ``classes`` give the buttons.
    batch_ids : sequence of ids, or a batch table
        The proposed batch, best first: ids, or a table with a ``pool_id`` column
        (:func:`diamlib.userfiles.batchfile.read_batch_csv`).
    images : UserPool, or ndarray of shape (len(batch_ids), H, W) or (len(batch_ids), H, W, C)
        The pool the batch ids come from (each id's image is looked up by id), or the image of
        every batch id in batch order (``pool.images[pool.positions(batch["pool_id"])]``).
    image_size : int
        Side in pixels of the square the image is shown in. Small images are enlarged by
        repeating pixels (nearest neighbour, so 8x8 digits stay sharp); the picture keeps its
        aspect ratio and never grows with the notebook's width.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Display it in a notebook cell.
    position : int
        Index into ``batch_ids`` of the point shown.
    class_buttons : dict
        Class name -> its button (``button.click()`` labels headlessly).
    keys : dict
        Class name -> its key (:func:`class_keys`).
    key_field : ipywidgets.Text
        The field that takes the keys; setting its ``value`` types into it.
    """

    def __init__(self, store: LabelStore, batch_ids: Sequence[Any] | pd.DataFrame, images: UserPool | np.ndarray,
                 *, image_size: int = 280):
        self.store = store
        if isinstance(batch_ids, pd.DataFrame):
            batch_ids = batch_ids["pool_id"]
        self.batch_ids = [str(i) for i in batch_ids]
        if not self.batch_ids:
            raise ValueError("the batch is empty; nothing to label")
        if isinstance(images, UserPool):
            images = images.images[images.positions(self.batch_ids)]
        if len(images) != len(self.batch_ids):
            raise ValueError(f"{len(images)} images for {len(self.batch_ids)} batch ids; give the pool "
                             f"(Labeller(store, batch, pool)) or the image of every batch id in batch order "
                             f"(pool.images[pool.positions(batch['pool_id'])])")
        self.images = images
        self.image_size = int(image_size)
        self.keys = class_keys(store.classes)
        self._listeners: list[Callable[[], None]] = []
        self._build()
        pending = store.pending(self.batch_ids)
        self.position = self.batch_ids.index(pending[0]) if pending else 0
        self.show(self.position)

    # ------------------------------------------------------------------ the widgets
    def _build(self) -> None:
        size = f"{self.image_size}px"
        self.header = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=size, height=size, min_width=size, object_fit="contain", border="1px solid #bbb"))
        self.class_buttons = {name: self._button(name, self.keys.get(name), f"label as {name}")
                              for name in self.store.classes}
        for name, button in self.class_buttons.items():
            button.on_click(lambda _button, name=name: self.choose(name))
        self.back_button = self._button("Back", BACK_KEY, "show the previous point", icon="arrow-left")
        self.skip_button = self._button("Skip", SKIP_KEY, "show the next point, unlabelled", icon="arrow-right")
        self.back_button.on_click(lambda _button: self.step(-1))
        self.skip_button.on_click(lambda _button: self.step(+1))
        self.key_field = widgets.Text(placeholder="type keys here", continuous_update=True,
                                      layout=widgets.Layout(width="150px"))
        self.key_field.observe(self._on_typed, names="value")
        self.key_help = widgets.HTML(self._help())
        columns = min(5, max(1, math.ceil(len(self.class_buttons) / 7)))
        grid = widgets.GridBox(list(self.class_buttons.values()), layout=widgets.Layout(
            grid_template_columns=f"repeat({columns}, 140px)", grid_gap="4px 6px"))
        controls = widgets.VBox([grid, widgets.HBox([self.back_button, self.skip_button]),
                                 widgets.HBox([self.key_field]), self.key_help],
                                layout=widgets.Layout(margin="0 0 0 12px", width="auto"))
        self.widget = widgets.VBox([self.header, widgets.HBox([self.image, controls])],
                                   layout=widgets.Layout(width="auto"))
        for part, name in [(self.widget, ""), (self.header, "-header"), (self.image, "-image"),
                           (self.back_button, "-back"), (self.skip_button, "-skip"), (self.key_field, "-keys")]:
            part.add_class(CSS_CLASS + name)
        for button in self.class_buttons.values():
            button.add_class(f"{CSS_CLASS}-class")

    @staticmethod
    def _button(name: str, key: str | None, tooltip: str, *, icon: str = "") -> widgets.Button:
        description = name if key is None or key == name else f"{name} [{key}]"
        key_note = "" if key is None else f" (key {key})"
        return widgets.Button(description=description, tooltip=tooltip + key_note, icon=icon,
                              layout=widgets.Layout(width="140px" if not icon else "110px"))

    def _help(self, note: str = "") -> str:
        keyed = list(self.keys.values())
        shown = " ".join(keyed) if len(keyed) <= 10 else f"{' '.join(keyed[:9])} ... {keyed[-1]}"
        classes = f"{shown} label (as on the buttons), " if keyed else ""
        warning = f"<br><span style='color:#b00'>{escape(note, quote=False)}</span>" if note else ""
        return f"<small>Keys, typed in this field: {escape(classes)}{BACK_KEY} back, {SKIP_KEY} skip.{warning}</small>"

    # ------------------------------------------------------------------ state
    @property
    def current_id(self) -> str:
        return self.batch_ids[self.position]

    @property
    def done(self) -> bool:
        """Every batch id is labelled."""
        return not self.store.pending(self.batch_ids)

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every label, back or skip (e.g. to show the progress elsewhere)."""
        self._listeners.append(callback)

    def show(self, position: int) -> None:
        """Show batch point ``position`` (wrapping around the batch)."""
        self.position = position % len(self.batch_ids)
        self.image.value = image_png(self.images[self.position], min_side=self.image_size)
        label = self.store.get(self.current_id)
        n_pending = len(self.store.pending(self.batch_ids))
        n_labelled = len(self.batch_ids) - n_pending
        status = f"labelled <b>{escape(label)}</b>" if label is not None else "not labelled yet"
        finished = "" if n_pending else " &mdash; <b>all labelled</b>"
        self.header.value = (f"<b>{escape(self.current_id)}</b> &nbsp; {self.position + 1} / {len(self.batch_ids)} "
                             f"&nbsp; ({status}; {n_labelled} of {len(self.batch_ids)} done{finished})")
        for name, button in self.class_buttons.items():
            button.button_style = "success" if name == label else ""

    # ------------------------------------------------------------------ actions
    def choose(self, class_name: str) -> None:
        """Label the shown point as ``class_name`` (saved at once), then show the next pending point."""
        self.store.label(self.current_id, class_name)
        n = len(self.batch_ids)
        following = [(self.position + step) % n for step in range(1, n + 1)]
        pending = [p for p in following if self.batch_ids[p] not in self.store]
        self.show(pending[0] if pending else self.position)
        self._changed()

    def step(self, offset: int) -> None:
        """Show the point ``offset`` places further in the batch (Back: -1, Skip: +1)."""
        self.show(self.position + offset)
        self._changed()

    def press(self, key: str) -> bool:
        """Click the button of ``key`` (a class's key, Back's or Skip's; either case); False for a key of none."""
        buttons = {k.lower(): self.class_buttons[name] for name, k in self.keys.items()}
        buttons.update({BACK_KEY: self.back_button, SKIP_KEY: self.skip_button})
        button = buttons.get(key.lower())
        if button is None:
            return False
        button.click()
        return True

    def _on_typed(self, change: dict) -> None:
        unknown = [key for key in typed_text(change["old"], change["new"]) if not self.press(key)]
        self.key_help.value = self._help(f"key {unknown[-1]!r} does nothing here" if unknown else "")

    def _changed(self) -> None:
        self.key_field.focus()  # the next key goes to the field, after a mouse click too
        for callback in self._listeners:
            callback()


# --------------------------------------------------------------------------- the next round waits
class LabelledGate:
    """A button that runs ``action`` only once every point of a batch is labelled.

    Made by :func:`run_when_labelled`. Pressed while points are pending, it says how many;
    once none is, it runs ``action`` with its output shown under the button (again on every
    press, e.g. after a label was corrected).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The button, a status line and the action's output.
    button : ipywidgets.Button
    status : ipywidgets.HTML
    output : ipywidgets.Output
    runs : int
        How many times ``action`` ran.
    """

    def __init__(self, store: LabelStore, batch_ids: Sequence[Any], action: Callable[[], Any], *,
                 description: str, labeller: Labeller | None = None):
        self.store, self.batch_ids, self.action = store, [str(i) for i in batch_ids], action
        self.runs = 0
        self.button = widgets.Button(description=description, icon="play", layout=widgets.Layout(width="auto"))
        self.button.add_class(f"{CSS_CLASS}-gate")
        self.button.on_click(lambda _button: self.press())
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.button, self.status]), self.output])
        if labeller is not None:
            labeller.on_change(self.refresh)
        self.refresh()

    @property
    def pending(self) -> list[str]:
        """Ids of the batch still unlabelled."""
        return self.store.pending(self.batch_ids)

    def refresh(self) -> None:
        """Show how many points are still pending, and whether the button runs."""
        n_pending = len(self.pending)
        self.button.button_style = "" if n_pending else "success"
        self.status.value = (f"&nbsp; {n_pending} of {len(self.batch_ids)} points of the batch are not labelled yet: "
                             f"label them above, then press the button" if n_pending
                             else f"&nbsp; all {len(self.batch_ids)} points of the batch are labelled")

    def press(self) -> None:
        """Run ``action`` if the batch is labelled; otherwise say how many points are pending."""
        self.refresh()
        if self.pending:
            self.status.value = f"<b>{self.status.value}</b>"
            return
        self.output.clear_output()
        with self.output:
            self.action()
        self.runs += 1


def run_when_labelled(store: LabelStore, batch_ids: Sequence[Any] | pd.DataFrame, action: Callable[[], Any], *,
                      labeller: Labeller | None = None,
                      description: str = "Train on my labels") -> LabelledGate | None:
    """Run ``action()`` now if every batch point is labelled; otherwise return a button that waits.

    The next round must not train on a half-labelled batch: with a person labelling, the cell
    that trains shows this button instead, and Run All stops nowhere (papermill runs with the
    oracle, whose batch is labelled, run ``action`` at once).

    Parameters
    ----------
    store : LabelStore
    batch_ids : sequence of ids, or a batch table (its ``pool_id`` column)
    action : callable
        The next round (it displays its own results).
    labeller : Labeller, optional
        When given, the button's status follows every label.
    description : str
        The button's text.

    Returns
    -------
    LabelledGate or None
        None when ``action`` ran; otherwise the gate, whose ``widget`` the cell displays.
    """
    if isinstance(batch_ids, pd.DataFrame):
        batch_ids = batch_ids["pool_id"]
    batch_ids = [str(i) for i in batch_ids]
    if not store.pending(batch_ids):
        action()
        return None
    return LabelledGate(store, batch_ids, action, description=description, labeller=labeller)
