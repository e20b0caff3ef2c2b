"""Query strategies: pure functions of the per-round :class:`~diamlib.evidence.Evidence`.

Use :func:`make_selector` (or :data:`STRATEGIES`) to get one by name.

References
----------
Sec. 5.2-5.3 (DIAM, Algorithms 2-4) and Sec. 6.1, 6.6 (baselines) of the paper.
"""
from diamlib.strategies.options import OptionError
from diamlib.strategies.registry import (STRATEGIES, StrategySpec, get_strategy, make_selector, proposed_strategies,
                                         register, strategy_names)

__all__ = ["STRATEGIES", "OptionError", "StrategySpec", "get_strategy", "make_selector", "proposed_strategies",
           "register", "strategy_names"]
