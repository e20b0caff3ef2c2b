"""A proposed batch as a table: which pool points to label, in the order of preference.

One table serves the ``select`` command's ``batch.csv``, the labelling exports and the
labeller: columns ``rank, pool_index, pool_id, score``.

- ``rank``: 1 for the most preferred point, then 2, 3, ... (``Selection.indices`` order);
- ``pool_index``: row of the point in the pool arrays (0-based);
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


def batch_table(selection: Selection, pool_ids: np.ndarray) -> pd.DataFrame:
    """The batch of ``selection`` as a table, most preferred point first.

    Parameters
    ----------
    selection : Selection
        ``indices`` are pool positions (rows of the pool arrays); ``scores``, if given,
        has shape (n_pool,).
    pool_ids : ndarray, shape (n_pool,)
        The id of every pool row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BATCH_COLUMNS`; ``score`` is NaN (an empty CSV cell) without scores.
    """
    positions = np.asarray(selection.indices, dtype=np.int64)
    pool_ids = np.asarray(pool_ids)
    if positions.size and (positions.min() < 0 or positions.max() >= pool_ids.shape[0]):
        raise ValueError(f"selection indices must be pool rows 0..{pool_ids.shape[0] - 1}")
    scores = (np.full(positions.size, np.nan) if selection.scores is None
              else np.asarray(selection.scores, dtype=np.float64)[positions])
    return pd.DataFrame({"rank": np.arange(1, positions.size + 1), "pool_index": positions,
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
