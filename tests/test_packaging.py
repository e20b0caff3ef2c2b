"""diamlib as a package: the wheel and the sdist, the core install without PyTorch, the extras.

The wheel is built once per session (``python -m build --no-isolation``: the build backend of
this environment, no download) from a copy of the sources. Two virtual environments get it:

- the core: a fresh venv with the wheel and its core dependencies only (pip fetches them, or
  takes them from its cache, at the lock's versions). PyTorch must not be importable there, and
  ``python -m diamlib select`` must return the batch of the full environment for every strategy
  on the evidence files of the README's scikit-learn example;
- the extras: a venv that reads this environment's packages (a ``.pth`` line) and gets the wheel
  without dependencies: the installed console script runs ``validate`` on the smoke profile.
  (Installing ``diamlib[suite]`` from the package registry downloads PyTorch: measured by hand,
  see the README's install section.)
"""
from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import tomllib
import venv
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import diamlib
from diamlib.extras import EXTRA_OF_MODULE
from diamlib.strategies.registry import STRATEGIES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "CITATION.cff", "CHANGELOG.md", "diamlib", "params")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Packages of the full environment that the core install must not bring.
NOT_CORE = ("torch", "torchvision", "ofa", "cvxpy", "papermill", "dask", "distributed", "matplotlib", "nbformat")
BUDGET = 20


def _run(command: list, *, env: dict | None = None, cwd: Path | None = None, timeout: int = 900):
    done = subprocess.run([str(part) for part in command], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout}\n{done.stderr}"
    return done


def _clean_environment() -> dict[str, str]:
    """This process's environment without PYTHONPATH: a venv's python imports its own diamlib."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def _name(requirement: str) -> str:
    """The normalised project name of a requirement (or of a module named like its project)."""
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower().replace("_", "-").replace(".", "-")


# --------------------------------------------------------------------------- the distributions
@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> dict[str, Path]:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], cwd=source)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_the_wheel_and_the_sdist_pass_twine_check(dists):
    done = _run([sys.executable, "-m", "twine", "check", "--strict", dists["wheel"], dists["sdist"]])
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_declares_a_slim_core_the_extras_the_licence_and_the_command(dists):
    version = PYPROJECT["project"]["version"]
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = email.parser.Parser().parsestr(wheel.read(f"diamlib-{version}.dist-info/METADATA").decode())
        entry_points = wheel.read(f"diamlib-{version}.dist-info/entry_points.txt").decode()
    core = {_name(r) for r in metadata.get_all("Requires-Dist") if "extra ==" not in r}
    assert core == {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert core.isdisjoint(NOT_CORE)
    assert set(metadata.get_all("Provides-Extra")) == {"networks", "reference", "suite", "dev"}
    assert metadata["License-Expression"] == "MIT" and f"diamlib-{version}.dist-info/licenses/LICENSE" in names
    assert "diamlib/canary_reference.json" in names and "diamlib/extras.py" in names
    assert "diamlib = diamlib.__main__:main" in entry_points
    with tarfile.open(dists["sdist"]) as sdist:
        members = {Path(m).relative_to(f"diamlib-{version}").as_posix() for m in sdist.getnames() if "/" in m}
    assert {"pyproject.toml", "LICENSE", "README.md", "diamlib/__main__.py"} <= members


def test_the_suite_extra_holds_every_optional_package_and_the_versions_agree():
    extras = {name: {_name(r) for r in requirements}
              for name, requirements in PYPROJECT["project"]["optional-dependencies"].items()}
    assert extras["networks"] | extras["reference"] <= extras["suite"]
    for module, extra in EXTRA_OF_MODULE.items():  # what diamlib.extras tells a user to install brings it
        package = _name({"PIL": "pillow"}.get(module, module))
        assert package in extras[extra] and package in extras["suite"], (module, extra)
    version = PYPROJECT["project"]["version"]
    citation = (ROOT / "CITATION.cff").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert diamlib.__version__ == version and f"\nversion: {version}\n" in citation
    assert changelog.split("\n## ")[1].startswith(version), "the newest CHANGELOG entry is the version"


# --------------------------------------------------------------------------- evidence files of the README example
#: The README's scikit-learn example ("scikit-learn target models") on digits: evidence files of two models.
README_EXAMPLE = """
    import sys
    from pathlib import Path
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.naive_bayes import GaussianNB
    from diamlib.seeding import child_rng
    from diamlib.training.sklearn import learner_evidence
    from diamlib.userfiles.evidence_files import save_evidence_files

    x, y = load_digits(return_X_y=True)
    order = child_rng(0, "packaging-test").permutation(len(x))
    labeled, pool = order[:100], order[100:700]
    models = {"nb": GaussianNB(), "forest": RandomForestClassifier(n_estimators=50)}
    evidence = learner_evidence(models, x[labeled], y[labeled], x[pool], n_classes=10, seed=0)
    save_evidence_files(evidence, Path(sys.argv[1]))
    print("torch" in sys.modules)
