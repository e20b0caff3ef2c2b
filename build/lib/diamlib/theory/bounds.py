"""The confidence radius ``sigma`` of the soft version spaces (RobustCAL-style).

References
----------
Algorithm 1, lines 11-13 of the paper (``sigma_i`` updated at powers of two "following the
procedures described in RobustCAL"); Hanneke, "Theory of active learning" (2014), Sec. 5.2.
"""
from __future__ import annotations

import math


def robust_sigma(
    n_examples: int,
    disagreement_mass: float,
    n_hypotheses: int,
    update_index: int,
    delta: float,
) -> float:
    """Bernstein bound on empirical excess errors, union-bounded over pairs and updates.

    For two hypotheses ``h, g`` of a soft version space ``V``, the per-example difference
    ``Z = 1[h(x) != y] - 1[g(x) != y]`` lies in ``[-1, 1]``, is non-zero only on
    ``DIS(V)`` and so has variance at most ``p = P(DIS(V))``. Bernstein's inequality with a
    union bound over the ``n^2`` ordered pairs and over updates ``j = 0, 1, ...`` (with
    ``delta_j = delta / ((j + 1)(j + 2))``, summing to ``delta``) gives, with probability at
    least ``1 - delta``, simultaneously for all pairs and all updates,

        |(er_m(h) - er_m(g)) - (err(h) - err(g))| <= sigma
        sigma = sqrt(2 p L / m) + 4 L / (3 m),   L = ln(n^2 (j + 1)(j + 2) / delta),

    where ``er_m`` is the empirical error over the first ``m`` stream examples. Removing every
    ``h`` with ``er_m(h) - min_g er_m(g) > sigma`` then never removes the best hypothesis of
    the class, and every survivor has excess error at most ``2 sigma``.

    Parameters
    ----------
    n_examples : int
        ``m``, the number of stream examples seen (labeled or not), ``m >= 1``.
    disagreement_mass : float
        ``P(DIS(V))`` in ``[0, 1]`` (exact in the toy problems, where ``D_X`` is known).
    n_hypotheses : int
        Size of the class the union bound runs over.
    update_index : int
        ``j`` for the update at ``m = 2^j``.
    delta : float
        Confidence parameter in ``(0, 1)``.

    Returns
    -------
    float

    References
    ----------
    Algorithm 1 (lines 11-13) of the paper; the soft version space of Sec. 5.
    """
    if n_examples < 1:
        raise ValueError(f"n_examples must be >= 1; got {n_examples}")
    if not 0.0 <= disagreement_mass <= 1.0 + 1e-12:
        raise ValueError(f"disagreement_mass must lie in [0, 1]; got {disagreement_mass}")
    if n_hypotheses < 1:
        raise ValueError(f"n_hypotheses must be >= 1; got {n_hypotheses}")
    if update_index < 0:
        raise ValueError(f"update_index must be >= 0; got {update_index}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1); got {delta}")
    log_term = math.log(max(n_hypotheses, 2) ** 2 * (update_index + 1) * (update_index + 2) / delta)
    m = float(n_examples)
    return math.sqrt(2.0 * disagreement_mass * log_term / m) + 4.0 * log_term / (3.0 * m)
