"""The experiment grid: every (dataset, seed, method) run of a task, as a graph of Dask tasks.

A task's grid is ``datasets x seeds x methods``; all methods of one (dataset, seed) start
from the same round 0 (the initial random labels and the models trained on them). So the
graph has one *round-0 task* per (dataset, seed), and one *run task* per (dataset, seed,
method) that depends on it. Each run task walks the rounds of one run
(:func:`diamlib.experiment.loop.run_method`) and persists every round through the run store, so a task
that is retried after its worker died resumes where the run stopped.

Where it runs is set by the profile's ``execution`` section (or :func:`run_task`'s
arguments):

- ``workers: 1``: in this process, one run after the other, without Dask;
- ``workers: N`` or ``auto``: a ``dask.distributed.LocalCluster`` of single-threaded worker
  processes (``auto``: one per CPU core; with ``device: cuda``, ``workers_per_gpu`` per GPU);
- ``scheduler: tcp://host:port``: the workers of a running Dask scheduler (``dask
  scheduler`` + ``dask worker`` on any machines, ``dask-jobqueue`` on Slurm/PBS, one worker
  per GPU).

Results do not depend on where or in which order the tasks ran: every run draws its random
numbers only from its own seed (:mod:`diamlib.seeding`), each worker uses one thread and
deterministic kernels, and runs write only to their own folders.

References
----------
Algorithm 2's outer loop (Sec. 5.2) repeated over the paper's datasets, methods and target
models (Sec. 6).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from diamlib.config import MethodEntry, Profile
from diamlib.experiment.setup import check_data_roots, configure_torch, load_task_data, resolve_zoo, size_notes
from diamlib.numerics import child_environment
from diamlib.paths import run_dir
from diamlib.runstore import check_dataset_settings, results_folder_lock
from diamlib.zoo import ModelSpec

#: A callable run after every persisted round of a run: ``hook(run_folder, round_index)``.
RoundHook = Callable[[Path, int], None]


@dataclass(frozen=True)
class RunKey:
    """One run of the grid: a method on one dataset with one seed."""

    dataset: str
    seed: int
    method: str

    def label(self) -> str:
        return f"{self.dataset}/{self.method}/seed{self.seed}"


@dataclass(frozen=True)
class GridSpec:
    """What every task of one task's grid needs; sent to the workers as it is.

    Attributes
    ----------
    profile : Profile
    task : {"classification", "regression"}
    profile_dir : Path
        ``results/<profile>``.
    zoo : tuple of ModelSpec, optional
        Bring-your-own target models (default: the profile's zoo). Their factories travel
        to the workers with cloudpickle.
    after_round : callable, optional
        :data:`RoundHook` called in the worker after each persisted round.
    """

    profile: Profile
    task: str
    profile_dir: Path
    zoo: tuple[ModelSpec, ...] | None = None
    after_round: RoundHook | None = None
    methods: tuple[MethodEntry, ...] = field(default=())

    def runs(self) -> list[RunKey]:
        section = self.profile.experiment(self.task)
        seeds = self.profile.seeds_for(self.task)
        return [RunKey(dataset, seed, entry.method)
                for dataset in section.datasets for seed in seeds for entry in self.methods]

    def entry(self, method: str) -> MethodEntry:
        return next(e for e in self.methods if e.method == method)


# --------------------------------------------------------------------------- worker side
#: Task contexts built in this process, keyed by (profile, task, dataset, results, zoo names):
#: a worker that runs several tasks of one dataset loads the data once.
_CONTEXTS: dict[tuple, object] = {}


def task_context(spec: GridSpec, dataset: str):
    """The :class:`diamlib.experiment.loop.TaskContext` of ``dataset``, built once per process."""
    from diamlib.experiment.loop import TaskContext

    zoo_names = tuple(s.name for s in spec.zoo) if spec.zoo is not None else None
    key = (spec.profile.model_dump_json(), spec.task, dataset, str(spec.profile_dir), zoo_names)
    if key not in _CONTEXTS:
        configure_torch(spec.profile)
        pin_worker_gpu(spec.profile)
        section = spec.profile.experiment(spec.task)
        train, test = load_task_data(section, spec.task, dataset)
        specs = list(spec.zoo) if spec.zoo is not None else resolve_zoo(section, train.n_outputs)
        _CONTEXTS.clear()  # keep one dataset's arrays in memory per process
        _CONTEXTS[key] = TaskContext(profile=spec.profile, task=spec.task, dataset=dataset, section=section,
                                     train=train, test=test, specs=specs, profile_dir=Path(spec.profile_dir))
    return _CONTEXTS[key]


def round_zero_task(spec: GridSpec, dataset: str, seed: int) -> str:
    """Train (or load the cached) round 0 of (dataset, seed); returns its cache folder."""
    from diamlib.experiment.loop import shared_round_zero

    shared_round_zero(task_context(spec, dataset), seed)
    return f"{spec.task}/{dataset}/seed{seed}"


def run_key_task(spec: GridSpec, key: RunKey, _round_zero: str | None = None) -> Path:
    """Run (or resume, or skip) one run of the grid; returns its folder."""
    from diamlib.experiment.loop import run_method

    return run_method(task_context(spec, key.dataset), spec.entry(key.method), key.seed,
                      after_round=spec.after_round)


# --------------------------------------------------------------------------- progress
def _completed_rounds(folder: Path) -> int:
    """Rounds persisted so far in a run folder (-1 before round 0), read without locking."""
    try:
        return int(json.loads((folder / "run.json").read_text())["completed_rounds"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


#: Environment variable that switches the grid's progress to plain lines (set by the runner,
#: whose terminal shows a notebook kernel's stderr).
PROGRESS_LINES_ENV = "DIAMLIB_PROGRESS_LINES"


class GridProgress:
    """Progress over all rounds of all runs, with runs done, the runs under way and the time.

    It counts persisted rounds, read from the runs' ``run.json`` files, so it moves whichever
    process (or machine) trains them. Shown as a progress bar (a widget in JupyterLab), or,
    when :data:`PROGRESS_LINES_ENV` is set (``python -m diamlib run`` sets it for its
    kernels), as one plain line on stderr whenever a round completes, at most every
    ``line_seconds``, which reads well in a terminal or a log file.
    """

    def __init__(self, spec: GridSpec, *, enabled: bool, line_seconds: float = 10.0):
        self.spec = spec
        self.folders = {key: run_dir(spec.profile_dir, spec.task, key.dataset, key.method, key.seed)
                        for key in spec.runs()}
        self.rounds_per_run = spec.profile.experiment(spec.task).rounds + 1
        self.total = len(self.folders) * self.rounds_per_run
        self.started = time.perf_counter()
        self.lines = enabled and bool(os.environ.get(PROGRESS_LINES_ENV))
        self.line_seconds = line_seconds
        self._last_line = (-1, -float("inf"))
        self.bar = tqdm(total=self.total, desc=f"{spec.task}: rounds", unit="round",
                        disable=not enabled or self.lines, dynamic_ncols=True)

    def status(self) -> tuple[int, str]:
        """Rounds persisted so far, and a one-line summary."""
        done_rounds = {key: _completed_rounds(folder) + 1 for key, folder in self.folders.items()}
        finished = sum(n == self.rounds_per_run for n in done_rounds.values())
        running = [f"{key.method} s{key.seed} r{n}" for key, n in done_rounds.items() if 0 < n < self.rounds_per_run]
        elapsed = time.perf_counter() - self.started
        summary = (f"runs {finished}/{len(self.folders)}" + (f" | at {', '.join(running[:3])}" if running else "")
                   + f" | {elapsed / 60:.1f} min")
        return sum(done_rounds.values()), summary

    def update(self, *, final: bool = False) -> None:
        done, summary = self.status()
        if self.lines:
            last_done, last_time = self._last_line
            now = time.perf_counter()
            if done != last_done and (final or now - last_time >= self.line_seconds or done == self.total):
                print(f"[{self.spec.task}] rounds {done}/{self.total} | {summary}", file=sys.stderr, flush=True)
                self._last_line = (done, now)
            return
        self.bar.n = done
        self.bar.set_postfix_str(summary, refresh=True)

    def close(self) -> None:
        self.update(final=True)
        self.bar.close()


# --------------------------------------------------------------------------- execution
def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int | str, n_runs: int, device: str = "cpu", workers_per_gpu: int = 1) -> int:
    """Number of local worker processes, never more than runs.

    ``auto`` is one per CPU core, or on ``device: cuda`` ``workers_per_gpu`` per visible GPU
    (worker ``i`` then trains on GPU ``i mod n_gpus``, :func:`worker_gpu`, so each GPU gets
    ``workers_per_gpu`` of them). A number is taken as it is.
    """
    if workers == "auto":
        count = available_gpus() * workers_per_gpu if device == "cuda" else available_cores()
    else:
        count = int(workers)
    return max(1, min(count, n_runs))


def available_gpus() -> int:
    """CUDA devices visible to this process (at least 1, so a profile fails later with a clear
    message from :func:`diamlib.experiment.setup.configure_torch` when there is none)."""
    import torch

    return max(1, torch.cuda.device_count())


def worker_gpu(worker_name: object, n_gpus: int) -> int:
    """The GPU a worker trains on: worker ``i`` of a ``LocalCluster`` takes GPU ``i mod n``.

    With ``execution.workers_per_gpu: k`` the cluster has ``k n`` workers, so every GPU gets ``k``.

    Workers with other names (started by hand) take GPU 0 of what they see; start them with
    ``CUDA_VISIBLE_DEVICES`` set, or with ``dask-cuda``'s ``dask cuda worker``, which pins one
    GPU per worker that way.
    """
    text = str(worker_name)
    return int(text) % n_gpus if text.isdigit() and n_gpus > 0 else 0


def pin_worker_gpu(profile: Profile) -> None:
    """On ``device: cuda`` inside a Dask worker, make the worker's GPU the current device."""
    if profile.device != "cuda":
        return
    import torch
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:  # not inside a Dask worker: this process's current device stays
        return
    if torch.cuda.device_count() > 1:
        torch.cuda.set_device(worker_gpu(worker.name, torch.cuda.device_count()))


def _announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def dask_client(*, workers: int, scheduler: str | None, announce: Callable[[str], None] = _announce):
    """A ``distributed.Client`` on ``scheduler``, or on a new ``LocalCluster`` of
    ``workers`` single-threaded processes (closed afterwards)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, set_as_default=False) as client:
            announce(f"Dask scheduler {scheduler}: {len(client.scheduler_info()['workers'])} workers; "
                     f"dashboard {client.dashboard_link}")
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster, set_as_default=False) as client:
        announce(f"Dask LocalCluster: {workers} single-threaded workers; dashboard {client.dashboard_link}")
        yield client


def _run_in_process(spec: GridSpec, progress: GridProgress) -> list[Path]:
    user_hook = spec.after_round

    def after_round(folder: Path, round_index: int) -> None:
        if user_hook is not None:
            user_hook(folder, round_index)
        progress.update()

    spec = replace(spec, after_round=after_round)
    folders = []
    for key in spec.runs():
        round_zero_task(spec, key.dataset, key.seed)
        folders.append(run_key_task(spec, key))
    return folders


def _run_on_dask(spec: GridSpec, progress: GridProgress, *, workers: int, scheduler: str | None,
                 poll_seconds: float = 1.0) -> list[Path]:
    # workers train silently: the grid's progress bar (read from the run folders) speaks for them
    spec = replace(spec, profile=spec.profile.model_copy(update={"progress": False}))
    # a LocalCluster's workers start in the profile's numerics (a scheduler's own workers choose theirs
    # in configure_torch, before they compute)
    with child_environment(spec.profile.numerics), dask_client(workers=workers, scheduler=scheduler) as client:
        round_zero = {}
        for key in spec.runs():
            if (key.dataset, key.seed) not in round_zero:
                round_zero[key.dataset, key.seed] = client.submit(
                    round_zero_task, spec, key.dataset, key.seed, pure=False,
                    key=f"round0-{spec.task}-{key.dataset}-seed{key.seed}")
        futures = [client.submit(run_key_task, spec, key, round_zero[key.dataset, key.seed], pure=False,
                                 key=f"run-{spec.task}-{key.label()}")
                   for key in spec.runs()]
        while any(f.status == "pending" for f in futures) and not any(f.status == "error" for f in futures):
            progress.update()
            time.sleep(poll_seconds)
        return client.gather(futures)  # raises the first failed task's exception, with its traceback


def run_task(profile: Profile, task: str, profile_dir: Path, *, zoo: Sequence[ModelSpec] | None = None,
             methods: Iterable[str] | None = None, workers: int | str | None = None,
             scheduler: str | None = None, after_round: RoundHook | None = None,
             repair: bool = False) -> list[Path]:
    """Run every dataset x seed x method of ``task``; resumable, idempotent, on Dask if asked.

    Parameters
    ----------
    profile : Profile
    task : {"classification", "regression"}
    profile_dir : Path
        ``results/<profile>``; runs go to ``<profile_dir>/<task>/<dataset>/<method>/seed<s>/``.
    zoo : sequence of ModelSpec, optional
        Bring-your-own target models (see :func:`diamlib.zoo.custom_zoo`); default: the
        profile's zoo.
    methods : iterable of str, optional
        Only these method labels.
    workers : int or "auto", optional
        Overrides ``profile.execution.workers`` (1: in this process, without Dask).
    scheduler : str, optional
        Overrides ``profile.execution.scheduler``: address of a running Dask scheduler.
    after_round : callable, optional
        ``after_round(run_folder, round_index)``, called where the run executes after each
        persisted round (e.g. to report or checkpoint elsewhere).
    repair : bool
        First roll damaged runs of ``task`` back to their last verified round and remove damaged
        round-0 caches (:func:`diamlib.experiment.loop.repair_results`), so the rest is recomputed instead
        of refused.

    Returns
    -------
    list of Path
        The run folders, in grid order (dataset, seed, method), whatever order they ran in.

    Raises
    ------
    ConfigError
        Unknown ``task`` (with a did-you-mean), the profile has no section for it, its
        ``data_root`` does not exist, or ``feature_model: supernet`` lacks its weights.
    ValueError
        A name in ``methods`` that the profile does not run.
    StorageError
        ``profile_dir`` is not writable, or a write failed (disk full); the message names the path.
    ResultsFolderBusy
        Another run holds ``profile_dir`` (:func:`diamlib.runstore.results_folder_lock`; a run
        started by the holder, such as a notebook under ``python -m diamlib run``, shares it).
    RunConflictError
        Runs or a round-0 cache of other settings exist for a dataset; the message names every
        differing parameter with both values. Checked for every dataset before any training.
    RunIntegrityError
        A run's files do not match its ``run.json`` (without ``repair``).
    """
    from diamlib.experiment.loop import check_feature_model, repair_results

    section = profile.experiment(task)
    unknown = sorted(set(methods or ()) - {e.method for e in section.strategies})
    if unknown:
        raise ValueError(f"methods {unknown} are not in the profile's {task}.strategies "
                         f"({', '.join(e.method for e in section.strategies)})")
    check_data_roots(profile, [task])
    check_feature_model(section, task)
    with results_folder_lock(Path(profile_dir)):
        if repair:
            repair_results(Path(profile_dir), tasks=[task])
        wanted = None if methods is None else set(methods)
        entries = tuple(e for e in section.strategies if wanted is None or e.method in wanted)
        spec = GridSpec(profile=profile, task=task, profile_dir=Path(profile_dir),
                        zoo=tuple(zoo) if zoo is not None else None, after_round=after_round, methods=entries)
        for dataset in section.datasets:  # before any training, on any worker
            context = task_context(spec, dataset)
            check_dataset_settings(context.dataset_dir, context.base_settings)
            for line in size_notes(section, task, dataset, context.train, context.test):
                print(line, file=sys.stderr, flush=True)
        scheduler = scheduler if scheduler is not None else profile.execution.scheduler
        n_workers = resolve_workers(workers if workers is not None else profile.execution.workers,
                                    len(spec.runs()), profile.device, profile.execution.workers_per_gpu)
        progress = GridProgress(spec, enabled=profile.progress)
        try:
            if scheduler is None and n_workers == 1:
                return _run_in_process(spec, progress)
            return _run_on_dask(spec, progress, workers=n_workers, scheduler=scheduler)
        finally:
            progress.close()
            sys.stderr.flush()
