"""Persistence of one active-learning run, written atomically after every round.

Layout of ``<profile>/<task>/<dataset>/<method>/seed<s>/``:

- ``curve.csv``   tidy ``round,n_labeled,model,metric,value``
- ``queries.csv`` ``round,index``: training-set indices labeled in each round (round 0 = the
  initial random labels)
- ``run.json``    resolved parameters, versions, git commit, per-round seconds, and
  ``completed_rounds`` / ``complete``
- ``log.txt``     human-readable run log (e.g. when a strategy filled its batch at random)

Every file is replaced atomically (write to a temporary file, then ``os.replace``), and
``run.json`` is written last, so an interrupted run resumes after its last completed round
and never reads half-written rows.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

CURVE_COLUMNS = ["round", "n_labeled", "model", "metric", "value"]
QUERY_COLUMNS = ["round", "index"]


class RunConflictError(RuntimeError):
    """Results already exist in a run folder but were produced with other parameters."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    """In-memory state of a run folder."""

    meta: dict
    curve: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))
    queries: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUERY_COLUMNS))

    @property
    def completed_rounds(self) -> int:
        """Last round whose curve rows (and next queries) are saved; -1 if none."""
        return int(self.meta.get("completed_rounds", -1))

    @property
    def complete(self) -> bool:
        return bool(self.meta.get("complete", False))


class RunStore:
    """Reads and writes one run folder."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @property
    def meta_path(self) -> Path:
        return self.directory / "run.json"

    def exists(self) -> bool:
        return self.meta_path.is_file()

    def load(self) -> RunRecord:
        """Read the run, dropping rows beyond ``completed_rounds`` (an interrupted write)."""
        meta = json.loads(self.meta_path.read_text())
        done = int(meta.get("completed_rounds", -1))
        curve_path, query_path = self.directory / "curve.csv", self.directory / "queries.csv"
        curve = pd.read_csv(curve_path) if curve_path.is_file() else pd.DataFrame(columns=CURVE_COLUMNS)
        queries = pd.read_csv(query_path) if query_path.is_file() else pd.DataFrame(columns=QUERY_COLUMNS)
        curve = curve[curve["round"] <= done].reset_index(drop=True)
        queries = queries[queries["round"] <= done + 1].reset_index(drop=True)
        return RunRecord(meta=meta, curve=curve, queries=queries)

    def save(self, record: RunRecord) -> None:
        """Write curve, queries, then run.json (the commit point)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.directory / "curve.csv", record.curve[CURVE_COLUMNS].to_csv(index=False))
        atomic_write_text(self.directory / "queries.csv", record.queries[QUERY_COLUMNS].to_csv(index=False))
        record.meta["updated"] = now_iso()
        atomic_write_text(self.meta_path, json.dumps(record.meta, indent=2, sort_keys=False, default=str))

    def log(self, message: str) -> None:
        """Append one line to the run log."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "log.txt", "a") as handle:
            handle.write(f"{now_iso()} {message}\n")
