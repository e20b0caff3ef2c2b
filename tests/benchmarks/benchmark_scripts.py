"""Loads a script of ``benchmarks/`` as a module, so that the tests run it at a reduced size."""
from __future__ import annotations

import importlib
import sys

from diamlib.paths import project_root

BENCHMARKS = str(project_root() / "benchmarks")


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py``, imported by name (so processes it spawns can import it too)."""
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)
    return importlib.import_module(name)
