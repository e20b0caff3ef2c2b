"""Files written so that a reader sees the old or the new version, never half of one.

:func:`atomic_write` (and :func:`atomic_write_text`) replace a file through a temporary file
in the same folder; a failed write (disk full, no permission) is a :class:`StorageError` that
names the path. :func:`write_npz` writes plain arrays in ``np.savez``'s format with fixed
member timestamps (equal arrays give equal bytes; nothing is pickled). Run folders
(:mod:`diamlib.runstore`), label stores, evidence files and batch tables are written with them.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable

import numpy as np


class StorageError(OSError):
    """A results file could not be written (disk full, no permission); names the path."""


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(handle)`` so that readers see the old or the new file.

    The content goes to a temporary file in the same folder, then replaces ``path``. On any
    failure the temporary file is removed and ``path`` is left as it was; an ``OSError``
    (disk full, permission) becomes a :class:`StorageError` that names ``path``.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~_umask())  # what open() would give, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StorageError(
            exc.errno, f"could not write {path}: {exc.strerror or exc}. Free disk space or make the "
            f"folder writable, then run again: every completed round is kept and the run resumes"
        ) from exc
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(text.encode()))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_npz(handle, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez``'s format with fixed member timestamps, so equal arrays give equal bytes.

    A recomputed round-0 cache then has the same SHA-256 as the one it replaces.
    """
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
