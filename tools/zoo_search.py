"""Reconstruct the paper's 12 target models as subnets of the OFA MobileNetV3 supernet.

The exact configurations of the 12 OFA specialised nets are only distributed by the OFA
server. This module finds, for each published net, a subnet (kernel sizes, expand ratios,
depths, supernet width 1.0 or 1.2, input resolution) whose parameters and MACs at 1,000
classes match the published figures, with a deterministic evolutionary search scored by
the analytic counts of :mod:`diamlib.zoo.ofa_counts`.

Run ``python tools/zoo_search.py --write`` to regenerate ``diamlib/zoo/paper12_archs.py``; diamlib
imports nothing from here (a tool of the project, not part of the library).

References
----------
Sec. 6.1 of the paper (the 12 target models); Cai et al., ICLR 2020 (OFA), Sec. 3.3
(evolutionary search over subnets).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

import diamlib.zoo.paper12_archs
from diamlib.seeding import child_rng
from diamlib.zoo.ofa_arch import DEPTHS, EXPAND_RATIOS, KERNEL_SIZES, SubnetArch, random_arch
from diamlib.zoo.ofa_build import subnet_net_config
from diamlib.zoo.ofa_counts import Complexity, net_config_complexity
from diamlib.zoo.published import PAPER12_PUBLISHED, PublishedNet

__all__ = [
    "SearchResult", "relative_error", "match_error", "best_resolution", "mutate", "crossover",
    "search_subnet", "search_paper12", "render_archs_module",
]

SEARCH_WIDTHS = (1.0, 1.2)
SEARCH_RESOLUTIONS = tuple(range(160, 225, 4))
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class SearchResult:
    """The subnet found for one published net."""

    name: str
    arch: SubnetArch
    width_mult: float
    resolution: int
    complexity: Complexity
    error: float


def relative_error(value: float, target: float) -> float:
    """``value / target - 1``."""
    return float(value) / float(target) - 1.0


def match_error(complexity: Complexity, target: PublishedNet) -> float:
    """Largest relative error of parameters and MACs: max(|dP|/P*, |dM|/M*)."""
    return max(abs(relative_error(complexity.params, target.params)), abs(relative_error(complexity.macs, target.macs)))


def best_resolution(arch: SubnetArch, width_mult: float, target: PublishedNet,
                    resolutions: Sequence[int]) -> tuple[int, Complexity, float]:
    """The input resolution at which ``arch`` matches ``target`` best: (resolution, complexity, error)."""
    config = subnet_net_config(arch, width_mult)
    best = None
    for resolution in resolutions:
        complexity = net_config_complexity(config, resolution, IMAGENET_CLASSES)
        error = match_error(complexity, target)
        if best is None or error < best[2]:
            best = (resolution, complexity, error)
    return best


def mutate(arch: SubnetArch, rng: np.random.Generator, rate: float) -> SubnetArch:
    """Redraw each kernel size, expand ratio and depth with probability ``rate``.

    References
    ----------
    Cai et al., ICLR 2020 (OFA), Sec. 3.3 (mutation in the evolutionary search).
    """
    ks = [int(rng.choice(KERNEL_SIZES)) if rng.random() < rate else k for k in arch.ks]
    e = [int(rng.choice(EXPAND_RATIOS)) if rng.random() < rate else x for x in arch.e]
    d = [int(rng.choice(DEPTHS)) if rng.random() < rate else x for x in arch.d]
    return SubnetArch(ks=tuple(ks), e=tuple(e), d=tuple(d))


def crossover(first: SubnetArch, second: SubnetArch, rng: np.random.Generator) -> SubnetArch:
    """Each gene taken from either parent with probability 1/2."""
    pick = lambda a, b: tuple(x if rng.random() < 0.5 else y for x, y in zip(a, b))  # noqa: E731
    return SubnetArch(ks=pick(first.ks, second.ks), e=pick(first.e, second.e), d=pick(first.d, second.d))


def search_subnet(target: PublishedNet, *, rng: np.random.Generator, widths: Sequence[float] = SEARCH_WIDTHS,
                  resolutions: Sequence[int] = SEARCH_RESOLUTIONS, population: int = 48, parents: int = 12,
                  generations: int = 40, mutation_rate: float = 0.15, tolerance: float = 0.002) -> SearchResult:
    """Evolutionary search for the subnet whose parameters and MACs best match ``target``.

    Parameters
    ----------
    target : PublishedNet
    rng : numpy.random.Generator
        Draws the initial population, mutations and crossovers.
    widths : sequence of float
        Supernet width multipliers to search (one population each).
    resolutions : sequence of int
        Input resolutions; each candidate is scored at its best one.
    population, parents, generations, mutation_rate
        Size of each generation, number of survivors, number of generations, per-gene
        mutation probability.
    tolerance : float
        Stop early once the best error is at most this.

    Returns
    -------
    SearchResult
        The candidate with the smallest :func:`match_error` (ties: first found).

    References
    ----------
    Sec. 6.1 of the paper; Cai et al., ICLR 2020 (OFA), Sec. 3.3.
    """
    best: SearchResult | None = None
    for width in widths:
        pool = [random_arch(rng) for _ in range(population)]
        for _ in range(generations):
            scored = []
            for arch in pool:
                resolution, complexity, error = best_resolution(arch, width, target, resolutions)
                scored.append((error, len(scored), arch))
                if best is None or error < best.error:
                    best = SearchResult(target.name, arch, width, resolution, complexity, error)
            if best.error <= tolerance:
                return best
            scored.sort(key=lambda item: (item[0], item[1]))
            survivors = [arch for _, _, arch in scored[:parents]]
            children = []
            while len(children) < population - parents:
                i, j = rng.choice(parents, size=2, replace=False)
                children.append(mutate(crossover(survivors[i], survivors[j], rng), rng, mutation_rate))
            pool = survivors + children
    return best


def search_paper12(seed: int = 0, **options) -> list[SearchResult]:
    """Reconstruct all 12 target models (published order), one seeded search each.

    References
    ----------
    Sec. 6.1 of the paper.
    """
    return [search_subnet(target, rng=child_rng(seed, "paper12-search", index), **options)
            for index, target in enumerate(PAPER12_PUBLISHED)]


def render_archs_module(results: Sequence[SearchResult], seed: int) -> str:
    """Python source of ``paper12_archs.py`` holding the found configurations."""
    lines = [
        '"""The 12 target models reconstructed as OFA MobileNetV3 subnets (generated file).',
        "",
        f"Written by ``python tools/zoo_search.py --write --seed {seed}``; each entry holds",
        "OFA's subnet format (ks, e, d), the supernet width multiplier and the input resolution.",
        "",
        "References",
        "----------",
        "Sec. 6.1 of the paper (the 12 target models); Cai et al., ICLR 2020 (OFA).",
        '"""',
        "",
        "PAPER12_ARCHS = {",
    ]
    for r in results:
        lines += [
            f"    {r.name!r}: {{",
            f"        \"ks\": {list(r.arch.ks)},",
            f"        \"e\": {list(r.arch.e)},",
            f"        \"d\": {list(r.arch.d)},",
            f"        \"width_mult\": {r.width_mult},",
            f"        \"resolution\": {r.resolution},",
            "    },",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Reconstruct the paper's 12 OFA target models.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="overwrite diamlib/zoo/paper12_archs.py")
    args = parser.parse_args(argv)
    results = search_paper12(args.seed)
    for r in results:
        print(f"{r.name:40s} w{r.width_mult} r{r.resolution} params {r.complexity.params / 1e6:.3f}M "
              f"MACs {r.complexity.macs / 1e6:.1f}M error {r.error:.4f}  {r.arch.summary()}")
    if args.write:
        path = Path(diamlib.zoo.paper12_archs.__file__)
        path.write_text(render_archs_module(results, args.seed))
        print(f"wrote {path.name}")


if __name__ == "__main__":
    main()
