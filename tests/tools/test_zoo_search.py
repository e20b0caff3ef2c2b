"""The seeded search of tools/zoo_search.py that reconstructed the paper's 12 models."""
import numpy as np
import pytest

from diamlib.zoo.ofa_arch import SubnetArch, random_arch
from diamlib.zoo.ofa_build import subnet_net_config
from diamlib.zoo.ofa_counts import net_config_complexity
from diamlib.zoo.published import PublishedNet
from zoo_search import SearchResult, match_error, mutate, render_archs_module, search_subnet  # tools/, see conftest


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
