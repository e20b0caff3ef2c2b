"""Passive learning: query pool points uniformly at random.

References
----------
Sec. 6.1 of the paper ("Random ... is exactly the passive learning method") and Sec. 6.6.
"""
from __future__ import annotations

import numpy as np

from diamlib.evidence import Evidence, Selection
from diamlib.strategies._common import finish_selection


def select_random(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """Query ``budget`` pool points drawn uniformly without replacement.

    Parameters
    ----------
    evidence : Evidence
        Only ``unlabeled_indices`` is used.
    budget : int
        Number of points to query, ``1 <= budget <= n_pool``.
    rng : numpy.random.Generator

    Returns
    -------
    Selection
        ``scores`` is None (no utility).

    References
    ----------
    Sec. 6.1 and 6.6 of the paper (Random baseline).
    """
    positions = rng.choice(evidence.n_pool, size=budget, replace=False)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=None)
