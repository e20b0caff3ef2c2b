"""Coreset: k-center greedy on the features of one designated model.

References
----------
Coreset [53] as used in Sec. 6.1 and Sec. 6.6 of the paper ("the distance is calculated
using the features extracted by the supernet").
"""
from __future__ import annotations

import numpy as np

from diamlib.evidence import Evidence, Selection
from diamlib.selection.kcenter import kcenter_greedy
from diamlib.strategies._common import (finish_selection, greedy_order_scores, model_features,
                                        search_dtype)


def select_coreset(evidence: Evidence, *, budget: int, rng: np.random.Generator) -> Selection:
    """Greedily query the pool point farthest from every labeled or already chosen point.

    Parameters
    ----------
    evidence : Evidence
        Uses ``pool_features`` and ``labeled_features`` of ``evidence.feature_evidence()`` (a frozen supernet's
        features with ``feature_model: supernet``, else the target model at ``evidence.feature_model``);
        the labeled features are the initial centers.
    budget : int
    rng : numpy.random.Generator
        Unused (k-center greedy is deterministic).

    Returns
    -------
    Selection
        ``scores`` = ``budget - order`` for the chosen points (``budget`` for the first
        pick) and 0 elsewhere: greedy selection has no per-point utility independent of
        the order. ``info["covering_radius"]`` = largest distance from a pool point to
        its nearest center after selection.

    References
    ----------
    Coreset baseline, Sec. 6.1 and 6.6 of the paper.
    """
    model = evidence.feature_evidence()
    pool, labeled = model_features(model)
    positions, radius = kcenter_greedy(search_dtype(model.pool_features, pool),
                                       search_dtype(model.labeled_features, labeled), budget)
    scores = greedy_order_scores(positions, evidence.n_pool, budget)
    return finish_selection(evidence, positions, budget=budget, rng=rng, scores=scores,
                            info={"feature_model": model.name, "covering_radius": float(radius)})
