"""Running a registered strategy on evidence: the one place where a strategy call is checked.

:func:`run_strategy` is how every caller runs a strategy: the active-learning loop, the
``select`` command and :func:`~diamlib.userfiles.evidence_files.select_on_evidence`, and the
selectors of :func:`make_selector`. It checks the call once, at this boundary: the strategy's
options against its options model, the budget and the generator, that the strategy applies to
the evidence's task, and the per-model arrays the strategy reads (present, shaped, finite,
probabilities, class labels). It then hands the strategy only those arrays
(:func:`~diamlib.evidence.restrict_evidence`). The strategies, pure functions below it, trust
their input.

References
----------
Algorithm 2, line 10 of the paper (``tau`` = budget); Sec. 5.2 (soft version spaces,
penultimate-layer features) and Sec. 6.1, 6.6 (the baselines' inputs).
"""
from __future__ import annotations

import functools
from dataclasses import replace
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from diamlib.evidence import (EVIDENCE_FIELDS, HOW_TO_COMPUTE, Evidence, Selection, permute_pool,
                              restrict_evidence)
from diamlib.strategies.checks import check_model_arrays
from diamlib.strategies.registry import StrategySpec, get_strategy, strategy_names


def run_strategy(strategy: str | StrategySpec, evidence: Evidence, /, *, budget: int, rng: np.random.Generator,
                 **options: Any) -> Selection:
    """Check a call of a registered strategy, then run it on the arrays it reads.

    Parameters
    ----------
    strategy : str or StrategySpec
        A registered strategy (:data:`~diamlib.strategies.registry.STRATEGIES`), or its spec
        when the caller has looked it up already.
    evidence : Evidence
        The per-model arrays over the unlabeled pool.
    budget : int
        Number of points to query (``tau``), ``1 <= budget <= evidence.n_pool``.
    rng : numpy.random.Generator
        The strategy's only source of randomness.
    **options
        The strategy's keyword options, checked against its typed options model.

    Returns
    -------
    Selection
        ``indices`` are entries of ``evidence.unlabeled_indices``, most preferred first;
        ``scores`` (if any) in the order of the pool's rows.

    Notes
    -----
    The strategy sees the pool's rows in an order drawn from ``rng``
    (:func:`~diamlib.evidence.permute_pool`), so wherever it breaks ties by position (points
    that share the top vote, equal uncertainties, k-center's first centre) it breaks them at
    random from the run's seed: a pool file sorted by class, time or any column gives the same
    kind of batch as a shuffled one.

    Raises
    ------
    ValueError
        Unknown strategy (with a close match), an option that is unknown, of the wrong type or
        out of range (:class:`~diamlib.strategies.options.OptionError`), a budget out of
        range, evidence of another task, or an array the strategy reads that is missing or
        malformed (the message names the model and the array).
    TypeError
        ``evidence``, ``budget`` or ``rng`` of the wrong type.

    References
    ----------
    Algorithm 2, line 10 of the paper.
    """
    spec = strategy if isinstance(strategy, StrategySpec) else get_strategy(strategy)
    checked = spec.check_options(options)
    check_call(spec, evidence, budget, rng)
    check_evidence(spec, evidence)
    order = rng.permutation(evidence.n_pool)
    selection = spec.fn(permute_pool(restrict_evidence(evidence, spec.evidence), order), budget=int(budget), rng=rng,
                        **checked)
    if selection.scores is None:
        return selection
    scores = np.empty_like(np.asarray(selection.scores))
    scores[order] = selection.scores
    return replace(selection, scores=scores)


def make_selector(name: str, task: str, options: Mapping[str, Any] | None = None) -> Callable[..., Selection]:
    """A strategy with its options bound: ``selector(evidence, *, budget, rng) -> Selection``.

    Parameters
    ----------
    name : str
    task : {"classification", "regression"}
    options : mapping, optional
        Keyword options of the strategy, checked now against its options model (and by
        :func:`run_strategy` at each call).

    Returns
    -------
    functools.partial
        :func:`run_strategy` with the strategy and its checked options bound.

    Raises
    ------
    ValueError
        Unknown strategy or wrong task; :class:`~diamlib.strategies.options.OptionError`
        (a ``ValueError``) for an unknown option name, a wrong type or an out-of-range value.
    """
    spec = get_strategy(name, task)
    return functools.partial(run_strategy, spec.name, **spec.check_options(options or {}))


