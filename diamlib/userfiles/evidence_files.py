"""Select a batch from evidence files: DIAM for target models trained in any framework.

Evidence file format
--------------------
One ``.npz`` file per target model (``np.savez``, :func:`save_model_evidence`, or
:func:`save_evidence_files` for every model of an :class:`~diamlib.evidence.Evidence` at once), holding
plain arrays (no pickled objects) over the same unlabeled pool of ``n_pool`` points:

``snapshot_predictions`` : int, shape (n_snapshots, n_pool)
    Class labels (0, 1, ...) predicted by the model's later-epoch hypotheses, e.g. the
    checkpoints of epochs floor(T/2)..T: its soft version space (Sec. 5.2 of the paper).
``pool_probs`` : float, shape (n_pool, n_classes)
    Final softmax probabilities (each row sums to 1).
``pool_features`` : float, shape (n_pool, d)
    Final penultimate-layer features (``d`` may differ between models).
``labeled_features`` : float, shape (n_labeled, d), optional
    Final penultimate-layer features of the labeled set (coreset, BADGE, BAIT, DIAM-svd and
    DIAM-leverage read them; shape (0, d) if nothing is labeled yet).
``pool_outputs`` : float, shape (n_pool, k), optional
    Final predictions on the pool (regression models).
``pool_ids`` : int or str, shape (n_pool,), optional
    The user's id of every pool point (default 0..n_pool-1); files that give ids must give
    the same ids in the same order, and files without ids are taken to be in that order.
``n_parameters`` : int, scalar, optional
    Model size; single-model strategies (coreset, BADGE, BAIT) use the features of the
    largest model (the first file when no file gives sizes).

Only the arrays the chosen strategy reads (its ``StrategySpec.evidence``) are required;
every array present is checked. ``python -m diamlib select`` reads these files, runs the
strategy (:func:`diamlib.strategies.run.run_strategy`, which checks the call: options, budget,
task) and writes ``batch.csv`` (:mod:`diamlib.userfiles.batchfile`) and ``batch.json`` (the
strategy's diagnostics and the settings). This module reads and writes; the command's own parts
(its arguments, ``--option`` parsing, ``--help`` and what it prints) are in :mod:`diamlib.__main__`.

References
----------
Algorithm 2 of the paper (lines 2-10): per-model soft version spaces, penultimate
features and the batch of ``tau`` points; Sec. 6.6 for the regression strategies.
"""
from __future__ import annotations

import codecs
import difflib
import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from diamlib import __version__
from diamlib.evidence import EVIDENCE_FIELDS, HOW_TO_COMPUTE, Evidence, ModelEvidence, Selection
from diamlib.fileio import atomic_write, atomic_write_text, now_iso, write_npz
from diamlib.seeding import child_rng
from diamlib.strategies.registry import StrategySpec, get_strategy, strategy_names
from diamlib.strategies.checks import ARRAY_SHAPES, POOL_AXIS, check_label_range, check_labels, check_model_arrays
from diamlib.strategies.run import run_strategy
from diamlib.userfiles.stop_set import read_previous_record, stopping_entry

#: Arrays of an evidence file -> (number of dimensions, what it holds).
EVIDENCE_FILE_ARRAYS: dict[str, tuple[int, str]] = {
    **{name: (2, what) for name, what in ARRAY_SHAPES.items()},
    "pool_ids": (1, "int or str id of every pool point, (n_pool,)"),
    "n_parameters": (0, "number of model parameters, a scalar int"),
}
#: Arrays whose first axis (or second, for snapshot predictions) runs over the pool.
_POOL_AXIS = {**POOL_AXIS, "pool_ids": 0}


class EvidenceFileError(ValueError):
    """An evidence file or a ``select`` argument is unusable; the message names the file, array and fix."""


@dataclass(frozen=True)
class EvidenceFiles:
    """The evidence files of one selection, read and checked.

    Attributes
    ----------
    paths : tuple of Path
        One file per target model, in the order given.
    evidence : Evidence
        ``unlabeled_indices`` = 0..n_pool-1 (pool rows); model names from the file names.
    pool_ids : ndarray, shape (n_pool,)
        The id of every pool row.
    spec : StrategySpec
        The strategy the files were checked for (``evidence`` holds only the arrays it reads).
    """

    paths: tuple[Path, ...]
    evidence: Evidence
    pool_ids: np.ndarray
    spec: StrategySpec


