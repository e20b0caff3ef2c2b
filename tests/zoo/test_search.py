"""Subnet architectures and the seeded search that reconstructs the paper's models."""
import numpy as np
import pytest

from diamlib.zoo.ofa_arch import SubnetArch, random_arch
from diamlib.zoo.ofa_build import subnet_net_config
from diamlib.zoo.ofa_counts import net_config_complexity
from diamlib.zoo.paper12_archs import PAPER12_ARCHS
from diamlib.zoo.published import PublishedNet
from diamlib.zoo.search import SearchResult, match_error, mutate, render_archs_module, search_subnet


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


def test_search_is_deterministic_and_finds_a_reachable_target():
    hidden = random_arch(np.random.default_rng(7))
    size = net_config_complexity(subnet_net_config(hidden, 1.0), 176, 1000)
    target = PublishedNet("hidden", 0.0, 0.0, size.params / 1e6, size.macs / 1e6)
    options = dict(widths=(1.0,), resolutions=(160, 176, 192), population=12, parents=4, generations=6)
    first = search_subnet(target, rng=np.random.default_rng(0), **options)
    second = search_subnet(target, rng=np.random.default_rng(0), **options)
    assert first == second and isinstance(first, SearchResult)
    assert first.error == pytest.approx(match_error(first.complexity, target))
    assert first.error < 0.05


def test_mutation_keeps_valid_architectures_and_rate_zero_is_identity():
    rng = np.random.default_rng(1)
    arch = random_arch(rng)
    assert mutate(arch, rng, 0.0) == arch
    assert mutate(arch, rng, 1.0) != arch


def test_rendered_module_reproduces_the_found_configurations():
    arch = SubnetArch.uniform(5, 4, 3)
    result = SearchResult("net@1", arch, 1.2, 200, net_config_complexity(subnet_net_config(arch, 1.2), 200, 1000), 0.0)
    namespace = {}
    exec(render_archs_module([result], seed=0), namespace)
    assert namespace["PAPER12_ARCHS"] == {"net@1": {**arch.to_dict(), "width_mult": 1.2, "resolution": 200}}
