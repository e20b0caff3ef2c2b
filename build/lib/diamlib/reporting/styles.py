"""How the strategies look in figures: one colour per strategy, the same in every figure.

A strategy's registry spec (:mod:`diamlib.strategies.registry`) says what it is; this style
says how it is drawn. :data:`STRATEGY_COLOURS` gives every registered strategy its colour;
methods outside it (variants such as ``diam-beta-0.1``, or a strategy registered without a
colour here) get one of :data:`EXTRA_COLOURS` (:func:`method_colours`).
"""
from __future__ import annotations

from typing import Sequence

#: Colour of each registered strategy, in every figure (``#rrggbb``).
STRATEGY_COLOURS = {
    "diam": "#d62728",
    "diam-svd": "#a50f15",
    "diam-leverage": "#e377c2",
    "diam-nodiv": "#ff9896",
    "entropy": "#1f77b4",
    "margin": "#2ca02c",
    "least-confidence": "#17becf",
    "cal": "#9467bd",
    "random": "#7f7f7f",
    "coreset": "#8c564b",
    "badge": "#bcbd22",
    "bait": "#ff7f0e",
}

#: Colours for methods outside the style (e.g. beta variants), handed out in sorted order.
EXTRA_COLOURS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1")


def palette() -> dict[str, str]:
    """Colour of every registered strategy that :data:`STRATEGY_COLOURS` names, in registry order."""
    from diamlib.strategies.registry import strategy_names

    return {name: STRATEGY_COLOURS[name] for name in strategy_names() if name in STRATEGY_COLOURS}


def method_colours(methods: Sequence[str]) -> dict[str, str]:
    """Colour of each method: :func:`palette`, then :data:`EXTRA_COLOURS` for the others."""
    colours = palette()
    unknown = sorted(m for m in set(methods) if m not in colours)
    extra = {m: EXTRA_COLOURS[i % len(EXTRA_COLOURS)] for i, m in enumerate(unknown)}
    return {m: colours.get(m, extra.get(m)) for m in methods}


#: Name of the constant predictor (the labeled mean) in regression tables and figures.
CONSTANT_PREDICTOR = "constant predictor"
