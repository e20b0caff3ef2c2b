"""Test-suite wide set-up.

- Portable numerics (the smoke profile's) in this process and every process it starts
  (notebook kernels under nbval, Dask workers, subprocesses), chosen here with
  :func:`diamlib.numerics.initialise` before anything loads PyTorch (importing diamlib alone
  changes no environment variable); quiet, single-threaded BLAS.
- The canary (``tests/numerics/test_canary.py``) runs first: a machine whose kernels or
  package versions give other numbers fails there, with the cause named. On such a machine
  nbval still executes every notebook but does not compare the outputs of the notebooks that
  train models (their numbers are stochastic by nature and reproduce only with the reference's
  kernels and versions); the terminal summary says so.
- nbval of notebook 04 needs the authors' published results beside the checkout and is
  skipped with a reason without them. It runs after notebook 05, as the runner runs it: its
  verdict reads the runs of every other notebook.
"""
from __future__ import annotations

import os

import pytest

_asked = os.environ.get("DIAMLIB_NUMERICS")
os.environ["DIAMLIB_NUMERICS"] = "portable"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from diamlib import numerics as _numerics  # noqa: E402

_numerics.initialise()

from diamlib.reporting.results import AUTHORS_RESULTS_BESIDE_CHECKOUT, authors_results_beside_checkout  # noqa: E402

#: Notebooks whose outputs hold numbers of trained models (compared only where the canary matches).
TRAINING_NOTEBOOKS = ("02_", "03_", "04_", "05_")
CANARY_TEST = "tests/numerics/test_canary.py"
_not_compared: list[str] = []


def _notebook(item) -> str | None:
    path = item.nodeid.split("::")[0]
    return path.removeprefix("notebooks/") if path.startswith("notebooks/") and path.endswith(".ipynb") else None


def pytest_report_header(config):
    from diamlib import numerics

    asked = f" ({numerics.NUMERICS_ENV}={_asked} ignored: the tests check the stored numbers)" if _asked not in (
        None, "portable") else ""
    return f"diamlib numerics: portable, ATen {numerics.cpu_capability()} kernels{asked}"


def pytest_collection_modifyitems(config, items):
    from diamlib.runner import RUN_LAST

    # stable sort: the canary first; notebooks that read every other notebook's runs last, as the runner runs them
    items.sort(key=lambda item: (not item.nodeid.startswith(CANARY_TEST), (_notebook(item) or "").startswith(RUN_LAST)))
    notebook_items = [item for item in items if _notebook(item)]
    if authors_results_beside_checkout() is None:
        skip = pytest.mark.skip(reason=f"{AUTHORS_RESULTS_BESIDE_CHECKOUT} is absent: notebook 04's stored outputs "
                                       "show the authors' results")
        for item in notebook_items:
            if _notebook(item).startswith("04_"):
                item.add_marker(skip)
    training = [item for item in notebook_items if _notebook(item).startswith(TRAINING_NOTEBOOKS)]
    if not training:
        return
    from diamlib.doctor import canary_check

    check = canary_check()
    if check.ok:
        return
    for item in training:
        item.options["check"] = False  # nbval: run the cell, do not compare its outputs
    _not_compared.append(check.message())


def pytest_terminal_summary(terminalreporter):
    for message in _not_compared:
        terminalreporter.write_line(f"nbval did not compare the outputs of notebooks 02-05 (trained models): "
                                    f"{message}", yellow=True)
