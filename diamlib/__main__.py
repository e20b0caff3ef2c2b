"""Command line: ``python -m diamlib {run,refresh,validate,profiles,select,doctor,fetch-authors}``.

``validate --profile NAME`` prints the profile's resolved protocol (every default filled
in; ``--json`` for the same as JSON).

``run --repair`` first returns damaged runs of the profile to their last verified round (see
:func:`diamlib.experiment.loop.repair_results`); the notebooks then recompute what is missing.
``run -p NAME VALUE`` sets a notebook parameter; a name no notebook declares is refused.
Ctrl-C (exit code 130) or SIGTERM (143) stops a run with one line saying what is kept and how to
resume; the notebook it stopped is kept as ``NN_name.INTERRUPTED.ipynb``. A second ``run`` on a
results folder in use is refused at once, naming the run that holds it (exit code 1). ``refresh``
re-executes ``notebooks/`` in place on their own parameters (the outputs nbval checks).
``select MODEL.npz ... --budget N --out batch.csv`` selects a batch from evidence files of
target models trained in any framework (format: :mod:`diamlib.userfiles.evidence_files`);
``--previous OLD_batch.json`` carries the stopping rule's stop set on from the previous round
(:mod:`diamlib.userfiles.stop_set`) and prints each model's verdict and whether all have stopped.
``run --numerics {portable,native}`` overrides the profile's CPU numerics (:mod:`diamlib.numerics`);
``doctor`` prints what decides the numbers on this machine and checks the canary against its
stored reference (exit code 1 when packages are off the lock, or when the canary differs where
strict reproduction is asked for: ``--strict`` or ``DIAMLIB_STRICT_NUMERICS``); ``doctor --ops``
adds each kernel's digest beside the reference processor's.
``fetch-authors`` downloads the authors' published raw results (``extracted_results/`` of their
repository at the pinned commit), checks each file's SHA-256 and stores them where notebook 04
reads them (:mod:`diamlib.reporting.authors_files`); ``--source`` reads an archive, a URL, a
clone or a folder instead (exit code 1 when they cannot be fetched or verified).

Every command first chooses the process's numerics mode (:func:`diamlib.numerics.initialise`,
from ``DIAMLIB_NUMERICS``; portable when unset), before anything loads PyTorch. A command whose
optional packages are not installed (the core install has no PyTorch, papermill or Dask) says in
one line which extra to install (:mod:`diamlib.extras`, exit code 1).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from diamlib import numerics
from diamlib.numerics import MODES

if TYPE_CHECKING:
    from diamlib.runner import RunInterrupted


def _workers(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"--workers takes 'auto' or a positive integer, got {value!r}")
    return count


def run_overrides(workers: int | str | None, scheduler: str | None, numerics: str | None = None) -> dict:
    """Profile overrides from the command line: the ``execution`` section and ``numerics``."""
    execution = {key: value for key, value in (("workers", workers), ("scheduler", scheduler)) if value is not None}
    overrides: dict = {"execution": execution} if execution else {}
    if numerics is not None:
        overrides["numerics"] = numerics
    return overrides


class _Parser(argparse.ArgumentParser):
    """An argument parser whose epilog, if it has an ``epilog_factory``, is made when help is shown
    (so that ``select --help`` lists the strategies without every command importing them)."""

    def __init__(self, *args, epilog_factory: Callable[[], str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.epilog_factory = epilog_factory

    def format_help(self) -> str:
        if self.epilog_factory is not None:
            self.epilog = self.epilog_factory()
        return super().format_help()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m diamlib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="execute the notebooks on a profile with papermill")
    run.add_argument("--profile", required=True, help="profile name in params/ or a YAML path")
    run.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="notebook prefixes, e.g. 01 02")
    run.add_argument("--results-root", default=None, help="results folder (default: results/)")
    run.add_argument("--workers", default=None, type=_workers,
                     help="experiment-grid worker processes: auto (one per core) or a number; 1 runs "
                          "without Dask (default: the profile's execution.workers)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run the experiment grid on a running Dask scheduler, e.g. tcp://127.0.0.1:8786")
    run.add_argument("--numerics", choices=MODES, default=None,
                     help="CPU kernels: portable (the same numbers on every x86-64 CPU) or native (this CPU's "
                          "fastest); default: the profile's numerics")
    run.add_argument("--repair", action="store_true",
                     help="roll damaged runs back to their last verified round first, then recompute the rest")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a notebook parameter (VALUE read as YAML); must be declared by a notebook")
    refresh = commands.add_parser("refresh", help="re-execute notebooks/ in place on their own parameters "
                                                  "(the stored outputs that nbval checks)")
    refresh.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="notebook prefixes, e.g. 01 02")
    validate = commands.add_parser("validate", help="validate a profile and print its resolved protocol")
    validate.add_argument("--profile", required=True)
    validate.add_argument("--json", action="store_true",
                          help="print the resolved protocol as JSON (machine-readable) instead of text")
    commands.add_parser("profiles", help="list the available profiles")
    doctor = commands.add_parser("doctor", help="what decides the numbers here: numerics, CPU kernels, versions "
                                                "against the lock, data checksums, and the canary")
    doctor.add_argument("--update-canary", action="store_true",
                        help="store this machine's canary digest as the reference (portable mode only; after "
                             "refreshing the lock)")
    doctor.add_argument("--ops", action="store_true",
                        help="also hash each CPU kernel the experiments use and compare it with the reference "
                             "processor's: which kernels part this machine from the stored numbers")
    doctor.add_argument("--strict", action="store_true",
                        help="fail (exit code 1) when the canary differs from the reference, on any processor "
                             "(the same as DIAMLIB_STRICT_NUMERICS=on)")
    fetch = commands.add_parser(
        "fetch-authors", help="download the authors' published raw results (pinned commit, SHA-256 checked) "
                              "to where notebook 04 reads them")
    fetch.add_argument("--source", default=None,
                       help="an http(s):// or file:// URL of a .tar.gz archive of the repository, an archive, a "
                            "git clone or a folder (default: GitHub's archive of the pinned commit)")
    fetch.add_argument("--revision", default=None, help="revision read from a git clone (default: the pinned commit)")
    fetch.add_argument("--force", action="store_true", help="fetch again and replace the folder if it exists")
    select = commands.add_parser(
        "select", help="select a batch to label from per-model evidence files (.npz, any framework)",
        description="Select a batch from one evidence .npz per target model; writes the batch CSV\n"
                    "(rank, pool_index, pool_id, score) and a JSON record beside it (the same name, .json).\n"
                    "File format: python -c 'import diamlib.userfiles.evidence_files as m; help(m)'",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog_factory=strategies_help)
    select.add_argument("models", nargs="+", metavar="MODEL.npz", help="one evidence file per target model")
    select.add_argument("--budget", required=True, type=int, help="number of pool points to select")
    select.add_argument("--out", required=True, help="batch CSV to write (the JSON record gets the same stem)")
    select.add_argument("--strategy", default="diam", help="registered strategy (default: diam)")
    select.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a strategy option, VALUE read as YAML, e.g. beta=-1.0 (repeatable)")
    select.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    select.add_argument("--previous", default=None, metavar="OLD_batch.json",
                        help="the previous round's batch.json: carries the stop set on, so that batch.json "
                             "reports each model's agreement with that round and whether all can stop")
    select.add_argument("--force", action="store_true",
                        help="replace the batch CSV and its JSON record if they exist (default: refuse)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        numerics.initialise()  # the CPU kernels of this process, before anything loads PyTorch
        return _command(args)
    except Exception as exc:  # noqa: BLE001 (the errors diamlib explains; anything else is raised again)
        return _known_error(exc)


def _known_error(exc: Exception) -> int:
    """Print an error diamlib explains in one line and return its exit code; raise any other error again.

    The exception classes are imported here, not at the top, so that ``--help`` loads nothing.
    """
    from diamlib.config import ConfigError
    from diamlib.extras import EXTRA_OF_MODULE, MissingExtraError, missing_message
    from diamlib.fileio import StorageError
    from diamlib.numerics import NumericsError
    from diamlib.runstore import RunConflictError, RunIntegrityError

    if isinstance(exc, ConfigError):
        print(f"error: invalid profile: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, (RunConflictError, RunIntegrityError, StorageError, NumericsError, MissingExtraError)):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    top = exc.name.split(".")[0] if isinstance(exc, ModuleNotFoundError) and exc.name else None
    if top in EXTRA_OF_MODULE:
        every = "" if EXTRA_OF_MODULE[top] == "suite" else " (or 'diamlib[suite]' for every command)"
        print(f"error: {missing_message(exc.name, 'this command')}{every}", file=sys.stderr)
        return 1
    if isinstance(exc, ValueError):
        print(f"error: {exc}", file=sys.stderr)
        return 2
    raise exc


def _command(args: argparse.Namespace) -> int:
    if args.command == "profiles":
        from diamlib.config import available_profiles
        from diamlib.paths import params_dir

        names = available_profiles()
        if not names:
            print(f"no profiles in {params_dir()}: set DIAMLIB_PARAMS_DIR to a folder of YAML profiles (a checkout's "
                  f"params/), or give --profile a YAML path", file=sys.stderr)
        print("\n".join(names))
        return 0
    if args.command == "validate":
        from diamlib.experiment.protocol import format_protocol, resolved_protocol
        from diamlib.experiment.setup import load_profile

        protocol = resolved_protocol(load_profile(args.profile))
        print(json.dumps(protocol, indent=2) if args.json else format_protocol(protocol))
        return 0
    if args.command == "refresh":
        from diamlib.runner import NotebookFailure
        from diamlib.stored_outputs import refresh_stored_outputs

        try:
            refreshed = refresh_stored_outputs(args.only)
        except NotebookFailure as failure:
            print(f"error: {failure}", file=sys.stderr)
            return 1
        print(f"re-executed {len(refreshed)} notebook(s) in place")
        return 0
    if args.command == "select":
        return _select(args)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "fetch-authors":
        return _fetch_authors(args)
    return _run(args)


# --------------------------------------------------------------------------- select
def strategies_help() -> str:
    """The strategies ``select`` runs and the arrays each reads from every file (``select --help``).

    Read from the registry (:data:`~diamlib.strategies.registry.STRATEGIES`) and from
    :data:`~diamlib.evidence.HOW_TO_COMPUTE`; imported only when help is shown.
    """
    import textwrap

    from diamlib.evidence import HOW_TO_COMPUTE
    from diamlib.strategies.registry import STRATEGIES
    from diamlib.userfiles.evidence_files import EVIDENCE_FILE_ARRAYS

    width = max(map(len, STRATEGIES)) + 4

    def entry(head: str, text: str, indent: int) -> str:
        return textwrap.fill(text, width=100, initial_indent=head.ljust(indent), subsequent_indent=" " * indent)

    lines = ["strategies (--strategy NAME): task, and the arrays every model's file must hold"]
    for name, spec in STRATEGIES.items():
        arrays = ", ".join(sorted(spec.evidence)) or "none (pool_ids, or any pool array, gives the pool size)"
        whose = "; the largest model's are used (by n_parameters)" if spec.reads_feature_model else ""
        lines.append(entry(f"  {name}", f"{' or '.join(sorted(spec.tasks))}: {arrays}{whose}", width))
    lines += ["", "arrays (np.savez, or diamlib.userfiles.evidence_files.save_model_evidence):"]
    described = {**HOW_TO_COMPUTE, "pool_ids": f"optional: {EVIDENCE_FILE_ARRAYS['pool_ids'][1]}",
                 "n_parameters": f"optional: {EVIDENCE_FILE_ARRAYS['n_parameters'][1]}"}
    for name, how in described.items():
        lines.append(entry(f"  {name}", how, 24))
    return "\n".join(lines)


def parse_option_arguments(items: list[str]) -> dict:
    """``["beta=-1.0", "solver=fista"]`` -> ``{"beta": -1.0, "solver": "fista"}`` (values read as YAML).

    Raises
    ------
    EvidenceFileError
        An item without ``=``, an empty name, a repeated name or a value that is not YAML.
    """
    import yaml

    from diamlib.userfiles.evidence_files import EvidenceFileError

    options: dict = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise EvidenceFileError(f"--option {item!r}: write NAME=VALUE, e.g. --option beta=-1.0")
        if name in options:
            raise EvidenceFileError(f"--option {name} is given twice; give each option once")
        try:
            options[name] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise EvidenceFileError(f"--option {item!r}: the value {text!r} is not a number, word or list; "
                                    f"quote or correct it") from None
    return options


def _select(args: argparse.Namespace) -> int:
    from diamlib.userfiles.evidence_files import run_select

    csv_path, json_path, selection = run_select(
        args.models, budget=args.budget, out=args.out, strategy=args.strategy,
        options=parse_option_arguments(args.option), seed=args.seed, force=args.force, previous=args.previous)
    print(f"selected {len(selection.indices)} of the pool with {args.strategy}: {csv_path} ({json_path.name})")
    stopping = json.loads(json_path.read_text()).get("stopping")
    if stopping is not None:
        for name, verdict in stopping["models"].items():
            kappa, mean = verdict["kappa"], verdict["window_mean"]
            print(f"  {name}: kappa {'-' if kappa is None else f'{kappa:.4f}'}, mean of the last "
                  f"{stopping['window']} {'-' if mean is None else f'{mean:.4f}'}, "
                  f"{'stopped' if verdict['stopped'] else 'not stopped'}")
        print(f"  all models stopped (mean kappa >= {stopping['threshold']}): "
              f"{'yes' if stopping['all_stopped'] else 'no'}")
    return 0


def _fetch_authors(args: argparse.Namespace) -> int:
    from diamlib.reporting.authors_files import AuthorsFetchError, fetch_authors_results, fetched_authors_results

    existed = fetched_authors_results().is_dir()
    try:
        folder = fetch_authors_results(args.source, revision=args.revision, force=args.force)
    except AuthorsFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if existed and not args.force:
        print(f"the authors' results are already in {folder} (--force fetches them again)")
    else:
        print(f"fetched and verified the authors' results into {folder}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from diamlib.doctor import describe_processor, doctor_lines, processor_identity
    from diamlib.numerics import write_reference_canary

    if args.update_canary:
        reference = write_reference_canary(processor_identity())
        print(f"stored the canary reference {reference['digest'][:16]} (torch {reference['torch']}) recorded on "
              f"{describe_processor(reference['processor'])}")
    lines, healthy = doctor_lines(ops=args.ops, strict="on" if args.strict else None)
    print("\n".join(lines))
    return 0 if healthy else 1


def _run(args: argparse.Namespace) -> int:
    from diamlib.runner import RunInterrupted, interrupt_on_signals

    try:
        with interrupt_on_signals():
            return _run_notebooks(args)
    except KeyboardInterrupt as interrupt:
        stopped = interrupt if isinstance(interrupt, RunInterrupted) else RunInterrupted()
        print(interrupted_line(stopped, _results_folder(args)), file=sys.stderr, flush=True)
        return stopped.exit_code


def _results_folder(args: argparse.Namespace) -> Path:
    """The results folder ``run`` writes, for the interrupted line (the profile's name if it cannot be read)."""
    from diamlib.config import ConfigError, read_profile
    from diamlib.paths import profile_results_dir

    try:
        return profile_results_dir(read_profile(args.profile).name, args.results_root)
    except ConfigError:
        return profile_results_dir(str(args.profile), args.results_root)


def interrupted_line(interrupt: RunInterrupted, out_dir: Path) -> str:
    """The one line printed when Ctrl-C or SIGTERM stops ``run``: what is kept and how to resume."""
    import signal

    how = "Ctrl-C" if interrupt.signum == signal.SIGINT else signal.Signals(interrupt.signum).name
    kept = f"; the partial notebook is {interrupt.kept_as}" if interrupt.kept_as is not None else ""
    return (f"interrupted ({how}): every completed round is saved under {out_dir}{kept}; run the same command "
            f"again to resume")


def _run_notebooks(args: argparse.Namespace) -> int:
    import yaml

    from diamlib.experiment.setup import load_profile
    from diamlib.paths import profile_results_dir
    from diamlib.runner import NotebookFailure, run_notebooks
    from diamlib.runstore import results_folder_lock

    overrides = run_overrides(args.workers, args.scheduler, args.numerics)
    profile = load_profile(args.profile, overrides)
    out_dir = profile_results_dir(profile.name, args.results_root)
    parameters = {name: yaml.safe_load(value) for name, value in args.parameter}
    if args.repair:
        from diamlib.experiment.loop import repair_results

        with results_folder_lock(out_dir):  # never beside another run
            for line in repair_results(out_dir):
                print(f"repair: {line}")
    try:
        executed = run_notebooks(args.profile, only=args.only, results_root=args.results_root,
                                 extra_parameters=parameters, overrides=overrides)
    except NotebookFailure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    folder = executed[0].parent if executed else None
    print(f"executed {len(executed)} notebook(s) into {folder}")
    if folder is not None:
        print(f"figures: {folder / 'figures'}\ntables:  {folder / 'tables'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
