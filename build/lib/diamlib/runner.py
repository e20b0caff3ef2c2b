"""Execute the project's notebooks in order with papermill, one profile at a time.

``python -m diamlib run --profile NAME [--only 01 ...]`` writes executed notebooks to
``results/NAME/`` (figures and tables go to ``results/NAME/figures`` and ``tables``). A
failing notebook stops the run: its error is shown and the partially executed notebook is
kept as ``NN_name.FAILED.ipynb``. Ctrl-C or SIGTERM stops it the same way: the kernel (and its
Dask workers) are stopped at once, without a traceback, and the partial notebook is kept as
``NN_name.INTERRUPTED.ipynb`` (:class:`RunInterrupted`); completed rounds are kept, and the
same command resumes. Before anything runs, the profile is validated, the data folders it
names must exist, every method a notebook reads must be in the profile
(:func:`diamlib.experiment.setup.check_notebook_methods`), the results folder must be
writable and free (:func:`diamlib.runstore.results_folder_lock`: one run per folder), and every
parameter passed must be declared in the ``parameters`` cell of a notebook that receives it
(papermill alone only warns about an unknown one). Kernels compute in the profile's
``numerics`` mode (:mod:`diamlib.numerics`). Kernels talk to the runner over IPC (local socket
files), not unencrypted TCP.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from diamlib.evidence import TASKS
from diamlib.experiment.grid import PROGRESS_LINES_ENV
from diamlib.experiment.setup import check_data_roots, check_notebook_methods, load_profile
from diamlib.numerics import NUMERICS_DESCRIPTION, child_environment
from diamlib.paths import profile_results_dir, project_root
from diamlib.runstore import results_folder_lock

KERNEL_NAME = "diamlib"


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on local IPC sockets in a private folder.

    The folders made are listed in :attr:`socket_dirs` and removed on leaving :func:`ipc_kernels`.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
    socket_dirs: list[str] = []
    #: Set while a run is being interrupted: kernels are then killed at once (with their process
    #: group: Dask workers included) instead of being asked to shut down in the middle of a cell,
    #: which makes them print a traceback.
    stop_at_once: bool = False

    @default("ip")
    def _private_socket_prefix(self) -> str:
        folder = tempfile.mkdtemp(prefix="diamlib-kernel-")
        IpcKernelManager.socket_dirs.append(folder)
        return os.path.join(folder, "kernel")

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        await super().shutdown_kernel(now=now or IpcKernelManager.stop_at_once, restart=restart)


@contextlib.contextmanager
def ipc_kernels():
    """Inside the block, :class:`IpcKernelManager` kernels may start; their socket folders are removed after."""
    try:
        yield IpcKernelManager
    finally:
        while IpcKernelManager.socket_dirs:
            shutil.rmtree(IpcKernelManager.socket_dirs.pop(), ignore_errors=True)


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell (papermill's ``inspect_notebook``)."""
    import papermill as pm

    return set(pm.inspect_notebook(str(notebook)))


def notebook_parameters(notebooks: Sequence[Path], common: Mapping[str, Any],
                        chosen: Mapping[str, Any]) -> dict[Path, dict]:
    """The parameters each notebook receives.

    ``common`` ones (profile, results_root, reference_dir, ...) go to the notebooks that
    declare them; every ``chosen`` one (given by the user) must be declared by at least one of
    ``notebooks``.

    Raises
    ------
    ValueError
        A chosen parameter no notebook declares (with the declared names, and a did-you-mean).
    """
    import difflib

    declared = {notebook: declared_parameters(notebook) for notebook in notebooks}
    known = sorted(set().union(*declared.values())) if declared else []
    for name in chosen:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(
                f"unknown notebook parameter {name!r}.{did_you_mean} The notebooks declare: {', '.join(known)}"
            )
    merged = {**common, **chosen}
    return {notebook: {k: v for k, v in merged.items() if k in names} for notebook, names in declared.items()}


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


#: Notebooks that read the runs of all the others (notebook 04's verdict reads notebook 05's
#: scikit-learn runs too): they run after them, whatever their number.
RUN_LAST = ("04_",)


def list_notebooks(only: Sequence[str] | None = None, folder: Path | None = None) -> list[Path]:
    """Notebooks in run order (by number, :data:`RUN_LAST` at the end); ``only`` keeps those whose
    name starts with one of the prefixes."""
    notebooks = sorted(Path(folder or notebooks_dir()).glob("[0-9][0-9]_*.ipynb"),
                       key=lambda p: (p.name.startswith(RUN_LAST), p.name))
    if only:
        chosen = [p for p in notebooks if any(p.name.startswith(prefix) for prefix in only)]
        unknown = [prefix for prefix in only if not any(p.name.startswith(prefix) for p in notebooks)]
        if unknown:
            raise ValueError(
                f"no notebook matches {unknown}; available: {', '.join(p.name for p in notebooks)}"
            )
        return chosen
    return notebooks


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped a run of notebooks.

    Attributes
    ----------
    signum : int
        The signal received.
    kept_as : Path or None
        The partially executed notebook, renamed ``NN_name.INTERRUPTED.ipynb`` (None when no
        notebook was being executed).
    """

    def __init__(self, signum: int = signal.SIGINT, kept_as: Path | None = None):
        super().__init__(signum, kept_as)
        self.signum = int(signum)
        self.kept_as = kept_as

    @property
    def exit_code(self) -> int:
        """The shell's convention, 128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signum