# --------------------------------------------------------------------------- writing
def save_model_evidence(path: Path, **arrays: Any) -> Path:
    """Write one target model's evidence file (format: see the module docstring).

    Parameters
    ----------
    path : Path
        Destination ``.npz``; written atomically.
    **arrays : array_like
        Any of :data:`EVIDENCE_FILE_ARRAYS` (``snapshot_predictions``, ``pool_probs``,
        ``pool_features``, ``labeled_features``, ``pool_outputs``, ``pool_ids``,
        ``n_parameters``); None values are left out.

    Returns
    -------
    Path

    Raises
    ------
    EvidenceFileError
        An unknown array name or an array that :func:`read_evidence_files` would refuse;
        nothing is written then.
    """
    path = Path(path)
    given = {name: np.asarray(value) for name, value in arrays.items() if value is not None}
    checked = _check_arrays(path, given, required=())
    atomic_write(path, lambda handle: write_npz(handle, checked))
    return path


def save_evidence_files(evidence: Evidence, folder: Path, *, overwrite: bool = False) -> tuple[Path, ...]:
    """Write the evidence of every target model, one file per model, that ``select`` reads back.

    Each model goes to ``folder / f"{model.name}.npz"`` with its arrays, its ``n_parameters``
    and ``pool_ids`` = ``evidence.unlabeled_indices``, so a batch's ``pool_id`` is the
    training-set index of the point: ``python -m diamlib select folder/*.npz ...`` or
    :func:`read_evidence_files` give the same evidence back (model names from the file names).

    Parameters
    ----------
    evidence : Evidence
        E.g. from :func:`diamlib.training.sklearn.learner_evidence`. Single-model strategies
        read files back with the largest model (by ``n_parameters``, the first of equals) as
        the feature model, which is ``evidence.feature_model`` when that is the largest.
    folder : Path
        Created if missing.
    overwrite : bool
        Replace existing files of the same names (default: refuse).

    Returns
    -------
    tuple of Path
        One file per model, in the order of ``evidence.models``.

    Raises
    ------
    EvidenceFileError
        ``evidence.feature_source`` is given (a supernet's features have no evidence file), a
        model name that is not a plain file name (empty, with a path separator, starting with
        a dot), an existing file without ``overwrite``, or arrays :func:`read_evidence_files`
        would refuse (e.g. probabilities over different numbers of classes); every file is
        checked before any is written.
    """
    folder = Path(folder)
    if evidence.feature_source is not None:
        raise EvidenceFileError("evidence.feature_source (features of a network that is not a target model) has no "
                                "evidence file; save the evidence with feature_source=None")
    paths = tuple(folder / f"{_file_stem(model.name)}.npz" for model in evidence.models)
    if len(set(paths)) != len(paths):
        repeated = sorted({p.stem for p in paths if paths.count(p) > 1})
        raise EvidenceFileError(f"model names {repeated} repeat, and each model needs a file of its own; give every "
                                f"model its own name")
    if folder.exists() and not folder.is_dir():
        raise EvidenceFileError(f"{folder}: a file, not a folder; choose a folder for the evidence files")
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise EvidenceFileError(f"{existing[0]} already exists; choose another folder, or pass overwrite=True to "
                                f"replace the {len(existing)} existing file(s)")
    contents = []
    for path, model in zip(paths, evidence.models):
        arrays = {name: np.asarray(getattr(model, name)) for name in HOW_TO_COMPUTE if getattr(model, name) is not None}
        arrays.update(pool_ids=np.asarray(evidence.unlabeled_indices), n_parameters=np.asarray(int(model.n_parameters)))
        contents.append(_check_arrays(path, arrays, required=()))
    _check_common_classes(paths, contents)
    folder.mkdir(parents=True, exist_ok=True)
    for path, arrays in zip(paths, contents):
        atomic_write(path, lambda handle, arrays=arrays: write_npz(handle, arrays))
    return paths


