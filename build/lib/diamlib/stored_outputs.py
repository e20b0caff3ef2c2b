"""Re-execute the notebooks in ``notebooks/`` in place, so that their stored outputs are what nbval checks.

``python -m diamlib refresh [--only 02 ...]`` executes each notebook with papermill on its own
``parameters`` cell (the ``smoke`` profile), injecting nothing, in portable numerics, and
stores it back without machine paths, papermill ``injected-parameters`` cells or widget state:
the stored notebook is exactly what ``pytest --nbval`` re-executes.

The notebooks run in a fresh, temporary results root (``DIAMLIB_RESULTS_DIR``), shared by
the notebooks of one refresh and deleted afterwards: every run is computed by the code as it
is, as in a fresh clone, never read from a cache that older code wrote (a run's settings
record what it was asked, not the code that computed it).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from diamlib.numerics import child_environment, scoped_environment
from diamlib.runner import (KERNEL_NAME, RUN_LAST, NotebookFailure, ipc_kernels, list_notebooks,
                            record_paths_relative, strip_widget_state)

#: Tag papermill gives the cell it inserts with the parameters of a run.
INJECTED_TAG = "injected-parameters"


def strip_injected_parameters(notebook_path: Path) -> int:
    """Remove papermill's ``injected-parameters`` cells; return how many there were."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    kept = [cell for cell in notebook.cells if INJECTED_TAG not in cell.metadata.get("tags", [])]
    removed = len(notebook.cells) - len(kept)
    if removed:
        notebook.cells = kept
        nbformat.write(notebook, notebook_path)
    return removed


def refresh_stored_outputs(only: Sequence[str] | None = None, *, kernel_name: str = KERNEL_NAME,
                           folder: Path | None = None) -> list[Path]:
    """Execute the notebooks in place on their own parameters; return their paths.

    Each notebook is executed into a temporary file beside it, cleaned (no injected
    parameters, no widget state, paths relative to the project) and only then moved over the
    original. The runs are computed afresh in a temporary results root (see the module
    docstring); ``only`` still runs the notebooks whose runs the chosen ones read (notebook 04
    reads every other notebook's runs).

    Raises
    ------
    NotebookFailure
        A cell raised; the notebook is left as it was and the partial output is kept under a
        ``.FAILED`` name.
    """
    refreshed = []
    chosen = list_notebooks(only, folder)
    # a notebook that reads every other notebook's runs needs them computed first (not stored)
    executed = list_notebooks(None, folder) if any(n.name.startswith(RUN_LAST) for n in chosen) else chosen
    with tempfile.TemporaryDirectory(prefix="diamlib-refresh-") as fresh_root, \
            scoped_environment({"DIAMLIB_RESULTS_DIR": fresh_root}), ipc_kernels() as kernel_manager:
        for notebook in executed:
            _refresh_one(notebook, kernel_name, kernel_manager, store=notebook in chosen)
            if notebook in chosen:
                refreshed.append(notebook)
    return refreshed


def _refresh_one(notebook: Path, kernel_name: str, kernel_manager, *, store: bool = True) -> None:
    """Execute one notebook beside itself in portable numerics, clean it, then move it over the original.

    With ``store=False`` only its runs are wanted: the executed copy is deleted.
    """
    import nbformat
    import papermill as pm

    executing = notebook.with_suffix(".executing.ipynb")
    failed = notebook.with_suffix(".FAILED.ipynb")
    failed.unlink(missing_ok=True)
    try:
        with child_environment("portable"):  # stored outputs are what every x86-64 CPU reproduces
            pm.execute_notebook(str(notebook), str(executing), kernel_name=kernel_name, cwd=str(notebook.parent),
                                progress_bar=False, kernel_manager_class=kernel_manager)
    except pm.PapermillExecutionError as exc:
        executing.replace(failed)
        raise NotebookFailure(notebook, failed, f"{exc.ename}: {exc.evalue}") from None
    if not store:
        executing.unlink()
        return
    strip_injected_parameters(executing)
    strip_widget_state(executing)
    executed = nbformat.read(executing, as_version=4)
    executed.metadata.get("papermill", {})["output_path"] = str(notebook)
    nbformat.write(executed, executing)
    executing.replace(notebook)
    record_paths_relative(notebook)
