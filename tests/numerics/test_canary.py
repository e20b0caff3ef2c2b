"""The canary: a tiny network trained in portable mode has the stored weights' digest.

It runs first in the suite (see the root ``conftest.py``). A machine whose CPU kernels or
package versions give other numbers fails here, with the likely cause, before the notebooks.
"""
from __future__ import annotations

import pytest

from diamlib import numerics
from diamlib.doctor import canary_check


def test_the_canary_matches_the_stored_reference():
    if not numerics.portable_in_effect():
        pytest.skip(f"portable kernels need an x86-64 CPU with AVX2; this one runs {numerics.cpu_capability()} "
                    f"kernels, so its numbers are its own (nbval does not compare the trained models' outputs)")
    check = canary_check()
    assert check.reference is not None, check.message()
    assert check.ok, check.message()


def test_a_mismatch_names_the_kernels_and_the_versions_off_the_lock(monkeypatch):
    monkeypatch.setattr(numerics, "reference_canary", lambda: {"digest": "0" * 64, "torch": "2.14.1"})
    monkeypatch.setattr(numerics, "portable_in_effect", lambda: False)
    lock = {"torch": "1.0.0", "numpy": "1.0.0", "pandas": "0.1"}
    check = canary_check(lock)
    assert not check.ok
    message = check.message()
    assert "CPU kernels" in message and "portable" in message
    assert "versions off the lock: numpy:" in message and "torch:" in message and "lock 1.0.0" in message


def test_a_mismatch_with_matching_kernels_and_versions_says_no_cause_was_found(monkeypatch):
    monkeypatch.setattr(numerics, "reference_canary", lambda: {"digest": "0" * 64, "torch": "2.14.1"})
    monkeypatch.setattr(numerics, "portable_in_effect", lambda: True)
    check = canary_check(lock={})
    assert not check.ok and "none found" in check.message()


def test_the_canary_repeats_in_one_process():
    assert numerics.canary_digest(steps=4) == numerics.canary_digest(steps=4)
