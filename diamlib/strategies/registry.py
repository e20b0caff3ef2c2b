"""The registry of query strategies: each strategy describes itself once, in its spec.

A :class:`StrategySpec` holds the function, the display name, family, task(s), the evidence
it reads, and the typed options model derived from the function's keyword-only signature
(:mod:`diamlib.strategies.options`). Profiles, the loop, the statistics, the figures and the
tests read names, order and options from :data:`STRATEGIES`, so adding a strategy is one
module and one entry here (and, for a colour of its own in the figures, one entry in
:data:`diamlib.reporting.styles.STRATEGY_COLOURS`).

Every registered function has the signature
``fn(evidence, *, budget, rng, **options) -> Selection``; callers run it through
:func:`diamlib.strategies.run.run_strategy`, which checks the call.

References
----------
Sec. 6.1 (classification strategies) and Sec. 6.6 (regression strategies) of the paper.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from diamlib.evidence import EVIDENCE_FIELDS, TASKS, Selection
from diamlib.strategies.badge import select_badge
from diamlib.strategies.bait import select_bait
from diamlib.strategies.coreset import select_coreset
from diamlib.strategies.disagreement import select_cal, select_diam, select_diam_nodiv
from diamlib.strategies.options import code_path_values, option_parameters, options_model, validate_options
from diamlib.strategies.random import select_random
from diamlib.strategies.regression import select_diam_leverage, select_diam_svd
from diamlib.strategies.uncertainty import select_entropy, select_least_confidence, select_margin

#: Kinds of strategy: the paper's grouping of the baselines (Sec. 6.1, 6.6) plus DIAM's.
FAMILIES = ("uncertainty", "disagreement", "diversity", "hybrid", "passive")
#: Per-model evidence a strategy may read: the array fields of :class:`~diamlib.evidence.ModelEvidence`.
EVIDENCE_KINDS = EVIDENCE_FIELDS

_CLASSIFICATION = frozenset({"classification"})
_REGRESSION = frozenset({"regression"})
_BOTH = frozenset(TASKS)
_FEATURES = frozenset({"pool_features", "labeled_features"})


@dataclass(frozen=True)
class StrategySpec:
    """A registered query strategy: everything the rest of the library needs to know about it.

    Attributes
    ----------
    name : str
        Name used in profiles and result folders.
    fn : callable
        ``fn(evidence, *, budget, rng, **options) -> Selection``.
    display_name : str
        Name in legends and tables.
    family : {"uncertainty", "disagreement", "diversity", "hybrid", "passive"}
    tasks : frozenset of str
        Tasks it applies to.
    evidence : frozenset of str
        :data:`EVIDENCE_KINDS` it reads (of every model, or of the feature model only for
        the single-model baselines); a training loop may compute only these.
    description : str
        One line for tables and logs.
    proposed : bool
        The paper's method (DIAM): the reference of win/tie/loss tables, drawn on top.
    code_path_options : tuple of dict
        Option values, beyond those :func:`~diamlib.strategies.options.code_path_values`
        reads from the signature (``Literal`` values, flags), that run another code path;
        the contract test runs each.
    authors_name : str, optional
        Method folder name in the authors' published results, if they ran it.
    reads_feature_model : bool
        A single-model strategy that reads the features of the evidence's feature model only
        (:meth:`diamlib.evidence.Evidence.feature_evidence`: a target model, or a frozen
        supernet with ``feature_model: supernet``), not those of every target model.
    options : tuple of str
        Names of the keyword options (derived from ``fn``; all have defaults).
    options_model : type of pydantic.BaseModel
        Typed, constrained options (derived from ``fn``'s signature).
    """

    name: str
    fn: Callable[..., Selection]
    display_name: str
    family: str
    tasks: frozenset[str]
    evidence: frozenset[str]
    description: str
    proposed: bool = False
    code_path_options: tuple[Mapping[str, Any], ...] = ()
    authors_name: str | None = None
    reads_feature_model: bool = False
    options: tuple[str, ...] = field(init=False)
    options_model: type[BaseModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"strategy {self.name!r}"
        if self.family not in FAMILIES:
            raise ValueError(f"{where}: family {self.family!r} is not one of {', '.join(FAMILIES)}")
        if not self.tasks or not set(self.tasks) <= set(TASKS):
            raise ValueError(f"{where}: tasks {sorted(self.tasks)} must be a non-empty subset of {TASKS}")
        if not set(self.evidence) <= set(EVIDENCE_KINDS):
            raise ValueError(f"{where}: evidence {sorted(set(self.evidence) - set(EVIDENCE_KINDS))} unknown; "
                             f"valid: {', '.join(EVIDENCE_KINDS)}")
        object.__setattr__(self, "options", tuple(p.name for p in option_parameters(self.fn)))
        object.__setattr__(self, "options_model", options_model(self.fn))
        for options in self.code_path_options:
            validate_options(self.name, self.options_model, options)

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate option values against :attr:`options_model`; see :func:`validate_options`."""
        return validate_options(self.name, self.options_model, options)

    def resolved_options(self, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``options`` with every other option at its default (:attr:`options_model`), as run.json and tables show them."""
        return self.options_model(**dict(options or {})).model_dump()

    def option_variants(self) -> list[dict[str, Any]]:
        """Every non-default option set that runs another code path (signature, then declared)."""
        variants = code_path_values(self.options_model) + [dict(o) for o in self.code_path_options]
        return [dict(v) for v in dict.fromkeys(tuple(sorted(v.items())) for v in variants)]


#: Every strategy, in the order of tables and legends (DIAM first).
STRATEGIES: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> StrategySpec:
    """Add a strategy to :data:`STRATEGIES` (after the others); its name must be new."""
    if spec.name in STRATEGIES:
        raise ValueError(f"a strategy named {spec.name!r} is already registered; choose another name")
    STRATEGIES[spec.name] = spec
    return spec


for _spec in (
    StrategySpec("diam", select_diam, "DIAM", "disagreement", _CLASSIFICATION,
                 frozenset({"snapshot_predictions", "pool_features"}),
                 "DIAM, Algorithm 2: joint disagreement plus per-model kNN diversity (Eq. 9-10)",
                 proposed=True, code_path_options=({"knn_approx_dim": 2},), authors_name="DIAM"),
    StrategySpec("diam-svd", select_diam_svd, "DIAM-svd", "disagreement", _REGRESSION, _FEATURES,
                 "DIAM-svd, Algorithm 3: per-model Eq. 12 spread, voted", proposed=True,
                 code_path_options=({"rcond": 0.1},)),
    StrategySpec("diam-leverage", select_diam_leverage, "DIAM-leverage", "disagreement", _REGRESSION, _FEATURES,
                 "DIAM-leverage, Algorithm 4: per-model leverage scores, voted", proposed=True,
                 code_path_options=({"rcond": 0.1},)),
    StrategySpec("diam-nodiv", select_diam_nodiv, "DIAM (no diversity)", "disagreement", _CLASSIFICATION,
                 frozenset({"snapshot_predictions"}),
                 "DIAM without diversity (the authors' conference version): rank by disagreeing models, ties by "
                 "summed per-model vote entropy, then tau at random from the top 5 tau"),
    StrategySpec("entropy", select_entropy, "Entropy", "uncertainty", _CLASSIFICATION, frozenset({"pool_probs"}),
                 "mean normalised prediction entropy over models", authors_name="entropy"),
    StrategySpec("margin", select_margin, "Margin", "uncertainty", _CLASSIFICATION, frozenset({"pool_probs"}),
                 "mean normalised top-two margin over models (smallest first)", authors_name="margin"),
    StrategySpec("least-confidence", select_least_confidence, "Least conf.", "uncertainty", _CLASSIFICATION,
                 frozenset({"pool_probs"}), "mean normalised 1 - top-class probability over models",
                 authors_name="least_conf"),
    StrategySpec("cal", select_cal, "CAL", "disagreement", _CLASSIFICATION, frozenset({"snapshot_predictions"}),
                 "random among points in any model's disagreement region", authors_name="CAL"),
    StrategySpec("random", select_random, "Random", "passive", _BOTH, frozenset(),
                 "uniform random sampling (passive learning)", authors_name="random"),
    StrategySpec("coreset", select_coreset, "Coreset", "diversity", _BOTH, _FEATURES,
                 "k-center greedy on the feature model's features", authors_name="coreset",
                 reads_feature_model=True),
    StrategySpec("badge", select_badge, "BADGE", "hybrid", _REGRESSION, _FEATURES,
                 "BADGE: k-means++ on posterior last-layer features (BM-DAL)", reads_feature_model=True),
    StrategySpec("bait", select_bait, "BAIT", "hybrid", _REGRESSION, _FEATURES,
                 "BAIT: forward-backward Fisher-information greedy (BM-DAL)",
                 code_path_options=({"overselection_factor": 1.0},), reads_feature_model=True),
):
    register(_spec)
del _spec


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
        In registration order (the order of tables and legends).
    """
    if task is None:
        return list(STRATEGIES)
    _check_task(task)
    return [name for name, spec in STRATEGIES.items() if task in spec.tasks]


def proposed_strategies(task: str) -> list[str]:
    """The paper's methods (DIAM) for ``task``, in registration order; the first is the default reference."""
    return [name for name in strategy_names(task) if STRATEGIES[name].proposed]


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
