"""The canary: a tiny network trained in portable mode has the stored weights' digest.

It runs first in the suite (see the root ``conftest.py``). Where the digest differs, the test
says why (kernels, packages off the lock, another processor) and fails only where strict
reproduction is asked for (``DIAMLIB_STRICT_NUMERICS``; CI asks for ``reference-cpu``, strict on
the reference's kind of processor); elsewhere it is skipped with that message, and nbval leaves
the outputs of cells computed from trained models uncompared.
"""
from __future__ import annotations

import pytest

from diamlib import doctor, numerics
from diamlib.doctor import CanaryCheck, canary_check


def test_the_canary_matches_the_stored_reference():
    if not numerics.portable_in_effect():
        pytest.skip(f"portable kernels need an x86-64 CPU with AVX2; this one runs {numerics.cpu_capability()} "
                    f"kernels, so its numbers are its own (nbval does not compare the trained models' outputs)")
    check = canary_check()
    assert check.reference is not None, check.message()
    if not check.ok and not check.strict():
        pytest.skip(f"not asked for strict reproduction ({doctor.STRICT_ENV}={doctor.strict_request()}): "
                    f"{check.message()}")
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
    monkeypatch.setattr(numerics, "reference_canary", lambda: {"digest": "0" * 64, "torch": "2.14.1",
                                                               "processor": doctor.processor_identity()})
    monkeypatch.setattr(numerics, "portable_in_effect", lambda: True)
    check = canary_check(lock={})
    assert not check.ok and "none found" in check.message()


def test_a_mismatch_on_another_processor_names_both_and_the_digest_verified_there(monkeypatch):
    here = doctor.processor_identity()
    elsewhere = {**here, "vendor": "OtherVendor", "model": "Other CPU"}
    verified_here = {"digest": numerics.canary_digest(), "torch": "2.14.1", "processor": here}
    monkeypatch.setattr(numerics, "reference_canary", lambda: {"digest": "0" * 64, "torch": "2.14.1",
                                                               "processor": elsewhere,
                                                               "other_processors": [verified_here]})
    monkeypatch.setattr(numerics, "portable_in_effect", lambda: True)
    check = canary_check(lock={})
    assert not check.ok and check.same_as == verified_here and not check.reference_processor
    assert "equal to the canary verified on" in check.message() and here["model"] in check.message()
    monkeypatch.setattr(numerics, "reference_canary", lambda: {"digest": "0" * 64, "torch": "2.14.1",
                                                               "processor": elsewhere})
    check = canary_check(lock={})
    assert check.same_as is None and "another processor" in check.message() and "Other CPU" in check.message()


@pytest.mark.parametrize(("request_value", "same_processor", "fails"), [
    ("off", True, False), ("off", False, False), ("on", True, True), ("on", False, True),
    ("reference-cpu", True, True), ("reference-cpu", False, False)])
def test_strictness_decides_where_a_mismatch_fails(request_value, same_processor, fails):
    here = doctor.processor_identity()
    recorded = here if same_processor else {**here, "vendor": "OtherVendor"}
    check = CanaryCheck(ok=False, digest="1" * 64, reference={"digest": "0" * 64, "processor": recorded},
                        processor=here)
    assert check.strict(request_value) is fails


def test_an_unknown_strictness_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(doctor.STRICT_ENV, "maybe")
    with pytest.raises(ValueError, match="reference-cpu"):
        doctor.strict_request()
    monkeypatch.setenv(doctor.STRICT_ENV, "1")
    assert doctor.strict_request() == "on"


def test_the_canary_repeats_in_one_process():
    assert numerics.canary_digest(steps=4) == numerics.canary_digest(steps=4)
