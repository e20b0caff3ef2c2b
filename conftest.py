"""Test-suite wide set-up.

- Portable numerics (the smoke profile's) in this process and every process it starts
  (notebook kernels under nbval, Dask workers, subprocesses), chosen here with
  :func:`diamlib.numerics.initialise` before anything loads PyTorch (importing diamlib alone
  changes no environment variable); quiet, single-threaded BLAS.
- The canary (``tests/numerics/test_canary.py``) runs first. On a machine whose numbers differ
  from the stored ones it says why; it fails only where strict reproduction is asked for
  (``DIAMLIB_STRICT_NUMERICS``, see :mod:`diamlib.doctor`). On such a machine nbval still
  executes every cell and compares every output except those of the cells tagged
  ``kernel-dependent`` (outputs computed from trained networks or through a network: their
  digits belong to the processor); the terminal summary counts them. What must carry across
  machines is checked by ``tests/numerics/test_outcomes_across_machines.py``.
- nbval of notebook 04 needs the authors' published results (fetched by ``python -m diamlib
  fetch-authors``, or beside the checkout) and is skipped with a reason without them. It runs
  after notebook 05, as the runner runs it: its verdict reads the runs of every other notebook.
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

from diamlib.reporting.authors_files import AUTHORS_RESULTS_BESIDE_CHECKOUT, authors_results_folder  # noqa: E402

#: The cell tag of outputs whose digits depend on the processor's floating-point kernels: computed from
#: trained networks or through a network (the landmark task's embedding). Compared only where the
#: canary matches the reference.
KERNEL_DEPENDENT_TAG = "kernel-dependent"
CANARY_TEST = "tests/numerics/test_canary.py"
OUTCOMES_TEST = "tests/numerics/test_outcomes_across_machines.py"
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

    # stable sort: the canary first; notebooks that read every other notebook's runs last, as the runner runs them;
    # after them the outcomes test, which reuses the notebooks' smoke runs
    items.sort(key=lambda item: (not item.nodeid.startswith(CANARY_TEST), item.nodeid.startswith(OUTCOMES_TEST),
                                 (_notebook(item) or "").startswith(RUN_LAST)))
    notebook_items = [item for item in items if _notebook(item)]
    if authors_results_folder() is None:
        skip = pytest.mark.skip(reason=f"the authors' results are neither fetched (python -m diamlib fetch-authors) "
                                       f"nor beside the checkout ({AUTHORS_RESULTS_BESIDE_CHECKOUT}): notebook 04's "
                                       "stored outputs show them")
        for item in notebook_items:
            if _notebook(item).startswith("04_"):
                item.add_marker(skip)
    kernel_dependent = [item for item in notebook_items
                        if KERNEL_DEPENDENT_TAG in (item.cell.metadata.get("tags") or [])]
    if not kernel_dependent:
        return
    from diamlib.doctor import canary_check

    check = canary_check()
    if check.ok:
        return
    for item in kernel_dependent:
        item.options["check"] = False  # nbval: run the cell, do not compare its outputs
    per_notebook = {}
    for item in kernel_dependent:
        per_notebook[_notebook(item)[:2]] = per_notebook.get(_notebook(item)[:2], 0) + 1
    counts = ", ".join(f"{count} in {name}" for name, count in sorted(per_notebook.items()))
    _not_compared.append(f"nbval did not compare the outputs of the {len(kernel_dependent)} cells tagged "
                         f"{KERNEL_DEPENDENT_TAG} ({counts}); every other cell was compared. {check.message()}")


def pytest_terminal_summary(terminalreporter):
    for message in _not_compared:
        terminalreporter.write_line(message, yellow=True)
