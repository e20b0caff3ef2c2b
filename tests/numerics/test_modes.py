"""Numerics modes: names, the environment of child processes, and a process that cannot switch."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diamlib import numerics
from diamlib.experiment.setup import load_profile
from diamlib.numerics import NumericsError


def test_unknown_mode_is_refused_naming_the_valid_ones():
    assert numerics.parse_mode(None) == "portable" and numerics.parse_mode(" Native ") == "native"
    with pytest.raises(NumericsError, match="'fast' is not a numerics mode; use one of portable, native"):
        numerics.parse_mode("fast")


def test_child_environment_sets_the_mode_for_started_processes_and_restores_it():
    before = {name: os.environ.get(name) for name in (numerics.NUMERICS_ENV, *numerics.PORTABLE_KERNELS)}
    with numerics.child_environment("native"):
        assert os.environ[numerics.NUMERICS_ENV] == "native"
        assert "ATEN_CPU_CAPABILITY" not in os.environ  # this test session set none before portable mode
        child = subprocess.run([sys.executable, "-c", "import diamlib.numerics as n; print(n.current_mode(), "
                                "n.cpu_capability())"], capture_output=True, text=True, check=True)
    assert child.stdout.split()[0] == "native" and child.stdout.split()[1] != ""
    assert {name: os.environ.get(name) for name in before} == before


def test_a_process_that_loaded_torch_cannot_switch_and_says_how_to_restart():
    import torch  # noqa: F401  (loaded, as in any test of the suite)

    with pytest.raises(NumericsError, match=r"asks for numerics: native(.|\n)*DIAMLIB_NUMERICS=native"):
        numerics.require_numerics("native")
    numerics.require_numerics("portable")  # the mode it has: nothing to do


def test_profiles_declare_their_mode_and_the_committed_records_are_portable():
    assert load_profile("smoke").numerics == "portable" and load_profile("default").numerics == "portable"
    assert load_profile("smoke", {"numerics": "native"}).numerics == "native"


def test_native_mode_says_so_when_it_runs():
    done = subprocess.run([sys.executable, "-c", "import diamlib.numerics as n; n.require_numerics('native')"],
                          env={**os.environ, numerics.NUMERICS_ENV: "native"}, capture_output=True, text=True,
                          check=True)
    assert "native numerics: PyTorch uses this CPU's" in done.stderr


def test_the_record_names_the_mode_the_kernels_and_the_threads():
    record = numerics.numerics_record()
    assert record["mode"] == "portable" and record["portable_in_effect"] is (record["cpu_capability"] == "AVX2")
    assert {"aten_cpu_capability", "onednn_max_cpu_isa", "mkl_enable_instructions", "torch_threads"} <= set(record)
