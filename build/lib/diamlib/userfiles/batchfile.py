"""A proposed batch as a table: which pool points to label, in the order of preference.

One table serves the ``select`` command's ``batch.csv``, the labelling exports and the
labeller: columns ``rank, pool_index, pool_id, score``.

- ``rank``: 1 for the most preferred point, then 2, 3, ... (``Selection.indices`` order);
- ``pool_index``: row of the point (0-based) in the pool arrays the strategy saw (the evidence
  files' for the ``select`` command), or in the whole pool when the strategy saw a part of it
  and :func:`batch_table` was given ``pool_rows``; in any other array, find the point by ``pool_id``;
- ``pool_id``: the user's id of the point (a file name, a database key, ...);
- ``score``: the strategy's utility of the point (``Selection.scores``), empty when the
  strategy has none (e.g. random sampling).

References
----------
Algorithm 2, line 10 of the paper: the ``tau`` (= budget) points queried in a round.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from diamlib.evidence import Selection
from diamlib.fileio import atomic_write_text

#: Columns of a batch table, in file order.
BATCH_COLUMNS = ("rank", "pool_index", "pool_id", "score")


def batch_table(selection: Selection, pool_ids: np.ndarray, *, pool_rows: np.ndarray | None = None) -> pd.DataFrame:
    """The batch of ``selection`` as a table, most preferred point first.

    Parameters
    ----------
    selection : Selection
        ``indices`` are rows of the arrays the strategy saw; ``scores``, if given, has one
        entry per such row.
    pool_ids : ndarray, shape (n_pool,)
        The id of every pool row.
    pool_rows : ndarray of int, shape (n_seen,), optional
        The pool row of each row the strategy saw, when it saw part of the pool (e.g. only the
        unlabelled candidates): ``pool_index`` is then ``pool_rows[selection.indices]``, a row of
        the pool. Without it the strategy saw the whole pool, row for row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BATCH_COLUMNS`; ``score`` is NaN (an empty CSV cell) without scores.
    """
    chosen = np.asarray(selection.indices, dtype=np.int64)
    pool_ids = np.asarray(pool_ids)
    seen = np.arange(pool_ids.shape[0]) if pool_rows is None else np.asarray(pool_rows, dtype=np.int64)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= seen.shape[0]):
        raise ValueError(f"selection indices must be rows 0..{seen.shape[0] - 1} of the arrays the strategy saw")
    if seen.size and (seen.min() < 0 or seen.max() >= pool_ids.shape[0]):
        raise ValueError(f"pool_rows must be pool rows 0..{pool_ids.shape[0] - 1}")
    positions = seen[chosen]
    scores = (np.full(chosen.size, np.nan) if selection.scores is None
              else np.asarray(selection.scores, dtype=np.float64)[chosen])
    return pd.DataFrame({"rank": np.arange(1, chosen.size + 1), "pool_index": positions,
                         "pool_id": [str(i) for i in pool_ids[positions]], "score": scores},
                        columns=list(BATCH_COLUMNS))


def batch_csv_text(table: pd.DataFrame) -> str:
    """CSV text of a batch table (scores with full precision, missing scores empty)."""
    return table[list(BATCH_COLUMNS)].to_csv(index=False, float_format="%.17g")


def write_batch_csv(path: Path, table: pd.DataFrame) -> Path:
    """Write a batch table to ``path`` atomically (readers see the old or the new file)."""
    atomic_write_text(Path(path), batch_csv_text(table))
    return Path(path)


def read_batch_csv(path: Path) -> pd.DataFrame:
    """Read a batch written by :func:`write_batch_csv` (or by ``python -m diamlib select``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BATCH_COLUMNS` (``pool_id`` as str), sorted by ``rank``.

    Raises
    ------
    ValueError
        Missing file or columns, repeated pool ids, or ranks that are not 1..n.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"batch file {path} does not exist; write it with `python -m diamlib select ... "
                         f"--out {path.name}` or diamlib.userfiles.batchfile.write_batch_csv")
    table = pd.read_csv(io.StringIO(path.read_text()), dtype={"pool_id": str})
    missing = [c for c in BATCH_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"batch file {path}: columns {missing} missing (found {list(table.columns)}); "
                         f"a batch file has the columns {', '.join(BATCH_COLUMNS)}")
    repeated = table["pool_id"][table["pool_id"].duplicated()].tolist()
    if repeated:
        raise ValueError(f"batch file {path}: pool_id {repeated[:5]} repeated; each point appears once in a batch")
    table = table.sort_values("rank", kind="stable").reset_index(drop=True)
    if table["rank"].tolist() != list(range(1, len(table) + 1)):
        raise ValueError(f"batch file {path}: ranks must be 1..{len(table)} without gaps")
    return table[list(BATCH_COLUMNS)]
