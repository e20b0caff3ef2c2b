"""Where the project keeps its profiles and writes its results.

The defaults are the ``params/`` and ``results/`` folders of the project checkout that holds
this package; the environment variables ``DIAMLIB_PARAMS_DIR`` and ``DIAMLIB_RESULTS_DIR``
override them. An installed wheel has no checkout: its profiles are installed with it, under
``<environment>/share/diamlib/params`` (:data:`INSTALLED_PARAMS`), and read from there.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: Where a wheel installs the profiles (pyproject's ``tool.setuptools.data-files``), below the environment.
INSTALLED_PARAMS = Path("share") / "diamlib" / "params"


def project_root() -> Path:
    """The checkout that contains the ``diamlib`` package (parent of the package folder)."""
    return Path(__file__).resolve().parent.parent


def params_dir() -> Path:
    """Folder of the YAML profiles: ``$DIAMLIB_PARAMS_DIR``, else the checkout's ``params/``, else the installed ones."""
    env = os.environ.get("DIAMLIB_PARAMS_DIR")
    if env:
        return Path(env)
    checkout = project_root() / "params"
    installed = Path(sys.prefix) / INSTALLED_PARAMS
    return installed if not checkout.is_dir() and installed.is_dir() else checkout


def results_root(results_root: str | os.PathLike | None = None) -> Path:
    """Root folder of all results: the argument, else ``$DIAMLIB_RESULTS_DIR``, else ``results/``."""
    if results_root is not None:
        return Path(results_root)
    env = os.environ.get("DIAMLIB_RESULTS_DIR")
    return Path(env) if env else project_root() / "results"


def profile_results_dir(profile_name: str, results_root_dir: str | os.PathLike | None = None) -> Path:
    """``<results root>/<profile name>/``: everything one profile's runs write."""
    return results_root(results_root_dir) / profile_name


def run_dir(profile_dir: Path, task: str, dataset: str, method: str, seed: int) -> Path:
    """``<profile dir>/<task>/<dataset>/<method>/seed<s>/``: one active-learning run."""
    return Path(profile_dir) / task / dataset / method / f"seed{seed}"


def figures_dir(profile_dir: Path) -> Path:
    """``<profile dir>/figures/`` (created on demand)."""
    path = Path(profile_dir) / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def tables_dir(profile_dir: Path) -> Path:
    """``<profile dir>/tables/`` (created on demand)."""
    path = Path(profile_dir) / "tables"
    path.mkdir(parents=True, exist_ok=True)
    return path
