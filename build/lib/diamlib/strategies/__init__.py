"""Query strategies: pure functions of the per-round :class:`~diamlib.evidence.Evidence`.

Run one by name with :func:`run_strategy` (which checks the call once), or bind its options
first with :func:`make_selector`; :data:`STRATEGIES` describes each.

References
----------
Sec. 5.2-5.3 (DIAM, Algorithms 2-4) and Sec. 6.1, 6.6 (baselines) of the paper.
"""
from diamlib.strategies.options import OptionError
from diamlib.strategies.registry import (STRATEGIES, StrategySpec, get_strategy, proposed_strategies, register,
                                         strategy_names)
from diamlib.strategies.run import make_selector, run_strategy

__all__ = ["STRATEGIES", "OptionError", "StrategySpec", "get_strategy", "make_selector", "proposed_strategies",
           "register", "run_strategy", "strategy_names"]
