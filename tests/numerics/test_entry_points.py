"""Importing diamlib changes no environment variable; the entry points that compute choose the numerics.

Each check runs in a fresh process whose environment the test sets (this test session's own
environment was set by ``conftest.py``, an entry point itself).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from diamlib import numerics

ROOT = Path(__file__).resolve().parents[2]
KERNEL_VARIABLES = (numerics.NUMERICS_ENV, *numerics.PORTABLE_KERNELS)
#: A user's own settings, none of them portable mode's.
USER_VALUES = {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX",
               "MKL_ENABLE_INSTRUCTIONS": "AVX512", "MKL_CBWR": "AUTO", "DIAMLIB_NUMERICS": "portable"}


def _environment(**values: str) -> dict[str, str]:
    """This process's environment without any kernel variable, plus ``values``."""
    env = {name: value for name, value in os.environ.items() if name not in KERNEL_VARIABLES}
    return {**env, "PYTHONPATH": str(ROOT), **values}


def _python(code: str, env: dict[str, str], cwd: Path = ROOT) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


IMPORT_EVERYTHING_LIGHT = """
    import json, os
    names = {names!r}
    before = {{name: os.environ.get(name) for name in names}}
    import diamlib
    import diamlib.reporting.stats
    import diamlib.strategies, diamlib.selection, diamlib.userfiles.evidence_files, diamlib.userfiles.labelling
    import diamlib.numerics
    after = {{name: os.environ.get(name) for name in names}}
    print(json.dumps([before, after]))
"""


@pytest.mark.parametrize("values", [{}, USER_VALUES], ids=["unset", "the user's own"])
def test_importing_diamlib_changes_no_kernel_variable(values):
    code = IMPORT_EVERYTHING_LIGHT.format(names=KERNEL_VARIABLES)
    before, after = json.loads(_python(code, _environment(**values)))
    assert before == {name: values.get(name) for name in KERNEL_VARIABLES}
    assert after == before


def test_importing_the_experiment_changes_no_kernel_variable_until_it_computes():
    code = """
        import json, os
        import diamlib.experiment.grid, diamlib.experiment.loop, diamlib.runner
        print(json.dumps(os.environ.get("ATEN_CPU_CAPABILITY")))
        from diamlib import numerics
        numerics.require_numerics("portable")  # what configure_torch does before a grid's first run
        print(json.dumps(os.environ.get("ATEN_CPU_CAPABILITY")))
    """
    lines = _python(code, _environment()).split()
    assert json.loads(lines[0]) is None
    assert json.loads(lines[1]) == ("avx2" if numerics.is_x86_64() else None)


def test_the_command_line_chooses_portable_numerics_before_it_runs_a_command():
    code = """
        import json, os
        from diamlib.__main__ import main
        assert main(["profiles"]) == 0
        print(json.dumps({name: os.environ.get(name) for name in %r}))
    """ % (KERNEL_VARIABLES,)
    chosen = json.loads(_python(code, _environment()).splitlines()[-1])
    assert chosen[numerics.NUMERICS_ENV] == "portable"
    if numerics.is_x86_64():
        assert {name: chosen[name] for name in numerics.PORTABLE_KERNELS} == numerics.PORTABLE_KERNELS


def test_this_test_session_and_the_notebook_kernels_it_starts_compute_in_portable_mode():
    # conftest.py chose portable mode: nbval's kernels and every subprocess inherit this environment
    assert os.environ[numerics.NUMERICS_ENV] == "portable" and numerics.current_mode() == "portable"
    if numerics.is_x86_64():
        assert {name: os.environ[name] for name in numerics.PORTABLE_KERNELS} == numerics.PORTABLE_KERNELS


GRID_WITH_TWO_WORKERS = """
    import json, os, sys
    from pathlib import Path
    from torch import nn
    from diamlib.experiment.grid import run_task
    from diamlib.experiment.setup import profile_from_dict
    from diamlib.zoo import custom_zoo, wrap_module

    def cnn(width):
        return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    zoo = custom_zoo({"cnn-4": lambda n_out: wrap_module("cnn-4", cnn(4), 4, n_out)}, resolution=8)
    profile = profile_from_dict({
        "name": "workers", "seeds": [0], "threads": 1, "progress": False, "execution": {"workers": 2},
        "classification": {"datasets": ["digits"], "train_size": 120, "test_size": 40, "zoo": "smoke3",
                           "initial_labels": 20, "query_size": 10, "rounds": 1, "strategies": ["random", "diam"],
                           "training": {"epochs": 2, "batch_size": 10, "lr": 0.05}}})
    folders = run_task(profile, "classification", Path(sys.argv[1]), zoo=zoo)
    records = [json.loads((Path(folder) / "run.json").read_text())["numerics"] for folder in folders]
    print(json.dumps(records))
"""


def test_dask_workers_of_a_process_that_never_chose_a_mode_compute_in_the_profiles(tmp_path):
    # a notebook kernel started without the runner: no kernel variable in its environment
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(GRID_WITH_TWO_WORKERS), str(tmp_path)],
                          env=_environment(), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout.splitlines()[-1])
    assert len(records) == 2
    for record in records:
        assert record["mode"] == "portable"
        if numerics.is_x86_64():
            assert record["cpu_capability"] == numerics.PORTABLE_CAPABILITY and record["aten_cpu_capability"] == "avx2"