"""


@pytest.fixture(scope="session")
def evidence_dirs(tmp_path_factory) -> dict[str, list[Path]]:
    """The README's scikit-learn example on digits (classification), and regressors on diabetes."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor

    from diamlib.evidence import Evidence
    from diamlib.training.sklearn import fit_sklearn_evidence
    from diamlib.userfiles.evidence_files import save_evidence_files
    from diamlib.zoo.sklearn_models import as_learner

    root = tmp_path_factory.mktemp("evidence")
    _run([sys.executable, "-c", textwrap.dedent(README_EXAMPLE), root / "classification"],
         env={**_clean_environment(), "PYTHONPATH": str(ROOT)}, cwd=root)
    classification = sorted((root / "classification").glob("*.npz"))

    x, y = load_diabetes(return_X_y=True)
    labeled, pool = np.arange(60), np.arange(60, 400)
    fits = [fit_sklearn_evidence(as_learner(model), x[labeled], y[labeled, None], x[pool], name=name,
                                 task="regression", n_outputs=1, random_state=position).evidence
            for position, (name, model) in enumerate({"ridge": Ridge(), "knn": KNeighborsRegressor()}.items())]
    evidence = Evidence(task="regression", unlabeled_indices=pool.astype(np.int64), models=tuple(fits),
                        feature_model=int(np.argmax([m.n_parameters for m in fits])))
    regression = save_evidence_files(evidence, root / "regression")
    return {"classification": list(classification), "regression": list(regression)}


SELECT_EVERY_STRATEGY = """
    import json, sys
    from pathlib import Path
    import diamlib
    from diamlib.__main__ import main
    jobs, out = json.loads(sys.argv[1]), Path(sys.argv[2])
    for strategy, files in jobs.items():
        code = main(["select", *files, "--budget", "{budget}", "--out", str(out / f"{{strategy}}.csv"),
                     "--strategy", strategy, "--seed", "0"])
        assert code == 0, strategy
    print(json.dumps({{"diamlib": diamlib.__file__, "torch": "torch" in sys.modules}}))
""".format(budget=BUDGET)


def _jobs(evidence_dirs) -> dict[str, list[str]]:
    """Every strategy ``select`` offers, on the files of its task (classification where it has both)."""
    return {name: [str(p) for p in evidence_dirs["classification" if "classification" in spec.tasks
                                                 else "regression"]]
            for name, spec in STRATEGIES.items()}


def _select_all(python: Path, jobs: dict, out: Path, env: dict) -> dict:
    out.mkdir()
    done = _run([python, "-c", textwrap.dedent(SELECT_EVERY_STRATEGY), json.dumps(jobs), out], env=env, cwd=out)
    return json.loads(done.stdout.splitlines()[-1])


# --------------------------------------------------------------------------- the core install
@pytest.fixture(scope="session")
def core_venv(dists, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its core dependencies only, at the lock's versions."""
    path = tmp_path_factory.mktemp("core") / "venv"
    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", ROOT / "requirements.lock",
          dists["wheel"]], env=_clean_environment(), cwd=path)
    return python


