"""The stopping rule across the user's rounds of ``select``: a stop set of pool ids kept in ``batch.json``.

The first ``select`` draws the stop set: :data:`~diamlib.stopping.STOP_SET_SIZE` pool ids at most,
from the seed. Its ``batch.json`` keeps the ids and every model's predicted class on them. The
next round's ``select --previous OLD_batch.json`` reads them back, labels the same ids with the
new models, and measures each model's Cohen's kappa against the round before on the ids that
both rounds still have in the pool (a stop-set point that was labelled in between has left the
pool and no longer counts). The kappas of all rounds so far travel from record to record, and
:func:`diamlib.stopping.stop_report` gives each model's verdict and whether all have stopped.

References
----------
Bloodgood and Vijay-Shanker (2009), Sec. 3 (stabilising predictions on a fixed stop set).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from diamlib.seeding import child_rng
from diamlib.stopping import STOP_SET_SIZE, cohen_kappa, stop_report

#: Class label of a stop-set id that is no longer in the pool.
ABSENT = -1


def read_previous_record(path: Path) -> dict:
    """The ``stopping`` entry of a previous ``batch.json`` (written by ``select``).

    Raises
    ------
    ValueError
        A missing or unreadable file, or a record without a stop set; naming the fix.
    """
    path = Path(path)
    fix = "give the batch.json that the previous round's select wrote"
    if not path.is_file():
        raise ValueError(f"--previous {path}: file not found; {fix}")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"--previous {path}: not a JSON record ({exc}); {fix}") from None
    stopping = record.get("stopping") if isinstance(record, dict) else None
    if not isinstance(stopping, dict) or not isinstance(stopping.get("stop_set"), dict):
        raise ValueError(f"--previous {path}: holds no stop set (a record of a strategy whose files give no "
                         f"predicted classes, or of an older version); {fix}, or start without --previous")
    return stopping


def stopping_entry(labels: Mapping[str, np.ndarray], pool_ids: np.ndarray, *, n_classes: int, seed: int,
                   previous: Mapping[str, Any] | None = None) -> dict:
    """This round's stop-set record: the ids, each model's labels on them, kappas and the verdicts.

    Parameters
    ----------
    labels : mapping str -> ndarray of int, shape (n_pool,)
        Each target model's predicted class on every pool point (its final hypothesis).
    pool_ids : ndarray, shape (n_pool,)
        The pool's ids (compared as strings).
    n_classes : int
    seed : int
        Draws the stop set in the first round.
    previous : mapping, optional
        The ``stopping`` entry of the previous round's record (:func:`read_previous_record`).

    Returns
    -------
    dict
        ``{"stop_set": {"pool_ids", "labels"}, "kappas": {model: [...]}, "n_compared": int}`` plus
        :meth:`~diamlib.stopping.StopReport.as_record` (each model's latest kappa, window mean,
        ``stopped``; ``all_stopped``). ``labels`` hold :data:`ABSENT` for ids no longer in the pool.
    """
    ids = np.asarray(pool_ids).astype(str)
    where = {pool_id: row for row, pool_id in enumerate(ids)}
    if previous is None:
        chosen = np.sort(child_rng(seed, "stop-set").choice(len(ids), size=min(len(ids), STOP_SET_SIZE),
                                                            replace=False))
        stop_ids = ids[chosen].tolist()
        history: dict[str, list] = {name: [] for name in labels}
        before: dict[str, list] = {}
    else:
        stop_ids = [str(i) for i in previous["stop_set"]["pool_ids"]]
        history = {name: list(previous.get("kappas", {}).get(name, [])) for name in labels}
        before = previous["stop_set"]["labels"]
    rows = np.array([where.get(i, -1) for i in stop_ids], dtype=np.int64)
    present = rows >= 0
    current = {name: np.where(present, np.asarray(values)[np.maximum(rows, 0)], ABSENT).astype(np.int64)
               for name, values in labels.items()}
    n_compared = 0
    for name, now in current.items():
        if name not in before:
            history[name].append(None)
            continue
        old = np.asarray(before[name], dtype=np.int64)
        both = (old != ABSENT) & (now != ABSENT)
        n_compared = int(both.sum())
        history[name].append(cohen_kappa(old[both], now[both], n_classes) if both.any() else None)
    report = stop_report(history).as_record()
    return {**report, "kappas": history, "n_compared": n_compared,
            "stop_set": {"pool_ids": stop_ids, "labels": {n: v.tolist() for n, v in current.items()}}}
