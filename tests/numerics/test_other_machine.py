"""Plays another machine: on a CPU with AVX-512, ATen's AVX2 and AVX-512 kernels stand for two processors.

Native mode gives each its own canary digest; portable mode gives one digest under both,
overriding the environment's choice with one line that says so.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diamlib.doctor import cpu_summary

DIGEST = "import diamlib.numerics as n; n.initialise(); print(n.cpu_capability(), n.canary_digest())"


def canary_in_fresh_process(**env: str) -> tuple[str, str, str]:
    """(ATen capability, canary digest, stderr) of a new interpreter with ``env`` added."""
    environ = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                                   "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")}
    done = subprocess.run([sys.executable, "-c", DIGEST], env={**environ, **env}, capture_output=True, text=True,
                          timeout=300, check=True)
    capability, digest = done.stdout.split()
    return capability, digest, done.stderr


@pytest.mark.skipif("avx512f" not in cpu_summary(), reason="this CPU has no AVX-512: there is no second set of "
                                                           "kernels to play another machine with")
def test_native_digests_differ_between_avx2_and_avx512_and_portable_gives_one():
    native_avx2 = canary_in_fresh_process(DIAMLIB_NUMERICS="native", ATEN_CPU_CAPABILITY="avx2")
    native_avx512 = canary_in_fresh_process(DIAMLIB_NUMERICS="native", ATEN_CPU_CAPABILITY="avx512")
    assert (native_avx2[0], native_avx512[0]) == ("AVX2", "AVX512")
    assert native_avx2[1] != native_avx512[1], "the two kernel sets gave one digest: the canary cannot tell them apart"

    portable_avx2 = canary_in_fresh_process(DIAMLIB_NUMERICS="portable", ATEN_CPU_CAPABILITY="avx2")
    portable_avx512 = canary_in_fresh_process(DIAMLIB_NUMERICS="portable", ATEN_CPU_CAPABILITY="avx512")
    assert portable_avx2[:2] == portable_avx512[:2] and portable_avx2[0] == "AVX2"
    assert "replace ATEN_CPU_CAPABILITY=avx512 from the environment by avx2" in portable_avx512[2]
    assert portable_avx2[2] == ""
