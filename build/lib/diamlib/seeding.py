"""One master seed, child generators per purpose, derived with ``np.random.SeedSequence``.

Every function in diamlib that draws random numbers takes a ``numpy.random.Generator``;
nothing uses the global numpy or torch generators.
"""
from __future__ import annotations

import hashlib

import numpy as np


def _purpose_key(purpose: str) -> int:
    """Stable 32-bit integer for a purpose string (independent of PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:4], "little")


def child_seed_sequence(seed: int, purpose: str, *numbers: int) -> np.random.SeedSequence:
    """Seed sequence for ``(seed, purpose, *numbers)``, e.g. ``(0, "train", round, model)``."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence([int(seed), _purpose_key(purpose), *map(int, numbers)])


def child_rng(seed: int, purpose: str, *numbers: int) -> np.random.Generator:
    """A fresh ``Generator`` for ``(seed, purpose, *numbers)``."""
    return np.random.default_rng(child_seed_sequence(seed, purpose, *numbers))


def child_int_seed(seed: int, purpose: str, *numbers: int) -> int:
    """A 63-bit integer seed (for torch.manual_seed) for ``(seed, purpose, *numbers)``."""
    state = child_seed_sequence(seed, purpose, *numbers).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))
