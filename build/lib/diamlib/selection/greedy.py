"""The one loop of greedy batch selection: ``prepare / get_scores / get_next_idx / add``.

A greedy selector builds a batch one point at a time: each step scores the candidates given
the points chosen so far, picks one, and conditions its running state on it. k-center
(Coreset), k-means++ seeding (BADGE) and BAIT's forward and backward passes differ only in
those steps, so each is a small :class:`GreedySelector` object that lives for one batch, and
:func:`greedy_select` is the loop they share (the design of BM-DAL's selection methods). DIAM's
greedy construction of Eq. 9 (:mod:`diamlib.selection.greedy_swap`) runs in the same loop.

References
----------
Coreset [53], BADGE [3] and BAIT [2] as used in Sec. 6.1 and Sec. 6.6 of the paper; Eq. 9 (DIAM).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["GreedySelector", "greedy_select"]


class GreedySelector(Protocol):
    """The steps of one greedy batch; an instance serves one batch only.

    Methods
    -------
    prepare()
        Build the running state (distances to the initial centers, posterior quantities).
    get_scores()
        Scores of every candidate given the picks so far (the selector's own scale).
    get_next_idx()
        The next pick, or None when no candidate is left worth picking; usually a function
        of :meth:`get_scores`.
    add(idx)
        Condition the running state on the pick ``idx``.
    """

    def prepare(self) -> None: ...

    def get_scores(self) -> np.ndarray: ...

    def get_next_idx(self) -> int | None: ...

    def add(self, idx: int) -> None: ...


def greedy_select(selector: GreedySelector, n_steps: int) -> list[int]:
    """Run up to ``n_steps`` greedy steps of ``selector``.

    Parameters
    ----------
    selector : GreedySelector
        A fresh selector (its :meth:`~GreedySelector.prepare` is called here).
    n_steps : int
        Number of picks wanted, ``>= 0``.

    Returns
    -------
    list of int
        The picks in order; shorter than ``n_steps`` when the selector had nothing left to
        pick (its ``get_next_idx`` returned None).
    """
    selector.prepare()
    picks: list[int] = []
    while len(picks) < n_steps:
        idx = selector.get_next_idx()
        if idx is None:
            break
        selector.add(idx)
        picks.append(idx)
    return picks
