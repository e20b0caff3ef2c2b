"""What a query strategy sees: per-model arrays over the unlabeled pool.

The active-learning loop trains every target model, computes this evidence once per
round, and hands it to a strategy. Strategies are pure functions of it. The tasks
(:data:`TASKS`) and the epochs of a soft version space (:func:`snapshot_epochs`) are defined
here, once, for every layer that speaks of them.

References
----------
Algorithm 2 (lines 2-8) of the paper: per-model soft version spaces (later-epoch
hypotheses), penultimate-layer features, informativeness votes.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import numpy as np

Task = Literal["classification", "regression"]
#: The tasks, in notebook order (a profile holds a section for each).
TASKS: tuple[Task, ...] = ("classification", "regression")


def snapshot_epochs(epochs: int) -> range:
    """Epochs (1-based) whose hypotheses form the soft version space: ``floor(T/2) .. T``.

    A ``range``: its length and membership cost nothing whatever ``epochs`` is.

    References
    ----------
    Sec. 5.2 and Algorithm 2, line 4: V_i = {h_i^j | j = floor(T/2), ..., T}.
    """
    return range(max(1, epochs // 2), epochs + 1)


#: How a user computes each per-model array of :class:`ModelEvidence` (error messages, ``select --help``).
HOW_TO_COMPUTE: dict[str, str] = {
    "snapshot_predictions": "the class indices (argmax of the outputs) that the model's checkpoints of the later "
                            "epochs floor(T/2)..T predict on the pool, int, shape (n_snapshots, n_pool)",
    "pool_probs": "the final model's softmax probabilities on the pool, shape (n_pool, n_classes)",
    "pool_features": "the final model's penultimate-layer activations on the pool, shape (n_pool, d)",
    "labeled_features": "the final model's penultimate-layer activations on the labeled set, shape (n_labeled, d) "
                        "(n_labeled may be 0)",
    "pool_outputs": "the final regression model's predictions on the pool, shape (n_pool, n_outputs)",
}


@dataclass(frozen=True)
class ModelEvidence:
    """Everything one target model says about the pool after a training round.

    Attributes
    ----------
    name : str
        Model name (unique within the zoo).
    pool_features : ndarray, shape (n_pool, d), optional
        Final-epoch penultimate-layer features of the unlabeled pool.
    labeled_features : ndarray, shape (n_labeled, d), optional
        Final-epoch penultimate-layer features of the labeled set.
    pool_probs : ndarray, shape (n_pool, n_classes), optional
        Final-epoch softmax probabilities on the pool (classification only).
    snapshot_predictions : ndarray of int, shape (n_snapshots, n_pool), optional
        Predicted labels of the hypotheses of epochs floor(T/2)..T on the pool: the
        model's soft version space (Sec. 5.2; classification only).
    pool_outputs : ndarray, shape (n_pool, n_outputs), optional
        Final-epoch predictions on the pool (regression only).
    n_parameters : int
        Number of parameters of the model (used to pick the largest model).

    A training round computes only the arrays the strategy reads (its registry entry's
    ``evidence``); the others are None.
    """

    name: str
    pool_features: np.ndarray | None = None
    labeled_features: np.ndarray | None = None
    pool_probs: np.ndarray | None = None
    snapshot_predictions: np.ndarray | None = None
    pool_outputs: np.ndarray | None = None
    n_parameters: int = 0


#: The per-model arrays of :class:`ModelEvidence` (every field but ``name`` and ``n_parameters``), in
#: field order: what a strategy may read, a round may compute and a file may hold.
EVIDENCE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModelEvidence)
                                         if f.name not in ("name", "n_parameters"))


@dataclass(frozen=True)
class Evidence:
    """The evidence of all target models for one query round.

    Attributes
    ----------
    task : {"classification", "regression"}
    unlabeled_indices : ndarray of int64, shape (n_pool,)
        Training-set indices of the unlabeled pool; every per-model array is row-aligned
        with it. Strategies return a subset of these indices.
    models : tuple of ModelEvidence
        One entry per target model, in zoo order.
    feature_model : int
        Position in ``models`` of the model whose features single-model strategies
        (coreset, BADGE, BAIT) use; by default the largest model. Ignored when
        ``feature_source`` is given.
    feature_source : ModelEvidence, optional
        Features from a network that is not a target model (a frozen, ImageNet-pretrained
        supernet: ``feature_model: supernet``), with ``pool_features`` and
        ``labeled_features``. Single-model strategies read it instead of
        ``models[feature_model]``; multi-model strategies (DIAM), which iterate over
        ``models``, never see it.
    """

    task: Task
    unlabeled_indices: np.ndarray
    models: tuple[ModelEvidence, ...]
    feature_model: int = 0
    feature_source: ModelEvidence | None = None

    @property
    def n_pool(self) -> int:
        return int(self.unlabeled_indices.shape[0])

    def feature_evidence(self) -> ModelEvidence:
        """The model whose features single-model strategies (coreset, BADGE, BAIT) read.

        ``feature_source`` (a frozen supernet's features) when given, else the target model at
        position ``feature_model``.

        Raises
        ------
        ValueError
            No ``feature_source`` and ``feature_model`` is not a position in ``models``.
        """
        if self.feature_source is not None:
            return self.feature_source
        position = self.feature_model
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or not (
            0 <= position < len(self.models)
        ):
            raise ValueError(
                f"evidence.feature_model must be a position in evidence.models (0..{len(self.models) - 1}), "
                f"got {position!r}"
            )
        return self.models[int(position)]

    @staticmethod
    def feature_model_position(setting: str, names: Sequence[str], n_parameters: Sequence[int]) -> int:
        """The position for ``feature_model`` that a feature-model setting names.

        Parameters
        ----------
        setting : str
            ``"largest"`` (the model with the most parameters, the first of equals), ``"supernet"``
            (also the largest: the supernet's features then come as ``feature_source``, so the
            position is only what is stored with the evidence), or a target model's name.
        names : sequence of str
            The target models' names, in ``models`` order.
        n_parameters : sequence of int
            Their numbers of parameters, in the same order.

        Raises
        ------
        ValueError
            ``setting`` is neither ``largest``, ``supernet`` nor one of ``names``.
        """
        if setting in ("largest", "supernet"):
            return int(np.argmax(n_parameters))
        names = list(names)
        if setting not in names:
            raise ValueError(f"feature_model {setting!r} is not a target model; valid: largest, supernet, "
                             f"{', '.join(names)}")
        return names.index(setting)


@dataclass(frozen=True)
class Selection:
    """What a strategy returns.

    Attributes
    ----------
    indices : ndarray of int64, shape (budget,)
        Distinct training-set indices to query, a subset of ``Evidence.unlabeled_indices``,
        in the order of preference.
    scores : ndarray, shape (n_pool,), optional
        The per-pool-point utility the strategy ranked by (for inspection).
    info : dict
        Free-form facts for the run log, e.g. ``{"filled_at_random": 12}``.
    """

    indices: np.ndarray
    scores: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def restrict_evidence(evidence: Evidence, fields: Collection[str]) -> Evidence:
    """The same evidence with only ``fields`` of every model kept (the others set to None).

    :func:`~diamlib.strategies.run.run_strategy` hands each strategy only the arrays its registry
    entry declares, so a strategy cannot silently depend on evidence that its rounds do not compute.
    """
    keep = set(fields)
    dropped = {f: None for f in EVIDENCE_FIELDS if f not in keep}
    source = evidence.feature_source
    return replace(evidence, models=tuple(replace(m, **dropped) for m in evidence.models),
                   feature_source=None if source is None else replace(source, **dropped))


def permute_pool(evidence: Evidence, order: np.ndarray) -> Evidence:
    """The same evidence with the pool's rows in ``order`` (row ``r`` of the result is row ``order[r]``).

    Every per-pool array of every model (and of ``feature_source``) and ``unlabeled_indices``
    move together, so a selection's ``indices`` mean the same points; labeled features stay.

    Parameters
    ----------
    evidence : Evidence
    order : ndarray of int, shape (n_pool,)
        A permutation of ``range(n_pool)``.
    """
    order = np.asarray(order, dtype=np.int64)

    def rows(model: ModelEvidence) -> ModelEvidence:
        moved = {name: getattr(model, name)[order] for name in ("pool_features", "pool_probs", "pool_outputs")
                 if getattr(model, name) is not None}
        if model.snapshot_predictions is not None:
            moved["snapshot_predictions"] = model.snapshot_predictions[:, order]
        return replace(model, **moved)

    source = evidence.feature_source
    return replace(evidence, unlabeled_indices=np.asarray(evidence.unlabeled_indices)[order],
                   models=tuple(rows(m) for m in evidence.models),
                   feature_source=None if source is None else rows(source))

