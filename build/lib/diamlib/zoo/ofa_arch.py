"""The architecture of one subnet of the OFA MobileNetV3 supernet.

A subnet is fixed by the kernel size and expand ratio of each of the 20 elastic blocks
(5 stages x 4 blocks) and the depth of each stage; the supernet's width multiplier and the
input resolution complete it. The format (``ks``, ``e``, ``d``) is OFA's own.

References
----------
Sec. 6.1 of the paper (12 OFA MobileNetV3 target models); Cai et al., ICLR 2020 (OFA), Sec. 3.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "KERNEL_SIZES", "EXPAND_RATIOS", "DEPTHS", "N_STAGES", "BLOCKS_PER_STAGE", "N_BLOCKS",
    "SubnetArch", "random_arch",
]

KERNEL_SIZES = (3, 5, 7)
EXPAND_RATIOS = (3, 4, 6)
DEPTHS = (2, 3, 4)
N_STAGES = 5
BLOCKS_PER_STAGE = max(DEPTHS)
N_BLOCKS = N_STAGES * BLOCKS_PER_STAGE


def _check_choices(label: str, values: Sequence[int], length: int, allowed: tuple[int, ...]) -> tuple[int, ...]:
    values = tuple(int(v) for v in values)
    if len(values) != length:
        raise ValueError(f"{label} must have {length} entries (one per {'stage' if length == N_STAGES else 'block'}), got {len(values)}")
    bad = sorted({v for v in values if v not in allowed})
    if bad:
        raise ValueError(f"{label} contains {bad}; allowed values are {list(allowed)}")
    return values


@dataclass(frozen=True)
class SubnetArch:
    """Kernel sizes, expand ratios and stage depths of an OFA MobileNetV3 subnet.

    Parameters
    ----------
    ks : sequence of int, length 20
        Depthwise kernel size of each elastic block, in {3, 5, 7}.
    e : sequence of int, length 20
        Expand ratio of each elastic block, in {3, 4, 6}.
    d : sequence of int, length 5
        Number of active blocks of each stage, in {2, 3, 4}.

    Notes
    -----
    Entries of blocks that are not active (beyond a stage's depth) do not change the
    network; they are set to the smallest choice so that equal networks compare equal.

    References
    ----------
    Cai et al., ICLR 2020 (OFA), Sec. 3.1 (elastic depth, width and kernel size).
    """

    ks: tuple[int, ...]
    e: tuple[int, ...]
    d: tuple[int, ...]

    def __post_init__(self) -> None:
        d = _check_choices("d", self.d, N_STAGES, DEPTHS)
        ks = list(_check_choices("ks", self.ks, N_BLOCKS, KERNEL_SIZES))
        e = list(_check_choices("e", self.e, N_BLOCKS, EXPAND_RATIOS))
        for stage, depth in enumerate(d):
            for block in range(stage * BLOCKS_PER_STAGE + depth, (stage + 1) * BLOCKS_PER_STAGE):
                ks[block], e[block] = KERNEL_SIZES[0], EXPAND_RATIOS[0]
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "ks", tuple(ks))
        object.__setattr__(self, "e", tuple(e))

    @classmethod
    def uniform(cls, ks: int, e: int, d: int) -> "SubnetArch":
        """The subnet with the same kernel size, expand ratio and depth everywhere."""
        return cls(ks=(ks,) * N_BLOCKS, e=(e,) * N_BLOCKS, d=(d,) * N_STAGES)

    @classmethod
    def from_dict(cls, arch: dict) -> "SubnetArch":
        """From OFA's format ``{"ks": [...20], "e": [...20], "d": [...5]}``."""
        missing = {"ks", "e", "d"} - set(arch)
        if missing:
            raise ValueError(f"subnet architecture is missing {sorted(missing)}; give ks (20), e (20) and d (5)")
        return cls(ks=tuple(arch["ks"]), e=tuple(arch["e"]), d=tuple(arch["d"]))

    def to_dict(self) -> dict[str, list[int]]:
        """OFA's format, as accepted by ``OFAMobileNetV3.set_active_subnet(**arch)``."""
        return {"ks": list(self.ks), "e": list(self.e), "d": list(self.d)}

    def active_blocks(self) -> list[int]:
        """Indices (0..19) of the elastic blocks that are part of the network."""
        return [s * BLOCKS_PER_STAGE + b for s, depth in enumerate(self.d) for b in range(depth)]

    def summary(self) -> str:
        """Compact text: one group per stage, one ``kernel/expand`` pair per active block.

        Example: ``d23222 | 3/4 5/4 | 7/6 5/3 3/4 | ...``.
        """
        stages = []
        for s, depth in enumerate(self.d):
            blocks = range(s * BLOCKS_PER_STAGE, s * BLOCKS_PER_STAGE + depth)
            stages.append(" ".join(f"{self.ks[b]}/{self.e[b]}" for b in blocks))
        return "d" + "".join(map(str, self.d)) + " | " + " | ".join(stages)


def random_arch(rng: np.random.Generator) -> SubnetArch:
    """A subnet drawn uniformly from the supernet's choices.

    References
    ----------
    Cai et al., ICLR 2020 (OFA), Sec. 3.2 (sampling subnets).
    """
    return SubnetArch(
        ks=tuple(rng.choice(KERNEL_SIZES, size=N_BLOCKS)),
        e=tuple(rng.choice(EXPAND_RATIOS, size=N_BLOCKS)),
        d=tuple(rng.choice(DEPTHS, size=N_STAGES)),
    )
