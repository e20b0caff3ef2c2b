"""Which batch a labelling round shows, so that Run All after a restart continues the person's work.

A round writes its batch to ``batch.csv`` and its labels to a
:class:`~diamlib.userfiles.labelling.LabelStore`. :func:`next_batch` reads both and decides:

- ``resume``: the batch file still has unlabelled points: show that batch again (it is not
  selected again, and the file is not rewritten);
- ``first``: too few labels to fit a model: label a first random batch;
- ``select``: the batch is fully labelled (or there is none, or a new one is asked for):
  select a new batch on the labels.

References
----------
Algorithm 2 of the paper: select (line 8-9), label (lines 10-11), retrain, repeat.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from diamlib.userfiles.batchfile import read_batch_csv
from diamlib.userfiles.labelling import LabelStore


@dataclass(frozen=True)
class NextBatch:
    """What a labelling round does next.

    Attributes
    ----------
    kind : {"resume", "first", "select"}
        Continue the pending batch of the file, label a first random batch, or select a new batch.
    batch : pandas.DataFrame or None
        The pending batch (``resume`` only), as :func:`~diamlib.userfiles.batchfile.read_batch_csv` reads it.
    note : str
        One sentence for the person: what happens and why.
    """

    kind: Literal["resume", "first", "select"]
    batch: pd.DataFrame | None
    note: str


def pending_batch(path: Path, store: LabelStore, *, pool_ids: Iterable[Any] | None = None) -> pd.DataFrame | None:
    """The batch of ``path`` while some of its points are still unlabelled in ``store``.

    Parameters
    ----------
    path : Path
        A batch file (``batch.csv``); a missing file has no pending batch.
    store : LabelStore
    pool_ids : iterable, optional
        The ids of the pool; when given, a batch with other ids is refused.

    Returns
    -------
    pandas.DataFrame or None
        The batch table, or None when there is no file or every point of it is labelled.

    Raises
    ------
    ValueError
        The batch lists ids outside the pool: it was selected on another pool.
    """
    path = Path(path)
    if not path.exists():
        return None
    batch = read_batch_csv(path)
    if pool_ids is not None:
        known = {str(i) for i in pool_ids}
        strangers = [i for i in batch["pool_id"] if i not in known]
        if strangers:
            raise ValueError(f"batch file {path} lists pool ids {strangers[:3]} that are not in the pool: it was "
                             f"selected on another pool; delete it, or ask for a new batch (new_batch=True)")
    return batch if store.pending(batch["pool_id"]) else None


def next_batch(path: Path, store: LabelStore, *, n_labelled: int, min_labels: int = 2,
               pool_ids: Iterable[Any] | None = None, new_batch: bool = False) -> NextBatch:
    """Decide what this round labels: the pending batch of ``path``, a first random batch, or a new batch.

    Parameters
    ----------
    path : Path
        The round's batch file (``batch.csv``).
    store : LabelStore
        The labels given so far.
    n_labelled : int
        Labelled points the models can train on.
    min_labels : int
        Fewer labels than this ask for a first random batch before any model is fitted.
    pool_ids : iterable, optional
        The pool's ids, to refuse a batch file of another pool (:func:`pending_batch`).
    new_batch : bool
        Select a new batch even when the file's batch is still pending (the file is then
        replaced by the caller).

    Returns
    -------
    NextBatch
    """
    path = Path(path)
    pending = None if new_batch else pending_batch(path, store, pool_ids=pool_ids)
    if pending is not None:
        n_pending = len(store.pending(pending["pool_id"]))
        return NextBatch("resume", pending, f"{path.name}: resuming its batch, {len(pending) - n_pending} of "
                                            f"{len(pending)} points labelled, {n_pending} to go (new_batch=True "
                                            f"selects a new batch instead)")
    if n_labelled < min_labels:
        return NextBatch("first", None, f"{n_labelled} labels, fewer than the {min_labels} the models need: "
                                        f"label a first random batch; the next round selects with DIAM")
    if new_batch:
        note = f"a new batch is selected on {n_labelled} labels, written to {path.name} (replacing any earlier one)"
    elif path.exists():
        note = f"the batch of {path.name} is fully labelled: a new batch is selected on {n_labelled} labels"
    else:
        note = f"no {path.name} yet: a batch is selected on {n_labelled} labels"
    return NextBatch("select", None, note)
