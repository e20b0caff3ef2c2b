"""Where dataset files are looked for, and the errors raised when they are missing.

Nothing here touches the network: loaders look for files first and only download (through
torchvision) when the caller passed ``download=True``.

References
----------
Paper Sec. 6.1 and Sec. 6.6 (the datasets).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

#: Environment variable that overrides the default data folder.
DATA_DIR_ENV = "DIAMLIB_DATA_DIR"


def default_data_root() -> Path:
    """``$DIAMLIB_DATA_DIR`` if set, else the ``data/`` folder of the project checkout."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data"


def resolve_data_root(data_root: str | os.PathLike | None) -> Path:
    """The data folder: the argument (as given, relative to the working directory) or the default."""
    return Path(data_root).expanduser() if data_root is not None else default_data_root()


def find_file(folders: Sequence[Path], name: str, *, gz_ok: bool = True) -> Path | None:
    """First existing ``folder/name`` (or ``folder/name.gz``) over ``folders``, else None."""
    for folder in folders:
        for candidate in (name, name + ".gz") if gz_ok else (name,):
            path = Path(folder) / candidate
            if path.is_file():
                return path
    return None


def find_files(folders: Sequence[Path], names: Iterable[str], *, gz_ok: bool = True) -> dict[str, Path] | None:
    """All ``names`` from the first folder of ``folders`` that holds every one of them, else None.

    All files of a dataset must come from the same folder, so training and test files of
    different copies are never mixed.
    """
    names = list(names)
    for folder in folders:
        found = {name: find_file([folder], name, gz_ok=gz_ok) for name in names}
        if all(path is not None for path in found.values()):
            return found
    return None


def missing_files_error(dataset: str, names: Iterable[str], folders: Sequence[Path], *,
                        how_to_get: str, can_download: bool) -> FileNotFoundError:
    """A FileNotFoundError that says which files are expected where and how to get them."""
    listed = ", ".join(names)
    where = "\n  ".join(str(f) for f in folders)
    fixes = []
    if can_download:
        fixes.append("set download: true (download=True) on a machine with a network connection")
    fixes.append(how_to_get)
    return FileNotFoundError(
        f"{dataset}: data files not found. Expected {listed} in one of:\n  {where}\n"
        f"To fix: " + "; or ".join(fixes) + "."
    )


def download_failed_error(dataset: str, target: Path, exc: BaseException) -> RuntimeError:
    """A RuntimeError for a failed download that keeps the original cause."""
    return RuntimeError(
        f"{dataset}: downloading into {target} failed ({type(exc).__name__}: {exc}). Check the "
        f"network connection, or place the files there by hand and use download=False."
    )
