"""Re-execute the notebooks in ``notebooks/`` in place, so that their stored outputs are what nbval checks.

``python -m diamlib refresh [--only 02 ...]`` executes each notebook with papermill on its own
``parameters`` cell (the ``smoke`` profile), injecting nothing, in portable numerics, and
stores it back without machine paths, papermill ``injected-parameters`` cells or widget state:
the stored notebook is exactly what ``pytest --nbval`` re-executes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from diamlib.numerics import child_environment
from diamlib.runner import (KERNEL_NAME, NotebookFailure, ipc_kernels, list_notebooks, record_paths_relative,
                            strip_widget_state)

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
    original.

    Raises
    ------
    NotebookFailure
        A cell raised; the notebook is left as it was and the partial output is kept under a
        ``.FAILED`` name.
    """
    refreshed = []
    with ipc_kernels() as kernel_manager:
        for notebook in list_notebooks(only, folder):
            _refresh_one(notebook, kernel_name, kernel_manager)
            refreshed.append(notebook)
    return refreshed


def _refresh_one(notebook: Path, kernel_name: str, kernel_manager) -> None:
    """Execute one notebook beside itself in portable numerics, clean it, then move it over the original."""
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
    strip_injected_parameters(executing)
    strip_widget_state(executing)
    executed = nbformat.read(executing, as_version=4)
    executed.metadata.get("papermill", {})["output_path"] = str(notebook)
    nbformat.write(executed, executing)
    executing.replace(notebook)
    record_paths_relative(notebook)
