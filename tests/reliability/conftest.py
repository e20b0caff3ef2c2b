from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tiny_run import run


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """One complete, undamaged tiny run (shared; copy it before changing anything)."""
    out = tmp_path_factory.mktemp("reference") / "tiny"
    run(out)
    return out


@pytest.fixture
def run_copy(reference_run, tmp_path) -> Path:
    """A private copy of the reference run, to damage."""
    target = tmp_path / "tiny"
    shutil.copytree(reference_run, target)
    return target
