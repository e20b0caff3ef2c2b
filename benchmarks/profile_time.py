"""Time one seed of a profile's classification section and extrapolate to its whole grid.

Runs, in a temporary results folder that is removed afterwards, with the loop's own functions:

1. round 0 of the first dataset and seed (the initial random labels; every target model trained
   once and all evidence computed), :func:`diamlib.experiment.loop.shared_round_zero`;
2. one query round of one strategy (the selection of ``query_size`` labels, then every target
   model trained on ``initial_labels + query_size`` labels and the strategy's evidence
   computed), :func:`diamlib.experiment.loop.run_method` with the profile cut to two rounds (the timed
   round 1 is then not the run's last, which computes no evidence).

It prints the measured seconds, then an EXTRAPOLATION to the whole grid (datasets x seeds x
methods, all rounds) that assumes: training time proportional to the number of labels (same
epochs over a growing labeled set), evidence and selection times constant over the rounds, every
method as costly as the timed one (time DIAM, the default, for an upper-end estimate), and
workers that divide the serial time perfectly. Run from the project root, e.g.

    python benchmarks/profile_time.py --profile cpu-full
    python benchmarks/profile_time.py --profile default --strategy random --workers 2

References
----------
Sec. 6.1 of the paper (the experimental protocol being timed).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import yaml

from diamlib import numerics

numerics.initialise()  # this process's CPU kernels, chosen before anything loads PyTorch (diamlib.numerics)

from diamlib.numerics import folder_setting  # noqa: E402

TASK = "classification"


@dataclass(frozen=True)
class Measured:
    """Seconds measured for one seed of one dataset.

    Attributes
    ----------
    round_zero : float
        Wall time of round 0 (shared by all methods of a (dataset, seed)).
    query_round : float
        Wall time of one query round of the timed strategy (selection, training, evidence,
        persistence).
    training, evidence, selection : float
        Parts of the query round as the run records them (``run.json``).
    labels_timed : int
        Labels the query round trained on (``initial_labels + query_size``).
    """

    round_zero: float
    query_round: float
    training: float
    evidence: float
    selection: float
    labels_timed: int


@dataclass(frozen=True)
class Extrapolation:
    """Estimated seconds of a whole grid (see :func:`extrapolate`)."""

    runs: int
    rounds: int
    round_zeros: int
    seconds_per_run: float
    serial_seconds: float
    workers: int
    wall_seconds: float


def label_schedule(initial_labels: int, query_size: int, rounds: int) -> list[int]:
    """Labels each query round trains on: ``initial_labels + r * query_size`` for r = 1..rounds."""
    return [initial_labels + r * query_size for r in range(1, rounds + 1)]


def extrapolate(measured: Measured, *, schedule: Sequence[int], n_datasets: int, n_seeds: int,
                n_methods: int, workers: int) -> Extrapolation:
    """Seconds of the whole grid from one timed round 0 and one timed query round.

    One run (a method on a dataset and seed) costs, over its rounds r = 1..R,
    ``sum_r [training * n_r / labels_timed + evidence + selection + other]``, where ``other`` is
    the rest of the timed query round (loading, persistence). Each (dataset, seed) adds one
    round 0. The wall time divides the serial time by ``workers`` (a lower bound: no
    scheduling loss, the round 0 of a seed before its runs ignored).

    Parameters
    ----------
    measured : Measured
    schedule : sequence of int
        Labels of each query round (:func:`label_schedule`).
    n_datasets, n_seeds, n_methods : int
        The grid.
    workers : int
        Worker processes.

    Returns
    -------
    Extrapolation
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    other = max(measured.query_round - measured.training - measured.evidence - measured.selection, 0.0)
    fixed = measured.evidence + measured.selection + other
    per_run = sum(measured.training * labels / measured.labels_timed + fixed for labels in schedule)
    runs = n_datasets * n_seeds * n_methods
    round_zeros = n_datasets * n_seeds
    serial = runs * per_run + round_zeros * measured.round_zero
    return Extrapolation(runs=runs, rounds=len(schedule), round_zeros=round_zeros, seconds_per_run=per_run,
                         serial_seconds=serial, workers=workers, wall_seconds=serial / workers)


