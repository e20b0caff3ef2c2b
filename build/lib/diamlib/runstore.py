"""Persistence of one active-learning run, written atomically and verified on every read.

Layout of ``<profile>/<task>/<dataset>/<method>/seed<s>/``:

- ``curve.csv``   tidy ``round,n_labeled,model,metric,value``
- ``queries.csv`` ``round,index``: training-set indices labeled in each round (round 0 = the
  initial random labels)
- ``run.json``    resolved parameters, the training and test set sizes used (``data_sizes``),
  versions, git commit, per-round seconds,
  ``completed_rounds`` / ``complete``, and the size, row count and SHA-256 of the tables it
  vouches for (``files``; the same record per round in ``rounds[i]["files"]``) and of the
  shared round-0 evidence the run started from (``round0_evidence``)
- ``log.txt``     human-readable run log (e.g. when a strategy filled its batch at random)

and the round 0 shared by the strategies of one seed, ``<dataset>/_round0/seed<s>/``, holds
``evidence.npz`` (:func:`save_evidence_cache`: plain arrays, read back without unpickling) and
``round0.json``.

One run at a time writes a results folder: :func:`results_folder_lock` holds an exclusive lock
on its ``.diamlib.lock`` (``flock``, released by the operating system when the holder ends,
however it ends) and writes there who holds it (pid, host, start time, command), so a second
run is refused at once with those details, and a lock left by a process that no longer runs is
taken over with a one-line note.

Every file is replaced atomically (:func:`diamlib.fileio.atomic_write`), and
``run.json`` is written last: it is the commit point of a round. Rounds only ever append rows,
so the content a round vouches for is a prefix of each CSV file; bytes after that prefix are
the rows of a round whose commit was interrupted, and a resume ignores them. Any other
difference (rows removed or edited, a file missing, ``run.json`` unreadable) is a
:class:`RunIntegrityError` naming the file, the problem and the fix;
:meth:`RunStore.roll_back` repairs a run by returning it to its last verified round.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shlex
import socket
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from diamlib.evidence import EVIDENCE_FIELDS, Evidence, ModelEvidence
from diamlib.fileio import StorageError, atomic_write, atomic_write_text, now_iso, write_npz

CURVE_COLUMNS = ["round", "n_labeled", "model", "metric", "value"]
QUERY_COLUMNS = ["round", "index"]
#: Folder of the round 0 shared by all strategies, beside the method folders of a dataset.
SHARED_DIR = "_round0"
#: The tables a round's commit vouches for, in the order they are written.
TABLE_FILES = {"curve.csv": CURVE_COLUMNS, "queries.csv": QUERY_COLUMNS}


class RunConflictError(RuntimeError):
    """Results already exist in a run folder but were produced with other parameters."""


class RunIntegrityError(ValueError):
    """A run folder's files do not match what its ``run.json`` vouches for."""


class ResultsFolderBusy(RunConflictError):
    """Another run holds the results folder's lock; the message says who and how to proceed."""


# --------------------------------------------------------------------------- before writing
def check_writable(folder: Path) -> None:
    """Create ``folder`` and write (then remove) a probe file, before any work starts.

    Raises
    ------
    StorageError
        The folder cannot be created or written; the message names it and the fix.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        raise StorageError(
            exc.errno, f"results folder {folder} is not writable ({exc.strerror or exc}); fix its "
            f"permissions or choose another results folder (results_root, or $DIAMLIB_RESULTS_DIR)"
        ) from exc


# --------------------------------------------------------------------------- one run at a time
#: The lock file of a results folder (:func:`results_folder_lock`); empty while no run holds it.
LOCK_FILE = ".diamlib.lock"


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def current_command() -> str:
    """This process's command line as a user would type it (``python -m diamlib run ...``)."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name == "__main__.py" and Path(argv[0]).parent.name == "diamlib":
        argv = ["python", "-m", "diamlib", *argv[1:]]
    return shlex.join(argv) if argv else Path(sys.executable).name