def _quiet_about_the_stopped_kernel(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """An event loop's exception handler that drops the report of a cell whose kernel was stopped."""
    if type(context.get("exception")).__name__ != "DeadKernelError":
        loop.default_exception_handler(context)


@contextlib.contextmanager
def interrupt_on_signals():
    """Inside the block (main thread only), SIGINT and SIGTERM raise :class:`RunInterrupted`.

    Kernels are then stopped at once (:attr:`IpcKernelManager.stop_at_once`), and neither
    papermill's log nor the event loop reports the dead kernel (the one line of
    :class:`RunInterrupted` says it); further signals are ignored until the block is left, when
    the previous handlers are restored. Outside the main thread, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    log = logging.getLogger("papermill")
    log_was_disabled = log.disabled

    def interrupt(signum, frame):
        for repeated in previous:  # a second Ctrl-C must not cut short keeping the partial notebook
            signal.signal(repeated, signal.SIG_IGN)
        IpcKernelManager.stop_at_once = True
        log.disabled = True
        with contextlib.suppress(RuntimeError):  # no event loop runs: nothing to quieten
            asyncio.get_running_loop().set_exception_handler(_quiet_about_the_stopped_kernel)
        raise RunInterrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.disabled = log_was_disabled
        IpcKernelManager.stop_at_once = False


@dataclass
class NotebookFailure(Exception):
    """A notebook's cell raised; ``kept_as`` holds its partially executed copy (not frozen: raised
    through context managers, an exception gets its traceback assigned)."""

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


#: Output data that only a live Jupyter front end can render (progress-bar widgets).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_widget_state(executed: Path) -> None:
    """Drop ipywidgets state (``metadata.widgets``) and widget-view outputs from an executed notebook.

    Progress bars are widgets: their state is megabytes that no static view of the record can
    show (their text is a 0 % placeholder).
    """
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if WIDGET_VIEW not in output.get("data", {})]
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
        The profile does not validate, or a ``data_root`` it names does not exist (nothing is
        executed or written).
    ValueError
        An ``extra_parameters`` name that no selected notebook declares.
    StorageError
        The results folder is not writable.
    NotebookFailure
        A cell raised; the partially executed notebook is kept under a ``.FAILED`` name.
    ResultsFolderBusy
        Another run holds the results folder (:func:`diamlib.runstore.results_folder_lock`).
    RunInterrupted
        Ctrl-C or SIGTERM (handled as Ctrl-C while this runs in the main thread); the partially
        executed notebook is kept under an ``.INTERRUPTED`` name.
    """
    cfg = load_profile(profile, overrides)
    check_data_roots(cfg, [task for task in TASKS if getattr(cfg, task) is not None])
    notebooks = list_notebooks(only, folder)
    for notebook in notebooks:
        check_notebook_methods(cfg, notebook.stem)
    out_dir = profile_results_dir(cfg.name, results_root).resolve()
    common = {"profile": profile, "overrides": dict(overrides or {})}
    if results_root is not None:
        common["results_root"] = str(out_dir.parent)
    per_notebook = notebook_parameters(notebooks, common, extra_parameters or {})
    previous_lines = os.environ.get(PROGRESS_LINES_ENV)
    try:
        with interrupt_on_signals(), results_folder_lock(out_dir), ipc_kernels() as kernel_manager:
            os.environ[PROGRESS_LINES_ENV] = "1"  # kernels report the grid's progress as lines on stderr
            print(f"numerics: {cfg.numerics} ({NUMERICS_DESCRIPTION[cfg.numerics]})", file=sys.stderr, flush=True)
            return [_execute(notebook, out_dir / notebook.name, per_notebook[notebook], cfg.numerics,
                             kernel_name, kernel_manager, f"[{position}/{len(notebooks)}]", cfg.name)
                    for position, notebook in enumerate(notebooks, start=1)]
    finally:
        if previous_lines is None:
            os.environ.pop(PROGRESS_LINES_ENV, None)
        else:
            os.environ[PROGRESS_LINES_ENV] = previous_lines


def kept_name(target: Path, outcome: str) -> Path:
    """Where a notebook that did not finish is kept: ``NN_name.FAILED.ipynb`` or ``NN_name.INTERRUPTED.ipynb``."""
    return target.with_suffix(f".{outcome}.ipynb")


def _execute(notebook: Path, target: Path, parameters: dict, numerics: str, kernel_name: str,
             kernel_manager: type, counter: str, profile_name: str) -> Path:
    """Execute one notebook into ``target``; a failed or interrupted one is kept under another name."""
    import papermill as pm

    for outcome in ("FAILED", "INTERRUPTED"):
        kept_name(target, outcome).unlink(missing_ok=True)
    print(f"{counter} {notebook.name} on {profile_name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        with child_environment(numerics):  # the kernel computes in the profile's numerics mode
            pm.execute_notebook(str(notebook), str(target), parameters=parameters, kernel_name=kernel_name,
                                cwd=str(notebook.parent), progress_bar=False, kernel_manager_class=kernel_manager,
                                stderr_file=sys.stderr)
    except pm.PapermillExecutionError as exc:
        target.replace(kept_name(target, "FAILED"))
        raise NotebookFailure(notebook, kept_name(target, "FAILED"), f"{exc.ename}: {exc.evalue}") from None
    except KeyboardInterrupt as exc:
        kept = kept_name(target, "INTERRUPTED") if target.exists() else None
        if kept is not None:
            target.replace(kept)
        raise RunInterrupted(getattr(exc, "signum", signal.SIGINT), kept) from None
    record_paths_relative(target)
    strip_widget_state(target)
    print(f"{counter} {notebook.name} done in {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr,
          flush=True)
    return target