def measure(profile_name: str, strategy: str | None = None,
            overrides: dict | None = None) -> tuple[Measured, object, str]:
    """Time round 0 and one query round of the profile's first dataset and seed.

    Parameters
    ----------
    profile_name : str
        Profile name in ``params/`` or a YAML path.
    strategy : str, optional
        Method to time (default: ``diam`` if the profile runs it, else its first method).
    overrides : dict, optional
        Dotted profile overrides (``{"classification.training.epochs": 1}``).

    Returns
    -------
    measured : Measured
    profile : diamlib.config.Profile
        The profile as written (not cut to one round).
    method : str
        The method timed.

    Raises
    ------
    ValueError
        The profile has no query round, or ``strategy`` is not one of its methods.
    """
    from diamlib.experiment.grid import GridSpec, task_context
    from diamlib.experiment.loop import run_method, shared_round_zero
    from diamlib.experiment.setup import load_profile
    from diamlib.runstore import RunStore

    overrides = dict(overrides or {})
    profile = load_profile(profile_name, overrides)
    section = profile.experiment(TASK)
    if section.rounds < 1:
        raise ValueError(f"profile {profile.name!r} has no query round ({TASK}.rounds = 0); nothing to time")
    methods = [e.method for e in section.strategies]
    method = strategy or ("diam" if "diam" in methods else methods[0])
    if method not in methods:
        raise ValueError(f"{method!r} is not a method of profile {profile.name!r}; its methods: {', '.join(methods)}")
    # two rounds when the profile has them: round 1 then computes the evidence its selection reads
    # (the loop computes none in a run's last round, after which nothing is selected)
    one_round = load_profile(profile_name, {**overrides, f"{TASK}.rounds": min(2, section.rounds), "progress": False})
    entry = next(e for e in one_round.experiment(TASK).strategies if e.method == method)
    dataset, seed = section.datasets[0], profile.seeds_for(TASK)[0]
    with tempfile.TemporaryDirectory(prefix="profile-time-") as folder:
        spec = GridSpec(profile=one_round, task=TASK, profile_dir=Path(folder), methods=(entry,))
        ctx = task_context(spec, dataset)  # data and zoo loaded before the clocks start
        started = time.perf_counter()
        shared_round_zero(ctx, seed)
        round_zero = time.perf_counter() - started
        run_folder = run_method(ctx, entry, seed)
        logs = {log["round"]: log["seconds"] for log in RunStore(run_folder).load().meta["rounds"]}
        query_round = logs[0]["selection"] + logs[1]["training"] + logs[1]["evidence"]
    measured = Measured(round_zero=round_zero, query_round=query_round, training=logs[1]["training"],
                        evidence=logs[1]["evidence"], selection=logs[0]["selection"],
                        labels_timed=section.initial_labels + section.query_size)
    return measured, profile, method


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, help="profile name in params/ or a YAML path")
    parser.add_argument("--strategy", default=None, help="method to time (default: diam, else the first)")
    parser.add_argument("--workers", default=None,
                        help="workers of the extrapolation: 'auto' or a number (default: the profile's)")
    parser.add_argument("--override", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="a dotted profile key and a YAML value, e.g. classification.training.epochs 1")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> dict:
    """Measure, extrapolate, print; returns the numbers printed."""
    from diamlib.experiment.grid import resolve_workers

    args = _parser().parse_args(argv)
    overrides = {key: yaml.safe_load(value) for key, value in args.override}
    measured, profile, method = measure(args.profile, args.strategy, overrides)
    section = profile.experiment(TASK)
    schedule = label_schedule(section.initial_labels, section.query_size, section.rounds)
    seeds = profile.seeds_for(TASK)
    n_runs = len(section.datasets) * len(seeds) * len(section.strategies)
    workers = resolve_workers(args.workers if args.workers is not None else profile.execution.workers, n_runs,
                              profile.device, profile.execution.workers_per_gpu)
    estimate = extrapolate(measured, schedule=schedule, n_datasets=len(section.datasets),
                           n_seeds=len(seeds), n_methods=len(section.strategies), workers=workers)
    result = {"profile": profile.name, "method": method, "measured": asdict(measured),
              "extrapolation": asdict(estimate), "numerics": folder_setting()}
    if args.json:
        print(json.dumps(result))
        return result
    print(f"profile {profile.name!r}, {TASK}, dataset {section.datasets[0]!r}, seed {seeds[0]}, "
          f"{len(section.strategies)} methods; timed method: {method}")
    print(f"measured: round 0 ({section.initial_labels} labels, all models, all evidence): "
          f"{measured.round_zero:.1f} s")
    print(f"measured: one query round ({measured.labels_timed} labels): {measured.query_round:.1f} s "
          f"(training {measured.training:.1f} s, evidence {measured.evidence:.1f} s, "
          f"selection {measured.selection:.2f} s)")
    print(f"EXTRAPOLATION (not measured): {estimate.runs} runs x {estimate.rounds} rounds "
          f"(labels {schedule[0]} -> {schedule[-1]}) + {estimate.round_zeros} round-0 trainings = "
          f"{estimate.serial_seconds / 3600:.2f} h serial, ~{estimate.wall_seconds / 3600:.2f} h on "
          f"{workers} worker(s); assumes training time proportional to labels and every method as "
          f"costly as {method}")
    return result


if __name__ == "__main__":
    main()
