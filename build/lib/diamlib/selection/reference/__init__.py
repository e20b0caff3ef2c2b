"""DIAM's batch as the paper's Algorithm 2 and the authors' code compute it, kept for fidelity.

Modules
-------
authors     the recipe of the authors' public code (vote subsample, self-inclusive
            neighbours, eigenvalue clipping, dense QP)
relaxation  the convexified relaxation of Eq. 9 solved by accelerated projected gradient on
            the capped simplex (reference path through cvxpy), rounded to its top ``tau``

The ``diam`` strategy runs them with ``solver="authors"``, ``"fista"`` or ``"cvxpy"``; its
default, :mod:`diamlib.selection.greedy_swap`, reaches a lower Eq. 9 objective
(``benchmarks/selection_quality.py``).

References
----------
Eq. 9, Algorithm 2 and Sec. 5.2 of the paper; the authors' repository
github.com/tangypnuaa/DIAM, ``al_select.py``.
"""
