"""Command line: ``python -m diamlib {run,refresh,validate,profiles}``."""
from __future__ import annotations

import argparse
import sys

from diamlib.config import ConfigError, available_profiles, load_profile


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m diamlib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute the notebooks on a profile with papermill")
    run.add_argument("--profile", required=True, help="profile name in params/ or a YAML path")
    run.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="notebook prefixes, e.g. 01 02")
    run.add_argument("--results-root", default=None, help="results folder (default: results/)")
    refresh = commands.add_parser("refresh", help="re-execute notebooks/ in place on their own parameters "
                                                  "(the stored outputs that nbval checks)")
    refresh.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="notebook prefixes, e.g. 01 02")
    validate = commands.add_parser("validate", help="validate a profile and print it")
    validate.add_argument("--profile", required=True)
    commands.add_parser("profiles", help="list the available profiles")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "profiles":
            print("\n".join(available_profiles()))
            return 0
        if args.command == "validate":
            profile = load_profile(args.profile)
            print(profile.model_dump_json(indent=2))
            return 0
        from diamlib.runner import NotebookFailure, run_notebooks

        if args.command == "refresh":
            from diamlib.stored_outputs import refresh_stored_outputs

            try:
                refreshed = refresh_stored_outputs(args.only)
            except NotebookFailure as failure:
                print(f"error: {failure}", file=sys.stderr)
                return 1
            print(f"re-executed {len(refreshed)} notebook(s) in place")
            return 0
        try:
            executed = run_notebooks(args.profile, only=args.only, results_root=args.results_root)
        except NotebookFailure as failure:
            print(f"error: {failure}", file=sys.stderr)
            return 1
        folder = executed[0].parent if executed else None
        print(f"executed {len(executed)} notebook(s) into {folder}")
        if folder is not None:
            print(f"figures: {folder / 'figures'}\ntables:  {folder / 'tables'}")
        return 0
    except ConfigError as exc:
        print(f"error: invalid profile: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
