"""The optional parts of diamlib: which extra of ``pip install diamlib[...]`` brings which package.

The core install (numpy, scipy, scikit-learn, pandas, pydantic, PyYAML) holds the strategies,
the selection solvers, ``python -m diamlib select`` on evidence files, the scikit-learn target
models, the label store and the statistics. The extras add the rest:

``networks``
    PyTorch, torchvision and OFA: the network target models, their training and the canary.
``reference``
    cvxpy and OSQP: the ``diam`` strategy's reference solvers (``solver="authors"`` and
    ``"cvxpy"``) under :mod:`diamlib.selection.reference`.
``suite``
    Everything the notebooks, the runner and the experiment grid need (both extras above,
    papermill, Dask, matplotlib, seaborn, JupyterLab, ...): ``python -m diamlib run``.
``dev``
    The test tools (pytest, nbval, import-linter, build, twine, ...).

A feature whose package is missing raises :class:`MissingExtraError`, one line naming the extra
to install.
"""
from __future__ import annotations

import importlib
import importlib.util

#: Top-level module -> the extra that installs it.
EXTRA_OF_MODULE = {
    "torch": "networks",
    "torchvision": "networks",
    "ofa": "networks",
    "cvxpy": "reference",
    "osqp": "reference",
    "papermill": "suite",
    "nbformat": "suite",
    "ipykernel": "suite",
    "IPython": "suite",
    "jupyter_client": "suite",
    "traitlets": "suite",
    "ipywidgets": "suite",
    "dask": "suite",
    "distributed": "suite",
    "bokeh": "suite",
    "matplotlib": "suite",
    "seaborn": "suite",
    "tqdm": "suite",
    "psutil": "suite",
}


class MissingExtraError(ImportError):
    """A feature needs a package of an extra that is not installed; the message names the extra."""


def install_line(module: str) -> str:
    """How to install the package of ``module``: ``pip install 'diamlib[<extra>]'``."""
    extra = EXTRA_OF_MODULE.get(module.split(".")[0])
    return f"pip install 'diamlib[{extra}]'" if extra else f"pip install {module.split('.')[0]}"


def missing_message(module: str, purpose: str) -> str:
    """One line: ``purpose`` needs ``module``, which is not installed, and how to install it."""
    return f"{purpose} needs {module.split('.')[0]}, which is not installed: {install_line(module)}"


def require_module(module: str, purpose: str):
    """Import ``module``, or raise :class:`MissingExtraError` naming ``purpose`` and the extra.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"cvxpy"``.
    purpose : str
        What needs it, for the message, e.g. ``"the diam strategy with solver='authors'"``.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or module.split(".")[0] != error.name.split(".")[0]:
            raise  # a package of its own is missing: not ours to explain
        raise MissingExtraError(missing_message(module, purpose), name=error.name) from error


def check_installed(module: str, purpose: str) -> None:
    """Raise :class:`MissingExtraError` if ``module`` cannot be imported, without importing it."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise MissingExtraError(missing_message(module, purpose), name=module.split(".")[0])
