"""Subnet architectures of the OFA supernet, and the stored reconstructions of the paper's 12 models."""
import pytest

from diamlib.zoo.ofa_arch import SubnetArch
from diamlib.zoo.paper12_archs import PAPER12_ARCHS


def test_inactive_blocks_do_not_distinguish_architectures():
    first = SubnetArch(ks=(7,) * 20, e=(6,) * 20, d=(2,) * 5)
    second = SubnetArch(ks=(7, 7, 5, 3) * 5, e=(6, 6, 4, 3) * 5, d=(2,) * 5)
    assert first == second and hash(first) == hash(second)
    assert first.active_blocks() == [0, 1, 4, 5, 8, 9, 12, 13, 16, 17]
    assert first.summary() == "d22222 | 7/6 7/6 | 7/6 7/6 | 7/6 7/6 | 7/6 7/6 | 7/6 7/6"


@pytest.mark.parametrize("arch, message", [
    ({"ks": [3] * 19, "e": [3] * 20, "d": [2] * 5}, "20 entries"),
    ({"ks": [4] * 20, "e": [3] * 20, "d": [2] * 5}, r"ks contains \[4\]"),
    ({"ks": [3] * 20, "e": [3] * 20, "d": [5] * 5}, r"d contains \[5\]"),
    ({"ks": [3] * 20, "e": [3] * 20}, "missing"),
])
def test_invalid_architectures_are_rejected(arch, message):
    with pytest.raises(ValueError, match=message):
        SubnetArch.from_dict(arch)


def test_stored_paper_architectures_are_valid_subnets():
    for name, stored in PAPER12_ARCHS.items():
        arch = SubnetArch.from_dict(stored)
        assert arch.to_dict() == {k: stored[k] for k in ("ks", "e", "d")}, name
        assert stored["width_mult"] in (1.0, 1.2) and 160 <= stored["resolution"] <= 224
