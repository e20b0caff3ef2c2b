"""Execute the project's notebooks in order with papermill, one profile at a time.

``python -m diamlib run --profile NAME [--only 01 ...]`` writes executed notebooks to
``results/NAME/`` (figures and tables go to ``results/NAME/figures`` and ``tables``). A
failing notebook stops the run: its error is shown and the partially executed notebook is
kept as ``NN_name.FAILED.ipynb``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from diamlib.config import load_profile
from diamlib.paths import profile_results_dir, project_root

KERNEL_NAME = "diamlib"

#: Where a checkout keeps the authors' published raw results, relative to the project root
#: (a ``shared/`` folder beside the checkout); passed to notebook 04 when it exists.
AUTHORS_RESULTS = "../shared/reference/diam-authors-results"


def authors_results_parameter() -> dict:
    """``{"reference_dir": ...}`` when the authors' published results sit beside the checkout."""
    return {"reference_dir": AUTHORS_RESULTS} if (project_root() / AUTHORS_RESULTS).is_dir() else {}


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def list_notebooks(only: Sequence[str] | None = None, folder: Path | None = None) -> list[Path]:
    """Notebooks in run order; ``only`` keeps those whose name starts with one of the prefixes."""
    notebooks = sorted(p for p in Path(folder or notebooks_dir()).glob("[0-9][0-9]_*.ipynb"))
    if only:
        chosen = [p for p in notebooks if any(p.name.startswith(prefix) for prefix in only)]
        unknown = [prefix for prefix in only if not any(p.name.startswith(prefix) for p in notebooks)]
        if unknown:
            raise ValueError(
                f"no notebook matches {unknown}; available: {', '.join(p.name for p in notebooks)}"
            )
        return chosen
    return notebooks


@dataclass(frozen=True)
class NotebookFailure(Exception):
    notebook: Path
    kept_as: Path
    error: str

    def __str__(self) -> str:
        return f"{self.notebook.name} failed; partial output kept as {self.kept_as}\n{self.error}"


def record_paths_relative(executed: Path) -> None:
    """Store papermill's input and output paths relative to the project, not the machine."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    record = notebook.metadata.get("papermill", {})
    root = project_root()
    for key in ("input_path", "output_path"):
        path = Path(record.get(key) or "")
        if path.is_absolute() and path.is_relative_to(root):
            record[key] = path.relative_to(root).as_posix()
    nbformat.write(notebook, executed)


def run_notebooks(profile: str, *, only: Sequence[str] | None = None, results_root: str | None = None,
                  kernel_name: str = KERNEL_NAME, extra_parameters: dict | None = None,
                  folder: Path | None = None, overrides: dict | None = None) -> list[Path]:
    """Execute notebooks on ``profile``; returns the executed notebooks' paths.

    ``overrides`` (nested or dotted keys, e.g. ``{"execution": {"workers": 2}}``) are
    validated with the profile and passed to every notebook.

    Raises
    ------
    ConfigError
        The profile does not validate (nothing is executed or written).
    NotebookFailure
        A cell raised; the partially executed notebook is kept under a ``.FAILED`` name.
    """
    import papermill as pm

    cfg = load_profile(profile, overrides)
    notebooks = list_notebooks(only, folder)
    out_dir = profile_results_dir(cfg.name, results_root).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"profile": profile, "overrides": dict(overrides or {})}
    if results_root is not None:
        parameters["results_root"] = str(out_dir.parent)
    parameters.update(authors_results_parameter())
    parameters.update(extra_parameters or {})
    executed = []
    for notebook in tqdm(notebooks, desc=f"notebooks ({cfg.name})", unit="notebook"):
        target = out_dir / notebook.name
        failed = target.with_suffix(".FAILED.ipynb")
        failed.unlink(missing_ok=True)
        try:
            pm.execute_notebook(str(notebook), str(target), parameters=parameters, kernel_name=kernel_name,
                                cwd=str(notebook.parent), progress_bar=True)
        except pm.PapermillExecutionError as exc:
            target.replace(failed)
            raise NotebookFailure(notebook, failed, f"{exc.ename}: {exc.evalue}") from None
        record_paths_relative(target)
        executed.append(target)
    return executed