# --------------------------------------------------------------------------- the call
def check_call(spec: StrategySpec, evidence: Evidence, budget: int, rng: np.random.Generator) -> None:
    """Validate the arguments every strategy receives.

    Parameters
    ----------
    spec : StrategySpec
        The strategy called; ``evidence.task`` must be one of its tasks.
    evidence : Evidence
    budget : int
        Number of points to query; ``1 <= budget <= evidence.n_pool``.
    rng : numpy.random.Generator

    Raises
    ------
    TypeError
        ``evidence`` is not an ``Evidence``, ``budget`` is not an integer or ``rng`` is not
        a ``numpy.random.Generator``.
    ValueError
        ``budget`` out of range, malformed ``unlabeled_indices``, evidence of another task
        or no target model.

    References
    ----------
    Algorithm 2, line 10 of the paper (``tau`` = budget).
    """
    if not isinstance(evidence, Evidence):
        raise TypeError(f"evidence must be a diamlib.evidence.Evidence, got {type(evidence).__name__}")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise TypeError(f"budget must be an integer, got {budget!r} ({type(budget).__name__})")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            f"create one with diamlib.seeding.child_rng(seed, 'select', round)"
        )
    indices = evidence.unlabeled_indices
    if not isinstance(indices, np.ndarray) or indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError("evidence.unlabeled_indices must be a 1-D integer array of training-set indices")
    n_pool = indices.shape[0]
    if budget < 1 or budget > n_pool:
        raise ValueError(
            f"budget must be between 1 and the pool size {n_pool}; {budget} is out of range: "
            f"lower the budget (the query size), or stop when the pool is exhausted"
        )
    if np.unique(indices).shape[0] != n_pool:
        raise ValueError("evidence.unlabeled_indices contains repeated indices; each pool point must appear once")
    if evidence.task not in spec.tasks:
        raise ValueError(f"strategy {spec.name!r} is for {' or '.join(sorted(spec.tasks))} only, but the evidence "
                         f"is for {evidence.task} (evidence.task); choose a {evidence.task} strategy: "
                         f"{', '.join(strategy_names(evidence.task))}")
    if len(evidence.models) == 0:
        raise ValueError("evidence.models is empty; the evidence needs at least one target model")


# --------------------------------------------------------------------------- the arrays it reads
def check_evidence(spec: StrategySpec, evidence: Evidence) -> None:
    """The per-model arrays ``spec`` reads (``spec.evidence``) are present and well formed.

    Single-model strategies (``spec.reads_feature_model``) read the features of the feature
    model only (:meth:`~diamlib.evidence.Evidence.feature_evidence`); the others read their
    arrays of every target model. A missing array is reported first
    (:func:`missing_array_error`: which array to compute, and how); then each model's arrays
    are checked by :func:`~diamlib.strategies.checks.check_model_arrays`, model by model, and
    its features must not be constant (they could not rank pool points).

    Raises
    ------
    ValueError
        ``evidence.feature_model`` is not a position in ``evidence.models``, or an array is
        missing, of the wrong shape, holds NaN or inf, is not a probability matrix, holds
        non-integer or negative class labels, or is a feature matrix whose rows are all
        identical; the message names the model and the array.
    """
    n_pool = evidence.n_pool
    models = (evidence.feature_evidence(),) if spec.reads_feature_model else evidence.models
    read = [name for name in EVIDENCE_FIELDS if name in spec.evidence]
    for name in read:
        for model in models:
            if getattr(model, name) is None:
                raise missing_array_error(spec.name, model.name, name)
    for model in models:
        arrays = {name: np.asarray(getattr(model, name)) for name in read}
        try:
            check_model_arrays(arrays, n_pool=n_pool)
        except ValueError as error:
            raise ValueError(f"model {model.name!r}: {error}") from None
        if "pool_features" in arrays:
            _check_features_vary(model.name, arrays["pool_features"], arrays.get("labeled_features"))


def missing_array_error(strategy: str, model: str, array: str) -> ValueError:
    """The error for an array that ``strategy`` reads and ``model`` lacks: which array to compute, and how."""
    return ValueError(
        f"model {model!r}: {array} is missing, and strategy {strategy!r} reads it; compute "
        f"{HOW_TO_COMPUTE[array]}, and pass it as ModelEvidence({array}=...) (learner_evidence computes it "
        f"unless its evidence= argument leaves it out; an evidence file holds it as the array {array!r})")


def _check_features_vary(model: str, pool: np.ndarray, labeled: np.ndarray | None) -> None:
    """Not every feature is constant over the pool and the labeled set (then they cannot rank pool points)."""
    parts = [a for a in (pool, labeled) if a is not None and a.shape[0]]
    if sum(a.shape[0] for a in parts) >= 2:
        highest = np.max([a.max(axis=0) for a in parts], axis=0)
        lowest = np.min([a.min(axis=0) for a in parts], axis=0)
        if np.all(highest == lowest):
            raise ValueError(
                f"model {model!r}: every feature is constant over the pool and labeled set "
                f"(all rows identical), so its features cannot rank pool points; check the "
                f"feature extractor of this model"
            )
