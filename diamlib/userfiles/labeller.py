"""A notebook labeller: one image at a time, one button per class, every click saved.

``Labeller(store, batch_ids, images).widget`` shows the current pool point (its image, id
and progress "3 / 20"), a button per class of the store, and Back / Skip. A class click
stores the label (:class:`~diamlib.userfiles.labelling.LabelStore` writes its CSV at once) and moves to
the next unlabelled point, so closing the notebook loses nothing; a new labeller on the same
store starts at the first point still pending. Without a browser (papermill, nbval) label with
``store.label_all(batch_ids, truth)`` instead.

References
----------
Algorithm 2, lines 10-11 of the paper: the oracle labels the queried batch.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from diamlib.userfiles.labelling import LabelStore, image_png


class Labeller:
    """Buttons that label a batch into a :class:`~diamlib.userfiles.labelling.LabelStore`.

    Parameters
    ----------
    store : LabelStore
        Receives every label; its ``classes`` give the buttons.
    batch_ids : sequence of ids, or a batch table
        The proposed batch, best first: ids, or a table with a ``pool_id`` column
        (:func:`diamlib.userfiles.batchfile.read_batch_csv`).
    images : ndarray, shape (len(batch_ids), H, W) or (len(batch_ids), H, W, C)
        The image of each batch id, in batch order (e.g. ``pool.images[batch["pool_index"]]``).
    min_side : int
        Small images are enlarged to at least this many pixels on screen.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Display it in a notebook cell.
    position : int
        Index into ``batch_ids`` of the point shown.
    class_buttons : dict
        Class name -> its button (``button.click()`` labels headlessly).
    """

    def __init__(self, store: LabelStore, batch_ids: Sequence[Any] | pd.DataFrame, images: np.ndarray, *,
                 min_side: int = 160):
        self.store = store
        if isinstance(batch_ids, pd.DataFrame):
            batch_ids = batch_ids["pool_id"]
        self.batch_ids = [str(i) for i in batch_ids]
        if len(images) != len(self.batch_ids):
            raise ValueError(f"{len(images)} images for {len(self.batch_ids)} batch ids; give the image of every "
                             f"batch id in batch order (pool.images[batch['pool_index']])")
        if not self.batch_ids:
            raise ValueError("the batch is empty; nothing to label")
        self.images = images
        self.min_side = min_side
        self.header = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.class_buttons = {name: widgets.Button(description=name, tooltip=f"label as {name}")
                              for name in store.classes}
        for name, button in self.class_buttons.items():
            button.on_click(lambda _button, name=name: self.choose(name))
        self.back_button = widgets.Button(description="Back", icon="arrow-left")
        self.skip_button = widgets.Button(description="Skip", icon="arrow-right")
        self.back_button.on_click(lambda _button: self.show(self.position - 1))
        self.skip_button.on_click(lambda _button: self.show(self.position + 1))
        self.widget = widgets.VBox([self.header, self.image, widgets.HBox(list(self.class_buttons.values())),
                                    widgets.HBox([self.back_button, self.skip_button])])
        pending = store.pending(self.batch_ids)
        self.position = self.batch_ids.index(pending[0]) if pending else 0
        self.show(self.position)

    @property
    def current_id(self) -> str:
        return self.batch_ids[self.position]

    @property
    def done(self) -> bool:
        """Every batch id is labelled."""
        return not self.store.pending(self.batch_ids)

    def show(self, position: int) -> None:
        """Show batch point ``position`` (wrapping around the batch)."""
        self.position = position % len(self.batch_ids)
        self.image.value = image_png(self.images[self.position], min_side=self.min_side)
        label = self.store.get(self.current_id)
        n_pending = len(self.store.pending(self.batch_ids))
        n_labelled = len(self.batch_ids) - n_pending
        status = f"labelled <b>{escape(label)}</b>" if label is not None else "not labelled yet"
        finished = "" if n_pending else " &mdash; <b>all labelled</b>"
        self.header.value = (f"<b>{escape(self.current_id)}</b> &nbsp; {self.position + 1} / {len(self.batch_ids)} "
                             f"&nbsp; ({status}; {n_labelled} of {len(self.batch_ids)} done{finished})")
        for name, button in self.class_buttons.items():
            button.button_style = "success" if name == label else ""

    def choose(self, class_name: str) -> None:
        """Label the shown point as ``class_name`` (saved at once), then show the next pending point."""
        self.store.label(self.current_id, class_name)
        n = len(self.batch_ids)
        following = [(self.position + step) % n for step in range(1, n + 1)]
        pending = [p for p in following if self.batch_ids[p] not in self.store]
        self.show(pending[0] if pending else self.position)
