"""Where a result came from: package versions and the git commit, recorded in every run.json."""
from __future__ import annotations

import platform
import subprocess

from diamlib import __version__


def package_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"python": platform.python_version(), "diamlib": __version__}
    for name in ("torch", "torchvision", "ofa", "numpy", "scipy", "scikit-learn", "cvxpy", "pandas"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str | None:
    from diamlib.paths import project_root

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
