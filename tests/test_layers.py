"""The layers of diamlib hold: import-linter's contracts (pyproject.toml, ``[tool.importlinter]``) are all kept.

The contracts say that imports run only downward (the command line on top, the evidence at the
bottom), that data, zoo and training know no profile, that the profile schema imports no
registry, that reports and user files never import the experiment, and that no package has an
import cycle.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from diamlib.paths import project_root


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.is_file(), f"{lint_imports} is missing: install the dev extra (import-linter)"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=project_root(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