@contextlib.contextmanager
def results_folder_lock(folder: Path, *, command: str | None = None,
                        note: Callable[[str], None] = _note) -> Iterator[None]:
    """Hold the results folder for one run: a second run on it is refused at once.

    The lock is an exclusive ``flock`` on ``<folder>/.diamlib.lock``, which the operating
    system releases when its holder ends (``kill -9`` included); the file records the holder
    (pid, host, start time, command) for the message a second run gets, and is emptied when
    the holder leaves the block. A record left by a process that no longer runs (killed) is
    taken over with a one-line ``note``. A process started by the holder (a notebook's kernel
    under ``python -m diamlib run``, its Dask workers) shares the holder's lock.

    Parameters
    ----------
    folder : Path
        The results folder (created if missing).
    command : str, optional
        What the holder runs, for the record (default: :func:`current_command`).
    note : callable
        Receives the one-line note about a lock taken over (default: printed to stderr).

    Raises
    ------
    ResultsFolderBusy
        Another live process holds the lock; names it (pid, host, start time, command) and the fix.
    StorageError
        The lock file cannot be created (the folder is not writable).
    """
    folder = Path(folder)
    check_writable(folder)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            if _started_by(holder):
                yield  # the run that started this process holds the folder for it
                return
            raise ResultsFolderBusy(_busy_message(folder, path, holder)) from None
        left = _lock_holder(fd)
        if left.get("pid") not in (None, os.getpid()):
            note(f"note: {folder} was locked by pid {left['pid']} on {left.get('host')} (started "
                 f"{left.get('started')}), which no longer holds it (killed?); this run takes it over")
        _write_holder(fd, {"pid": os.getpid(), "host": socket.gethostname(), "started": now_iso(),
                           "command": command or current_command()})
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _lock_holder(fd: int) -> dict:
    """The holder recorded in the lock file ({} when empty or unreadable)."""
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, 65536)
    try:
        holder = json.loads(data.decode()) if data.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _write_holder(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(holder) + "\n").encode())
    os.fsync(fd)


def _started_by(holder: dict) -> bool:
    """Whether the lock's holder is this process or one of its ancestors on this host."""
    import psutil

    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        return pid == os.getpid() or pid in {p.pid for p in psutil.Process().parents()}
    except psutil.Error:
        return False


def _busy_message(folder: Path, path: Path, holder: dict) -> str:
    who = (f"pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started')}, "
           f"running `{holder.get('command')}`" if holder else "a process that has not recorded itself yet")
    return (f"results folder {folder} is in use by another run ({who}); two runs on one folder would do "
            f"the same work twice. Wait for it to finish, stop it (kill {holder.get('pid', 'PID')}: every "
            f"completed round is kept) and run again to resume, or use another results folder "
            f"(--results-root) or profile name. The lock is {path}; the operating system releases it when "
            f"its holder ends")


# --------------------------------------------------------------------------- checksums
def digest(data: bytes, *, table: bool = True) -> dict:
    """``{"bytes", "sha256"}`` of a file's content, plus ``"rows"`` (lines after the header) of a table."""
    record = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if table:
        record["rows"] = max(data.count(b"\n") - 1, 0)
    return record


def file_digest(path: Path, *, table: bool = False) -> dict:
    """:func:`digest` of the file at ``path``."""
    return digest(Path(path).read_bytes(), table=table)


def settings_differences(stored: dict, current: dict, labels: tuple[str, str] = ("there", "now")) -> list[str]:
    """``"key: A there, B now"`` for every (dotted) parameter whose value differs."""
    flat_stored, flat_current = _flatten(stored), _flatten(current)
    first, second = labels
    return [f"{key}: {flat_stored.get(key, '(absent)')!r} {first}, {flat_current.get(key, '(absent)')!r} {second}"
            for key in sorted(set(flat_stored) | set(flat_current))
            if flat_stored.get(key, "(absent)") != flat_current.get(key, "(absent)")]


def other_settings_message(holder: str, differences: Sequence[str], fix: str) -> str:
    """The one wording of "results made with other settings": what holds them, every differing
    parameter (:func:`settings_differences`), and the fix."""
    return (f"{holder} made with other settings:\n  " + "\n  ".join(differences or ["(settings not recorded)"])
            + f"\nTo fix: {fix}")


