"""What the reliability tests compare: files on disk, and a run killed in a subprocess."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_killed(out: Path, kill: str) -> subprocess.CompletedProcess:
    """Run the tiny run in a subprocess that SIGKILLs itself at ``kill`` (POINT:N)."""
    return subprocess.run([sys.executable, str(HERE / "tiny_run.py"), str(out), "--kill", kill],
                          capture_output=True, text=True, timeout=300)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def results_of(folder: Path) -> dict[str, bytes]:
    """The result tables of every run under ``folder`` (what must be identical after any accident)."""
    return {name: data for name, data in snapshot(folder).items()
            if name.endswith(("curve.csv", "queries.csv"))}