def _file_stem(name: str) -> str:
    """A model name as a file name, refused if it is not a plain one."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        raise EvidenceFileError(f"model name {name!r} cannot name an evidence file; rename the model (letters, digits, "
                                f"'-', '_', not starting with '.')")
    return name


# --------------------------------------------------------------------------- reading
def read_evidence_files(paths: Sequence[Path], strategy: str | StrategySpec) -> EvidenceFiles:
    """Read and check the evidence files of the target models for ``strategy``.

    Parameters
    ----------
    paths : sequence of Path
        One ``.npz`` per target model.
    strategy : str or StrategySpec
        A registered strategy (or its spec, already looked up); the arrays it reads must be
        present in every file, and the evidence holds only those.

    Returns
    -------
    EvidenceFiles

    Raises
    ------
    EvidenceFileError
        A file given twice, missing, a folder, not an ``.npz``, holding pickled objects or
        unknown arrays; files of another task than the strategy's, or of both tasks; a required
        array missing; wrong dimensions or shapes; NaN or inf; non-integer or negative
        snapshot labels, or labels beyond the classes of ``pool_probs``; probability rows not
        summing to 1; files that disagree on the pool size, the pool ids or the number of
        classes; repeated ids. The message names the file, the array and the fix.
    ValueError
        Unknown strategy (with a close match).
    """
    spec = strategy if isinstance(strategy, StrategySpec) else get_strategy(strategy)
    paths = check_model_paths(paths)
    required = tuple(sorted(spec.evidence))
    loaded = [_load_npz(path) for path in paths]
    task = _files_task(spec, paths, loaded)
    contents = [_check_arrays(path, arrays, required=required, strategy=spec.name)
                for path, arrays in zip(paths, loaded)]
    n_pool = _common_pool_size(paths, contents)
    pool_ids = _common_pool_ids(paths, contents, n_pool)
    _check_common_classes(paths, contents)
    names = _model_names(paths)
    models = tuple(ModelEvidence(
        name=name, n_parameters=int(arrays.get("n_parameters", 0)),
        **{key: arrays.get(key) if key in spec.evidence else None for key in EVIDENCE_FIELDS})
        for name, arrays in zip(names, contents))
    position = Evidence.feature_model_position("largest", names, [m.n_parameters for m in models])
    evidence = Evidence(task=task, unlabeled_indices=np.arange(n_pool, dtype=np.int64),
                        models=models, feature_model=position)
    return EvidenceFiles(paths=paths, evidence=evidence, pool_ids=pool_ids, spec=spec)


def load_model_evidence(paths: Sequence[Path], strategy: str) -> Evidence:
    """The :class:`~diamlib.evidence.Evidence` of the target models' files (see :func:`read_evidence_files`)."""
    return read_evidence_files(paths, strategy).evidence


def check_model_paths(paths: Sequence[Path]) -> tuple[Path, ...]:
    """The evidence files as paths, checked before any is read: at least one, each an existing
    file (not a folder), none given twice.

    Raises
    ------
    EvidenceFileError
        Naming the path and the fix.
    """
    paths = tuple(Path(p) for p in paths)
    if not paths:
        raise EvidenceFileError("no evidence files given; pass one .npz per target model")
    seen: dict[Path, int] = {}
    for position, path in enumerate(paths, 1):
        key = path.resolve()
        if key in seen:
            raise EvidenceFileError(f"{path}: given twice (files {seen[key]} and {position}); give each target "
                                    f"model's evidence file once")
        seen[key] = position
    for path in paths:
        if path.is_dir():
            raise EvidenceFileError(f"{path}: a folder, not an evidence file; give the .npz files in it, one per "
                                    f"target model (e.g. {path / '*.npz'})")
        if not path.is_file():
            raise EvidenceFileError(f"{path}: evidence file not found; check the path (one .npz per target model)")
    return paths


#: First bytes of the files :func:`_load_npz` tells apart (an .npz is a zip archive).
_ZIP_MAGIC, _NPY_MAGIC, _PICKLE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06"), b"\x93NUMPY", b"\x80"
_WRITE_NPZ = "write it with np.savez or diamlib.userfiles.evidence_files.save_model_evidence"