def test_the_core_install_has_no_pytorch_and_select_gives_the_full_installs_batch(core_venv, evidence_dirs,
                                                                                  tmp_path):
    probe = _run([core_venv, "-c", "import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None "
                  f"for m in {list(NOT_CORE)!r}}}))"], env=_clean_environment(), cwd=tmp_path)
    assert json.loads(probe.stdout) == {module: False for module in NOT_CORE}, "the core install brought extras"

    jobs = _jobs(evidence_dirs)
    core = _select_all(core_venv, jobs, tmp_path / "core", _clean_environment())
    full = _select_all(Path(sys.executable), jobs, tmp_path / "full", {**_clean_environment(), "PYTHONPATH": str(ROOT)})
    assert Path(core["diamlib"]).is_relative_to(core_venv.parents[1]) and not core["torch"]
    assert Path(full["diamlib"]).is_relative_to(ROOT)
    for strategy in jobs:
        core_batch = pd.read_csv(tmp_path / "core" / f"{strategy}.csv")
        full_batch = pd.read_csv(tmp_path / "full" / f"{strategy}.csv")
        assert len(core_batch) == BUDGET, strategy
        pd.testing.assert_frame_equal(core_batch[["rank", "pool_index", "pool_id"]],
                                      full_batch[["rank", "pool_index", "pool_id"]], obj=strategy)
        np.testing.assert_allclose(core_batch["score"], full_batch["score"], rtol=1e-5, atol=1e-9, err_msg=strategy)


def test_the_core_install_names_the_extra_a_solver_or_a_command_needs(core_venv, evidence_dirs, tmp_path):
    files = [str(p) for p in evidence_dirs["classification"]]
    done = subprocess.run([core_venv, "-m", "diamlib", "select", *files, "--budget", "5", "--out", tmp_path / "b.csv",
                           "--option", "solver=authors"], env=_clean_environment(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "error: the diam strategy with solver='authors' needs cvxpy, which is not installed: "
        "pip install 'diamlib[reference]'"]
    assert not (tmp_path / "b.csv").exists()
    done = subprocess.run([core_venv, "-m", "diamlib", "validate", "--profile", ROOT / "params" / "smoke.yaml"],
                          env=_clean_environment(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "which is not installed: pip install 'diamlib[" in done.stderr, done.stderr
    helped = _run([core_venv, "-m", "diamlib", "select", "--help"], env=_clean_environment(), cwd=tmp_path)
    assert all(f"  {name}" in helped.stdout for name in STRATEGIES)
    labels = _run([core_venv, "-c", "import diamlib.reporting.stats, diamlib.userfiles.labelling, "
                   "diamlib.userfiles.rounds, diamlib.selection.knn"], env=_clean_environment(), cwd=tmp_path)
    assert labels.returncode == 0


def test_the_core_install_runs_the_readme_scikit_learn_example_to_the_same_evidence(core_venv, evidence_dirs,
                                                                                      tmp_path):
    done = _run([core_venv, "-c", textwrap.dedent(README_EXAMPLE), tmp_path / "evidence"], env=_clean_environment(),
                cwd=tmp_path)
    assert done.stdout.split() == ["False"], "the scikit-learn target models loaded PyTorch"
    for full in evidence_dirs["classification"]:
        with np.load(full) as expected, np.load(tmp_path / "evidence" / full.name) as core:
            assert sorted(core.files) == sorted(expected.files)
            for name in expected.files:
                np.testing.assert_array_equal(core[name], expected[name], err_msg=f"{full.name}: {name}")


# --------------------------------------------------------------------------- the extras' entry points
def test_the_installed_wheel_runs_the_suite_command_with_the_extras_present(dists, tmp_path):
    path = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (purelib / "_full_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # torch, dask, ...
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
          dists["wheel"]], env=_clean_environment())
    done = _run([path / "bin" / "diamlib", "validate", "--profile", "smoke"], env=_clean_environment(), cwd=tmp_path)
    assert done.stdout.startswith("profile smoke:"), "the wheel's own profiles were not found"
    listed = _run([path / "bin" / "diamlib", "profiles"], env=_clean_environment(), cwd=tmp_path).stdout.split()
    assert {"smoke", "default"} <= set(listed)
    where = _run([python, "-c", "import diamlib, importlib.metadata as m; print(diamlib.__file__); "
                  "print(m.version('diamlib'))"], env=_clean_environment(), cwd=tmp_path).stdout.split()
    assert Path(where[0]).is_relative_to(purelib) and where[1] == PYPROJECT["project"]["version"]