def check_dataset_settings(dataset_dir: Path, settings: dict) -> None:
    """Refuse, before any training, to add runs beside runs (or a round-0 cache) of other settings.

    Every run of one ``<task>/<dataset>`` folder must share ``settings`` (data, zoo, training,
    budget: what the experiment's ``TaskContext.base_settings`` holds); only the strategy, its
    options and the seed differ between runs.

    Raises
    ------
    RunConflictError
        Names the folder and every differing parameter with both values.
    """
    dataset_dir = Path(dataset_dir)
    stored_files = sorted(dataset_dir.glob("*/seed*/run.json")) + \
        sorted(dataset_dir.glob(f"{SHARED_DIR}/seed*/round0.json"))
    for path in stored_files:
        try:
            stored = json.loads(path.read_text()).get("settings")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            continue  # an unreadable run.json is reported (and repaired) when that run is reached
        if stored is None:
            raise RunConflictError(
                f"{path} was written by an older version and records no settings or checksums, so it "
                f"cannot be checked against this profile; run again with --repair (recomputes it), "
                f"delete {path.parent}, or use another profile name or results folder"
            )
        differences = settings_differences(stored, settings)
        if differences:
            raise RunConflictError(other_settings_message(
                f"{path.parent} holds results", differences,
                f"runs of one dataset must never be mixed: run under another profile name or results folder, "
                f"or delete {dataset_dir} to recompute it with the new settings"))