def _file_kind(path: Path) -> str:
    """What ``path`` holds, from its first bytes: ``"npz"``, ``"npy"``, ``"pickle"``, ``"text"``, ``"empty"``
    or ``"other"``."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_PICKLE_MAGIC):
        return "pickle"
    if not head:
        return "empty"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "other"
    return "text" if b"\x00" not in head else "other"


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of one evidence file (checked by :func:`check_model_paths`); pickles are never loaded."""
    try:
        kind = _file_kind(path)
    except OSError as exc:
        raise EvidenceFileError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from None
    if kind == "npy":
        raise EvidenceFileError(f"{path}: a single .npy array, not an .npz evidence file; save the named "
                                f"arrays with np.savez or diamlib.userfiles.evidence_files.save_model_evidence")
    if kind != "npz":
        what = {"text": "a text file", "pickle": "a Python pickle, which is never loaded", "empty": "an empty file",
                "other": "neither a zip archive nor text"}[kind]
        raise EvidenceFileError(f"{path}: not a valid .npz file ({what}; an .npz is a zip archive of named "
                                f"arrays); {_WRITE_NPZ}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {}
            for name in archive.files:
                try:
                    arrays[name] = archive[name]
                except ValueError as exc:
                    if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                        raise EvidenceFileError(
                            f"{path}: array {name!r} holds pickled Python objects, which are never loaded; "
                            f"save plain numeric or string arrays (e.g. np.asarray(ids, dtype=str))") from None
                    raise
            return arrays
    except EvidenceFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EvidenceFileError(f"{path}: not a valid .npz file ({type(exc).__name__}: {exc}); write it with "
                                f"np.savez or diamlib.userfiles.evidence_files.save_model_evidence") from None


def _check_arrays(path: Path, arrays: dict[str, np.ndarray], *, required: Sequence[str],
                  strategy: str | None = None) -> dict[str, np.ndarray]:
    """Check one file's arrays on their own (names, dimensions, values, shapes within the file)."""
    for name in arrays:
        if name not in EVIDENCE_FILE_ARRAYS:
            close = difflib.get_close_matches(name, list(EVIDENCE_FILE_ARRAYS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise EvidenceFileError(f"{path}: unknown array {name!r}.{hint} Rename it to one of "
                                    f"{', '.join(EVIDENCE_FILE_ARRAYS)}, or leave it out")
    for name in required:
        if name not in arrays:
            raise EvidenceFileError(
                f"{path}: array {name!r} is missing, and strategy {strategy!r} reads it; compute "
                f"{HOW_TO_COMPUTE[name]}, and save it in the file, or choose another --strategy")
    for name, array in arrays.items():
        if name in EVIDENCE_FIELDS:
            continue
        ndim, what = EVIDENCE_FILE_ARRAYS[name]
        if array.ndim != ndim:
            raise EvidenceFileError(f"{path}: array {name!r} has {array.ndim} dimension(s), shape {array.shape}; "
                                    f"it must have {ndim}: {what}")
        if array.dtype.hasobject:
            raise EvidenceFileError(f"{path}: array {name!r} holds Python objects; save a plain numeric or "
                                    f"string array")
    try:
        check_model_arrays({name: array for name, array in arrays.items() if name in EVIDENCE_FIELDS})
        if "n_parameters" in arrays:
            check_labels("n_parameters", arrays["n_parameters"])
    except ValueError as error:
        raise EvidenceFileError(f"{path}: {error}") from None
    if "pool_ids" in arrays:
        _check_ids(path, arrays["pool_ids"])
        first = next((name for name in POOL_AXIS if name in arrays), None)
        n_pool = None if first is None else arrays[first].shape[POOL_AXIS[first]]
        if n_pool is not None and arrays["pool_ids"].shape[0] != n_pool:
            raise EvidenceFileError(f"{path}: array 'pool_ids' covers {arrays['pool_ids'].shape[0]} pool points but "
                                    f"{first!r} covers {n_pool}; every pool array must cover the same n_pool "
                                    f"points in the same order")
        if arrays["pool_ids"].shape[0] == 0:
            raise EvidenceFileError(f"{path}: the pool is empty (n_pool = 0); nothing can be selected")
    return arrays


def _check_label_range(path: Path, labels: np.ndarray, n_classes: int, probs_path: Path) -> None:
    """Snapshot labels are class indices of the ``n_classes`` columns of ``pool_probs`` (of ``probs_path``)."""
    try:
        check_label_range(labels, n_classes, "" if probs_path == path else f" of {probs_path}")
    except ValueError as error:
        raise EvidenceFileError(f"{path}: {error}") from None


def _check_common_classes(paths: Sequence[Path], contents: Sequence[dict]) -> None:
    """Every file's ``pool_probs`` has the same number of classes, and every snapshot label is one of them."""
    given = [(p, a["pool_probs"].shape[1]) for p, a in zip(paths, contents) if "pool_probs" in a]
    if not given:
        return
    first_path, n_classes = given[0]
    for path, n in given[1:]:
        if n != n_classes:
            raise EvidenceFileError(
                f"{path}: array 'pool_probs' has {n} class columns, but {first_path}'s has {n_classes}; every "
                f"model must give probabilities over the same classes in the same order: save one column per "
                f"class of the task (0 for a class the model never saw)")
    for path, arrays in zip(paths, contents):
        if "snapshot_predictions" in arrays:
            _check_label_range(path, arrays["snapshot_predictions"], n_classes, first_path)


def _check_ids(path: Path, ids: np.ndarray) -> None:
    if not (np.issubdtype(ids.dtype, np.integer) or ids.dtype.kind == "U"):
        raise EvidenceFileError(f"{path}: array 'pool_ids' has dtype {ids.dtype}; ids must be integers or "
                                f"strings (np.asarray(ids, dtype=str))")
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        repeated = values[counts > 1][:5].tolist()
        raise EvidenceFileError(f"{path}: array 'pool_ids' repeats ids {repeated}; every pool point needs its own "
                                f"id")


def _common_pool_size(paths: Sequence[Path], contents: Sequence[dict]) -> int:
    sizes = []
    for path, arrays in zip(paths, contents):
        found = [arrays[name].shape[axis] for name, axis in _POOL_AXIS.items() if name in arrays]
        sizes.append(found[0] if found else None)
    known = [(p, n) for p, n in zip(paths, sizes) if n is not None]
    if not known:
        raise EvidenceFileError(f"{paths[0]}: no pool array found, so the pool size is unknown; add pool_ids "
                                f"or the arrays the strategy reads")
    first_path, n_pool = known[0]
    for path, n in known[1:]:
        if n != n_pool:
            raise EvidenceFileError(f"{path}: pool of {n} points, but {first_path} has {n_pool}; every model's "
                                    f"file must cover the same pool points in the same order")
    return int(n_pool)


def _common_pool_ids(paths: Sequence[Path], contents: Sequence[dict], n_pool: int) -> np.ndarray:
    given = [(p, a["pool_ids"]) for p, a in zip(paths, contents) if "pool_ids" in a]
    if not given:
        return np.arange(n_pool, dtype=np.int64)
    first_path, ids = given[0]
    for path, other in given[1:]:
        if other.shape != ids.shape or other.dtype.kind != ids.dtype.kind or not np.array_equal(other, ids):
            rows = np.flatnonzero(other.astype(str) != ids.astype(str)) if other.shape == ids.shape else [0]
            row = int(rows[0]) if len(rows) else 0
            raise EvidenceFileError(
                f"{path}: array 'pool_ids' differs from {first_path}'s (first at row {row}: "
                f"{other[row]!r} vs {ids[row]!r}); the files must list the same pool points in the same order: "
                f"reorder the rows of {path} or save the same pool_ids in every file")
    return ids


def _model_names(paths: Sequence[Path]) -> list[str]:
    stems = [p.stem for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


#: Arrays that only one task's models give; features and ids belong to both.
TASK_ARRAYS: dict[str, tuple[str, ...]] = {"classification": ("snapshot_predictions", "pool_probs"),
                                           "regression": ("pool_outputs",)}


def _file_task(path: Path, arrays: Mapping[str, np.ndarray]) -> str | None:
    """The task of one file's arrays (:data:`TASK_ARRAYS`), None when it holds neither task's arrays."""
    tasks = {task: [name for name in names if name in arrays] for task, names in TASK_ARRAYS.items()}
    found = [task for task, names in tasks.items() if names]
    if len(found) > 1:
        raise EvidenceFileError(
            f"{path}: holds classification arrays ({', '.join(tasks['classification'])}) and regression "
            f"outputs ({', '.join(tasks['regression'])}); a target model is a classifier or a regressor: "
            f"leave out the arrays of the other task")
    return found[0] if found else None


def _files_task(spec: StrategySpec, paths: Sequence[Path], contents: Sequence[Mapping[str, np.ndarray]]) -> str:
    """The files' task, which must be one of the strategy's.

    Files with features only take the strategy's task (classification for strategies of both).

    Raises
    ------
    EvidenceFileError
        Files of both tasks, or of a task the strategy is not for (naming both tasks).
    """
    tasks = [_file_task(path, arrays) for path, arrays in zip(paths, contents)]
    found = [(path, arrays, task) for path, arrays, task in zip(paths, contents, tasks) if task is not None]
    if not found:
        return "classification" if "classification" in spec.tasks else "regression"
    first_path, first_arrays, task = found[0]
    for path, _, other in found[1:]:
        if other != task:
            raise EvidenceFileError(f"{path}: holds {other} evidence but {first_path} holds {task}; every target "
                                    f"model of one selection solves the same task: give files of one task")
    if task not in spec.tasks:
        arrays = ", ".join(name for name in TASK_ARRAYS[task] if name in first_arrays)
        valid = strategy_names(task)
        raise EvidenceFileError(
            f"{first_path}: holds {task} evidence ({arrays}), but strategy {spec.name!r} is for "
            f"{' and '.join(sorted(spec.tasks))} only; choose a {task} strategy ({', '.join(valid)}) with "
            f"--strategy, or give the files of {' or '.join(sorted(spec.tasks))} models")
    return task


# --------------------------------------------------------------------------- selecting
def select_on_evidence(evidence: Evidence, *, budget: int, strategy: str | StrategySpec = "diam",
                       options: Mapping[str, Any] | None = None, seed: int = 0) -> Selection:
    """Run a registered strategy on evidence, held in memory (e.g. from
    :func:`diamlib.training.sklearn.learner_evidence`) or read from files (:func:`read_evidence_files`).

    Parameters
    ----------
    evidence : Evidence
    budget : int
        Number of points to select (``tau``), 1..n_pool.
    strategy : str or StrategySpec
        A registered strategy for ``evidence.task`` (default DIAM), or its spec.
    options : mapping, optional
        The strategy's keyword options, checked against its typed options model.
    seed : int
        Master seed; the strategy draws from ``child_rng(seed, "select")``.

    Returns
    -------
    Selection
        ``indices`` are entries of ``evidence.unlabeled_indices`` (pool rows 0..n_pool-1 for
        files), most preferred first.

    Raises
    ------
    ValueError
        From :func:`~diamlib.strategies.run.run_strategy`, which checks the call: the strategy,
        its options, the budget, the evidence's task and the arrays the strategy reads.

    References
    ----------
    Algorithm 2 of the paper (a batch of ``tau`` points).
    """
    return run_strategy(strategy, evidence, budget=budget, rng=child_rng(seed, "select"), **dict(options or {}))


def select_from_files(paths: Sequence[Path], *, budget: int, strategy: str = "diam",
                      options: Mapping[str, Any] | None = None, seed: int = 0) -> Selection:
    """Read the target models' evidence files and select a batch (see :func:`select_on_evidence`).

    Options are checked before the files are read, so a bad option fails fast.
    """
    spec = get_strategy(strategy)
    spec.check_options(options or {})
    files = read_evidence_files(paths, spec)
    return select_on_evidence(files.evidence, strategy=spec, budget=budget, options=options, seed=seed)


# --------------------------------------------------------------------------- writing the batch
def batch_record_path(out_csv: Path) -> Path:
    """``batch.json`` beside ``batch.csv``: the same stem with ``.json``."""
    return Path(out_csv).with_suffix(".json")


def check_output_path(out_csv: Path, inputs: Sequence[Path] = (), *, force: bool = False) -> None:
    """Raise :class:`EvidenceFileError` unless ``out_csv`` and its record can be written.

    ``out_csv`` must be a ``.csv`` file name (not a folder) in an existing folder; neither it
    nor the record beside it (:func:`batch_record_path`) may be a folder or one of the evidence
    files ``inputs``, and neither may exist unless ``force``.
    """
    out_csv = Path(out_csv)
    if out_csv.is_dir():
        raise EvidenceFileError(f"--out {out_csv} is a folder; give the batch file's name, e.g. "
                                f"--out {out_csv / 'batch.csv'}")
    if out_csv.suffix.lower() != ".csv":
        raise EvidenceFileError(f"--out {out_csv}: the batch is written as CSV; give a file name ending in .csv "
                                f"(e.g. batch.csv)")
    if not out_csv.parent.is_dir():
        raise EvidenceFileError(f"--out {out_csv}: folder {out_csv.parent} does not exist; create it "
                                f"(mkdir -p {out_csv.parent}) or choose another --out")
    record = batch_record_path(out_csv)
    if record.is_dir():
        raise EvidenceFileError(f"--out {out_csv}: {record} is a folder, and the batch's record is written there "
                                f"(the CSV's name with .json); choose another --out")
    resolved = {Path(p).resolve() for p in inputs}
    for target in (out_csv, record):
        if target.resolve() in resolved:
            raise EvidenceFileError(f"--out {out_csv} would overwrite the evidence file {target}; choose another "
                                    f"--out")
    existing = [target for target in (out_csv, record) if target.exists()]
    if existing and not force:
        what = " and ".join(str(t) for t in existing)
        raise EvidenceFileError(f"--out {out_csv}: {what} already exist{'s' if len(existing) == 1 else ''} (select "
                                f"writes the batch and, beside it, its record {record.name}); choose another "
                                f"--out, or add --force to replace {'it' if len(existing) == 1 else 'them'}")


def write_selection(out_csv: Path, selection: Selection, files: EvidenceFiles, *, budget: int,
                    options: Mapping[str, Any] | None = None, seed: int = 0,
                    stopping: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``batch.csv`` (:mod:`diamlib.userfiles.batchfile`) and ``batch.json`` beside it, atomically.

    The arguments are the ones :func:`run_select` checked (:func:`check_output_path`, the
    strategy's options) and selected with; they are written as they are.

    Parameters
    ----------
    out_csv : Path
        The batch table; the record goes to the same stem with ``.json``.
    selection : Selection
        From :func:`select_on_evidence` on ``files.evidence``.
    files : EvidenceFiles
    budget, options, seed
        The settings of the selection, recorded in ``batch.json`` (``options`` as checked by
        the strategy's options model).

    Returns
    -------
    (Path, Path)
        The CSV and JSON paths.

    ``batch.json`` holds ``strategy``, ``options`` (as given, and ``resolved`` with the
    defaults), ``seed``, ``budget``, ``task``, ``n_pool``, ``inputs`` (path, model name and
    SHA-256 of each evidence file), ``info`` (``Selection.info``), ``stopping`` (the stopping
    rule's record, :func:`stopping_of_files`; null when the files give no predicted classes),
    ``created`` and the diamlib version. Both texts are built before either file is written.
    """
    out_csv = Path(out_csv)
    spec = files.spec
    given = dict(options or {})
    from diamlib.userfiles.batchfile import batch_csv_text, batch_table  # pandas: not needed for --help

    csv_text = batch_csv_text(batch_table(selection, files.pool_ids))
    record = {
        "strategy": spec.name, "options": given,
        "resolved_options": spec.resolved_options(given),
        "seed": int(seed), "budget": int(budget), "task": files.evidence.task, "n_pool": files.evidence.n_pool,
        "feature_model": files.evidence.models[files.evidence.feature_model].name,
        "inputs": [{"path": str(p), "model": m.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                   for p, m in zip(files.paths, files.evidence.models)],
        "info": selection.info, "stopping": None if stopping is None else dict(stopping),
        "created": now_iso(), "diamlib_version": __version__,
    }
    json_text = json.dumps(_plain(record), indent=2)
    json_path = batch_record_path(out_csv)
    atomic_write_text(out_csv, csv_text)
    atomic_write_text(json_path, json_text)
    return out_csv, json_path


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into JSON numbers and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------- the select command
def stopping_of_files(files: EvidenceFiles, *, seed: int = 0,
                      previous: Mapping[str, Any] | None = None) -> dict | None:
    """The stopping rule's record of this round (:func:`diamlib.userfiles.stop_set.stopping_entry`).

    Each model's predicted classes on the pool are its final hypothesis's: the last row of
    ``snapshot_predictions``, else the argmax of ``pool_probs``; None (no record) when the
    strategy's arrays hold neither (regression, or a strategy that reads only features).

    References
    ----------
    Bloodgood and Vijay-Shanker (2009), Sec. 3 (stabilising predictions).
    """
    labels, n_classes = {}, 0
    for model in files.evidence.models:
        if model.snapshot_predictions is not None:
            labels[model.name] = np.asarray(model.snapshot_predictions)[-1].astype(np.int64)
        elif model.pool_probs is not None:
            labels[model.name] = np.asarray(model.pool_probs).argmax(axis=1)
        else:
            return None
        if model.pool_probs is not None:
            n_classes = max(n_classes, model.pool_probs.shape[1])
    earlier = [] if previous is None else [v for vs in previous["stop_set"]["labels"].values() for v in vs]
    n_classes = max([n_classes, 1 + max(int(v.max()) for v in labels.values()), 1 + max(earlier, default=0)])
    return stopping_entry(labels, files.pool_ids, n_classes=n_classes, seed=seed, previous=previous)


def run_select(models: Sequence[Path], *, budget: int, out: Path, strategy: str = "diam",
               options: Mapping[str, Any] | None = None, seed: int = 0,
               force: bool = False, previous: Path | None = None) -> tuple[Path, Path, Selection]:
    """``python -m diamlib select``: check everything, select, then write ``batch.csv`` and ``batch.json``.

    The command line is checked before any file is read: the strategy and its options (so that a
    typo is reported before large files are read; :func:`~diamlib.strategies.run.run_strategy`
    runs the same options model again at the call), ``--out`` (:func:`check_output_path`: an
    existing batch or record is replaced only with ``force``), the seed and the budget's lower
    bound. :func:`read_evidence_files` then checks the files (:func:`check_model_paths` first:
    none given twice, none a folder), and ``run_strategy`` the call (the budget against the pool
    size, the arrays the strategy reads) before the strategy runs. Nothing is written unless
    every check passed and the strategy succeeded.

    ``previous``, the ``batch.json`` of the previous round, carries the stop set and the kappas
    on: ``batch.json``'s ``stopping`` then says each model's kappa against that round, its mean
    over the window, whether it has stopped and whether all have (:func:`stopping_of_files`).

    Returns
    -------
    (Path, Path, Selection)
        The CSV and JSON paths and the selection.
    """
    spec = get_strategy(strategy)
    options = spec.check_options(options or {})
    out = Path(out)
    check_output_path(out, models, force=force)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise EvidenceFileError(f"--seed {seed!r}: give a non-negative integer")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise EvidenceFileError(f"--budget {budget!r} is out of range: choose an integer of at least 1 "
                                f"(and at most the pool size)")
    try:
        earlier = None if previous is None else read_previous_record(previous)
    except ValueError as exc:
        raise EvidenceFileError(str(exc)) from None
    files = read_evidence_files(models, spec)
    selection = select_on_evidence(files.evidence, strategy=spec, budget=budget, options=options, seed=seed)
    stopping = stopping_of_files(files, seed=seed, previous=earlier)
    csv_path, json_path = write_selection(out, selection, files, budget=budget, options=options, seed=seed,
                                          stopping=stopping)
    return csv_path, json_path, selection
