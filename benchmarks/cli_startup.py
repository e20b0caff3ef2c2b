"""How long ``python -m diamlib select --help`` takes, and what it loads.

Runs the command ``--repeats`` times in fresh interpreters (from a neutral folder, with this
checkout on ``PYTHONPATH``) and prints the minimum and the median wall time, then which heavy
packages the help loads (none of PyTorch, papermill, Dask or matplotlib should be among them).

    python benchmarks/cli_startup.py --repeats 10
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "cvxpy", "papermill", "distributed", "matplotlib", "pandas")
LOADED = """
import contextlib, io, json, sys
from diamlib.__main__ import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["select", "--help"])
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds = []
    with tempfile.TemporaryDirectory() as neutral:
        for _ in range(args.repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "diamlib", "select", "--help"], env=env, cwd=neutral, check=True,
                           stdout=subprocess.DEVNULL)
            seconds.append(time.perf_counter() - start)
        loaded = subprocess.run([sys.executable, "-c", LOADED.format(heavy=HEAVY)], env=env, cwd=neutral, check=True,
                                capture_output=True, text=True).stdout
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"select --help: min {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s over {args.repeats} runs "
          f"({os.cpu_count()} cores, load average {load:.1f})")
    print(f"heavy packages loaded by the help: {', '.join(json.loads(loaded)) or 'none'}")


if __name__ == "__main__":
    main()
