"""The registry of query strategies: names from a profile map to functions through one dict.

Every registered function has the signature
``fn(evidence, *, budget, rng, **options) -> Selection``.

References
----------
Sec. 6.1 (classification strategies) and Sec. 6.6 (regression strategies) of the paper.
"""
from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from diamlib.evidence import Selection
from diamlib.strategies.badge import select_badge
from diamlib.strategies.bait import select_bait
from diamlib.strategies.coreset import select_coreset
from diamlib.strategies.disagreement import select_cal, select_diam, select_diam_nodiv
from diamlib.strategies.random import select_random
from diamlib.strategies.regression import select_diam_leverage, select_diam_svd
from diamlib.strategies.uncertainty import select_entropy, select_least_confidence, select_margin

TASKS = ("classification", "regression")
_CLASSIFICATION = frozenset({"classification"})
_REGRESSION = frozenset({"regression"})
_BOTH = frozenset(TASKS)


@dataclass(frozen=True)
class StrategySpec:
    """A registered query strategy.

    Attributes
    ----------
    name : str
        Name used in profiles and result folders.
    fn : callable
        ``fn(evidence, *, budget, rng, **options) -> Selection``.
    tasks : frozenset of str
        Tasks it applies to.
    options : tuple of str
        Names of the keyword options it accepts (all have defaults).
    description : str
        One line for tables and logs.
    """

    name: str
    fn: Callable[..., Selection]
    tasks: frozenset[str]
    options: tuple[str, ...]
    description: str


def _spec(name: str, fn: Callable[..., Selection], tasks: frozenset[str], description: str) -> StrategySpec:
    """Spec whose options are the function's keyword-only parameters besides budget and rng."""
    options = tuple(
        p.name for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("budget", "rng")
    )
    return StrategySpec(name, fn, tasks, options, description)


STRATEGIES: dict[str, StrategySpec] = {
    spec.name: spec
    for spec in (
        _spec("random", select_random, _BOTH, "uniform random sampling (passive learning)"),
        _spec("entropy", select_entropy, _CLASSIFICATION, "mean normalised prediction entropy over models"),
        _spec("least-confidence", select_least_confidence, _CLASSIFICATION,
              "mean normalised 1 - top-class probability over models"),
        _spec("margin", select_margin, _CLASSIFICATION, "mean normalised top-two margin over models (smallest first)"),
        _spec("coreset", select_coreset, _BOTH, "k-center greedy on the feature model's features"),
        _spec("cal", select_cal, _CLASSIFICATION, "random among points in any model's disagreement region"),
        _spec("diam", select_diam, _CLASSIFICATION,
              "DIAM, Algorithm 2: joint disagreement plus per-model kNN diversity (Eq. 9-10)"),
        _spec("diam-nodiv", select_diam_nodiv, _CLASSIFICATION,
              "DIAM without diversity: number of disagreeing models, ties by vote entropy"),
        _spec("diam-svd", select_diam_svd, _REGRESSION, "DIAM-svd, Algorithm 3: per-model Eq. 12 spread, voted"),
        _spec("diam-leverage", select_diam_leverage, _REGRESSION,
              "DIAM-leverage, Algorithm 4: per-model leverage scores, voted"),
        _spec("badge", select_badge, _REGRESSION, "BADGE: k-means++ on posterior last-layer features (BM-DAL)"),
        _spec("bait", select_bait, _REGRESSION, "BAIT: forward-backward Fisher-information greedy (BM-DAL)"),
    )
}


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")


def strategy_names(task: str | None = None) -> list[str]:
    """Registered strategy names, optionally only those for one task.

    Parameters
    ----------
    task : {"classification", "regression"}, optional

    Returns
    -------
    list of str
        In registration order.
    """
    if task is None:
        return list(STRATEGIES)
    _check_task(task)
    return [name for name, spec in STRATEGIES.items() if task in spec.tasks]


def get_strategy(name: str, task: str | None = None) -> StrategySpec:
    """Look up a strategy by name.

    Parameters
    ----------
    name : str
    task : {"classification", "regression"}, optional
        If given, the strategy must apply to it.

    Returns
    -------
    StrategySpec

    Raises
    ------
    ValueError
        Unknown name (listing the valid ones, with a close match if there is one) or a
        strategy that does not apply to ``task``.
    """
    if task is not None:
        _check_task(task)
    spec = STRATEGIES.get(name)
    if spec is None:
        valid = strategy_names(task)
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        where = f" for {task}" if task else ""
        raise ValueError(f"unknown strategy {name!r}.{hint} Valid{where}: {', '.join(valid)}")
    if task is not None and task not in spec.tasks:
        raise ValueError(
            f"strategy {name!r} is for {', '.join(sorted(spec.tasks))} only, not {task}; "
            f"valid for {task}: {', '.join(strategy_names(task))}"
        )
    return spec


def make_selector(name: str, task: str, options: Mapping[str, Any] | None = None) -> Callable[..., Selection]:
    """A strategy with its options bound: ``selector(evidence, *, budget, rng) -> Selection``.

    Parameters
    ----------
    name : str
    task : {"classification", "regression"}
    options : mapping, optional
        Keyword options of the strategy (names checked against ``StrategySpec.options``).

    Returns
    -------
    functools.partial

    Raises
    ------
    ValueError
        Unknown strategy, wrong task, or unknown option name (listing the valid ones).
    """
    spec = get_strategy(name, task)
    options = dict(options or {})
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(spec.options) if spec.options else "none"
        raise ValueError(f"strategy {name!r} has no option(s) {', '.join(map(repr, unknown))}; valid options: {valid}")
    return functools.partial(spec.fn, **options)