def settings_hash(payload: dict) -> str:
    """The short SHA-256 of a settings dict (stored as a run's ``fingerprint``); equal settings, equal hash."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def as_stored_json(payload: dict) -> dict:
    """``payload`` as it reads back from JSON (tuples -> lists), so stored and current compare equal."""
    return json.loads(json.dumps(payload, sort_keys=True, default=str))


def _flatten(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_prefix(path: Path, vouched: dict, *, allow_extra: bool) -> str | None:
    """What is wrong with ``path`` compared with its ``vouched`` digest, or None if it matches.

    The first ``vouched["bytes"]`` bytes must have the vouched SHA-256; with ``allow_extra``,
    bytes after them (an interrupted later round) are accepted.
    """
    if not path.is_file():
        return "file missing"
    data = path.read_bytes()
    size, rows = int(vouched["bytes"]), vouched.get("rows")
    if len(data) < size or (len(data) > size and not allow_extra):
        found = digest(data)["rows"]
        if rows is not None and found != rows:
            what = "rows missing" if found < rows else "rows added"
            return f"{what}: it has {found} rows where run.json records {rows}"
        return f"{len(data)} bytes where run.json records {size}"
    if hashlib.sha256(data[:size]).hexdigest() != vouched["sha256"]:
        return "content changed: its SHA-256 differs from the one run.json records"
    return None


# --------------------------------------------------------------------------- one run
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


def repair_hint(folder: Path) -> str:
    return (f"to fix: run again with --repair (python -m diamlib run --profile NAME --repair, or "
            f"run_task(..., repair=True)) to recompute it from its last verified round, or delete "
            f"{folder} and run again")


class RunStore:
    """Reads, verifies and writes one run folder."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @property
    def meta_path(self) -> Path:
        return self.directory / "run.json"

    def exists(self) -> bool:
        return self.meta_path.is_file()

    def read_meta(self) -> dict:
        """``run.json`` as a dict; a :class:`RunIntegrityError` naming the file if unreadable."""
        try:
            meta = json.loads(self.meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunIntegrityError(
                f"{self.meta_path}: not valid JSON ({exc}; truncated or emptied?), so nothing in "
                f"{self.directory} can be verified; {repair_hint(self.directory)}"
            ) from None
        if not isinstance(meta, dict):
            raise RunIntegrityError(f"{self.meta_path}: expected a JSON object; {repair_hint(self.directory)}")
        return meta

    def problems(self, meta: dict) -> list[str]:
        """Every file of the run that does not match ``meta["files"]`` (empty when all do).

        Bytes after the vouched prefix are accepted only while the run is incomplete (the rows
        of a round whose commit was interrupted); a complete run has no later round.
        """
        allow_extra = not meta.get("complete", False)
        files = meta.get("files")
        if not isinstance(files, dict):
            return [f"{self.meta_path}: records no checksums (written by an older version), so its "
                    f"files cannot be verified; delete {self.directory} and run again"]
        found = []
        for name, vouched in files.items():
            path = self.directory / name
            problem = check_prefix(path, vouched, allow_extra=allow_extra)
            if problem:
                found.append(f"{path}: {problem}")
        return found

    def open_or_create(self, *, fingerprint: str, settings: dict, run_settings: dict,
                       new_meta: Callable[[], dict]) -> RunRecord:
        """The run's record: the stored one, verified and made with the same settings, or a new one.

        Parameters
        ----------
        fingerprint : str
            :func:`settings_hash` of every setting the run depends on; a stored run must have it.
        settings : dict
            The settings shared by every run of the dataset folder (stored as ``settings``).
        run_settings : dict
            This run's own settings (strategy, its options, seed), stored as top-level keys.
        new_meta : callable
            Makes the ``meta`` of a new record (not saved until the first round is).

        Raises
        ------
        RunIntegrityError
            The stored run is damaged (:meth:`load`).
        RunConflictError
            The stored run was made with other settings; names every differing parameter.
        """
        if not self.exists():
            return RunRecord(meta=new_meta())
        record = self.load()
        if record.meta.get("fingerprint") != fingerprint:
            stored = {key: record.meta.get(key) for key in run_settings}
            differences = settings_differences({**record.meta.get("settings", {}), **stored},
                                               {**settings, **run_settings})
            raise RunConflictError(other_settings_message(
                f"{self.directory} holds results", differences,
                "delete that folder or run under another profile name or results folder"))
        if not record.complete:
            self.log(f"resuming after round {record.completed_rounds}")
        return record

    def load(self) -> RunRecord:
        """Read and verify the run: exactly the rows that ``run.json`` vouches for.

        Raises
        ------
        RunIntegrityError
            ``run.json`` is unreadable or a file it vouches for is missing or changed.
        """
        meta = self.read_meta()
        problems = self.problems(meta)
        if problems:
            raise RunIntegrityError(
                f"run {self.directory} is damaged:\n  " + "\n  ".join(problems) + f"\n{repair_hint(self.directory)}"
            )
        tables = {name: self._read_table(name, meta["files"][name]) for name in TABLE_FILES}
        return RunRecord(meta=meta, curve=tables["curve.csv"], queries=tables["queries.csv"])

    def _read_table(self, name: str, vouched: dict) -> pd.DataFrame:
        data = (self.directory / name).read_bytes()[: int(vouched["bytes"])]
        if not data:
            return pd.DataFrame(columns=TABLE_FILES[name])
        return pd.read_csv(io.BytesIO(data))

    def save(self, record: RunRecord) -> None:
        """Write curve, queries, then run.json (the commit point) with their checksums."""
        files = {}
        for name, columns in TABLE_FILES.items():
            table = record.curve if name == "curve.csv" else record.queries
            data = table[columns].to_csv(index=False).encode()
            atomic_write(self.directory / name, lambda handle, data=data: handle.write(data))
            files[name] = digest(data)
        record.meta["files"] = files
        done = record.completed_rounds
        for entry in record.meta.get("rounds", []):
            if entry.get("round") == done:
                entry["files"] = files
        record.meta["updated"] = now_iso()
        atomic_write_text(self.meta_path, json.dumps(record.meta, indent=2, sort_keys=False, default=str))

    def last_verified_round(self, meta: dict) -> int:
        """The latest round whose recorded checksums the files still match; -1 if none."""
        for entry in sorted(meta.get("rounds", []), key=lambda e: -int(e.get("round", -1))):
            files = entry.get("files")
            if isinstance(files, dict) and not self.problems({"files": files}):
                return int(entry["round"])
        return -1

    def roll_back(self) -> int:
        """Return a damaged run to its last verified round; returns that round (-1: restart).

        Rows after that round are dropped and ``run.json`` is rewritten to vouch for the rest,
        so the next run recomputes the missing rounds (the loop is deterministic, so the result
        equals an undamaged run). With no verified round (or ``run.json`` unreadable), the
        run's files are removed and it restarts from round 0.
        """
        try:
            meta = self.read_meta()
        except RunIntegrityError:
            meta = None
        kept = self.last_verified_round(meta) if meta is not None else -1
        if kept < 0:
            self.meta_path.unlink(missing_ok=True)  # the commit point goes first
            for name in TABLE_FILES:
                (self.directory / name).unlink(missing_ok=True)
            self.log("repair: no verified round; the run restarts from round 0")
            return -1
        files = next(e["files"] for e in meta["rounds"] if int(e["round"]) == kept)
        for name in TABLE_FILES:
            prefix = (self.directory / name).read_bytes()[: int(files[name]["bytes"])]
            atomic_write(self.directory / name, lambda handle, data=prefix: handle.write(data))
        complete = bool(meta.get("complete")) and kept == int(meta.get("completed_rounds", -1))
        meta["rounds"] = [e for e in meta["rounds"] if int(e["round"]) <= kept]
        meta.update(completed_rounds=kept, complete=complete, files=files, updated=now_iso())
        atomic_write_text(self.meta_path, json.dumps(meta, indent=2, default=str))
        self.log(f"repair: rolled back to round {kept}, the last round whose files verified")
        return kept

    def log(self, message: str) -> None:
        """Append one line to the run log."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "log.txt", "a") as handle:
            handle.write(f"{now_iso()} {message}\n")


# --------------------------------------------------------------------------- evidence files
def save_evidence_cache(path: Path, evidence: Evidence) -> None:
    """Write a round's whole ``evidence`` (every model, ``m<i>_<array>``) atomically as one ``.npz`` of plain
    arrays (see :func:`diamlib.fileio.write_npz`): the run store's cache of the shared round 0.

    Not the evidence files that ``select`` reads (one per model:
    :func:`diamlib.userfiles.evidence_files.save_evidence_files`).
    """
    arrays = {"unlabeled_indices": evidence.unlabeled_indices,
              "feature_model": np.array(evidence.feature_model)}
    for i, m in enumerate(evidence.models):
        for key in EVIDENCE_FIELDS:
            value = getattr(m, key)
            if value is not None:
                arrays[f"m{i}_{key}"] = value
        arrays[f"m{i}_n_parameters"] = np.array(m.n_parameters)
    atomic_write(path, lambda handle: write_npz(handle, arrays))


def load_evidence_cache(path: Path, task: str, names: Sequence[str]) -> Evidence:
    """Read an evidence file written by :func:`save_evidence_cache`; never unpickles.

    Raises
    ------
    RunIntegrityError
        The file is not a readable ``.npz`` of plain arrays (truncated, or holds pickled objects).
    """
    try:
        return _evidence_from_npz(path, task, names)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise RunIntegrityError(
            f"{path}: not a readable evidence file ({type(exc).__name__}: {exc}); it is a cache of "
            f"round 0, so delete it (or run again with --repair) to recompute it"
        ) from None


def _evidence_from_npz(path: Path, task: str, names: Sequence[str]) -> Evidence:
    with np.load(path, allow_pickle=False) as arrays:
        models = []
        for i, name in enumerate(names):
            def get(key):
                return arrays[f"m{i}_{key}"] if f"m{i}_{key}" in arrays else None
            models.append(ModelEvidence(name=name, n_parameters=int(get("n_parameters")),
                                        **{key: get(key) for key in EVIDENCE_FIELDS}))
        return Evidence(task=task, unlabeled_indices=arrays["unlabeled_indices"], models=tuple(models),
                        feature_model=int(arrays["feature_model"]))


def evidence_file_problem(path: Path, vouched: dict | None) -> str | None:
    """What is wrong with the cached evidence file, or None."""
    if not path.is_file():
        return "file missing"
    if vouched is None:
        return "round0.json records no checksum for it (written by an older version)"
    if file_digest(path) != vouched:
        return (f"{path.stat().st_size} bytes with another SHA-256 than round0.json records "
                f"({vouched['bytes']} bytes): truncated or changed")
    return None
