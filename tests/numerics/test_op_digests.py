"""Kernel by kernel: this machine's digests in portable mode against the reference processor's table.

The table is stored beside the canary (``diamlib/canary_reference.json``, written by ``doctor
--update-canary``). On the reference's kind of processor every kernel must match; elsewhere the
test names the kernels that differ and is skipped unless strict reproduction is asked for.
"""
from __future__ import annotations

import pytest

from diamlib import doctor, numerics


def test_every_kernel_has_the_reference_processors_digest():
    if not numerics.portable_in_effect():
        pytest.skip(f"portable kernels need an x86-64 CPU with AVX2; this one runs {numerics.cpu_capability()}")
    reference = numerics.reference_canary()
    assert reference and reference.get("ops"), "no kernel table stored: `python -m diamlib doctor --update-canary`"
    rows = doctor.op_comparison()
    assert {name for name, _, _ in rows} == set(reference["ops"]), "the stored table names other kernels"
    differing = [f"{name} {here} != {recorded}" for name, here, recorded in rows if here != recorded]
    if differing and not doctor.must_reproduce(reference, doctor.processor_identity()):
        pytest.skip(f"{len(differing)} kernel(s) differ from the table recorded on "
                    f"{doctor.describe_processor(reference['processor'])}: " + "; ".join(differing))
    assert not differing, "; ".join(differing)


def test_the_kernel_digests_repeat_and_separate_the_kernels():
    first, second = numerics.op_digests(), numerics.op_digests()
    assert first == second
    assert len(set(first.values())) == len(first), "two kernels gave one digest: the inputs do not tell them apart"
