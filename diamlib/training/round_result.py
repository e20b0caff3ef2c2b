"""What one training round takes and gives, for networks and scikit-learn learners alike (no PyTorch).

:class:`RoundData` (the arrays of a round), :class:`ModelRoundResult` (a model's metrics,
evidence and timings), :func:`evaluation_metrics` and the evidence a round may compute
(:data:`EVIDENCE_FIELDS`). :mod:`diamlib.training.networks` and :mod:`diamlib.training.sklearn`
both use them; this module imports nothing of PyTorch, so the scikit-learn target models work
in the core install.

References
----------
Algorithm 2, lines 3-4 of the paper (train each target model, record its soft version space).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from diamlib.evidence import EVIDENCE_FIELDS, ModelEvidence


@dataclass(frozen=True)
class RoundData:
    """The arrays one training round needs.

    Attributes
    ----------
    train_inputs, test_inputs : ModelInputs, or ndarray (n, d) for flat-input (scikit-learn) models
    train_targets : ndarray, (n_train,) int64 or (n_train, n_outputs) float32
    test_targets : ndarray, (n_test,) or (n_test, n_outputs)
    labeled : ndarray of int64, (n_labeled,)  training-set indices with labels
    pool : ndarray of int64, (n_pool,)        unlabeled training-set indices
    task : "classification" | "regression"
    """

    train_inputs: "ModelInputs | np.ndarray"
    train_targets: np.ndarray
    test_inputs: "ModelInputs | np.ndarray"
    test_targets: np.ndarray
    labeled: np.ndarray
    pool: np.ndarray
    task: str


@dataclass(frozen=True)
class ModelRoundResult:
    """What one model produced in one round: test metrics, evidence and timings (s).

    ``seconds_evidence`` is the snapshot passes plus the final pass. The stage timings of a
    network's round (``seconds_snapshots``: the BatchNorm recalibration and pool pass of every
    snapshot epoch before the last; ``seconds_final_pass``: the pool and labeled passes after
    the last epoch; ``seconds_test``: the test pass) stay 0 for scikit-learn models, and
    ``eval_batch_size`` (the inference batch used) is 0 for them. ``test_predictions``: the class
    indices (int32, (n_test,)) the final model predicts on the test set, for classification (the
    stop set of :mod:`diamlib.stopping` is drawn from its points; None for regression).
    """

    metrics: dict[str, float]
    evidence: ModelEvidence
    seconds_training: float
    seconds_evidence: float
    seconds_snapshots: float = 0.0
    seconds_final_pass: float = 0.0
    seconds_test: float = 0.0
    eval_batch_size: int = 0
    test_predictions: np.ndarray | None = None

    def stage_seconds(self) -> dict[str, float]:
        """Seconds per stage: ``training, evidence, snapshots, final_pass, test`` (what a round records)."""
        return {"training": self.seconds_training, "evidence": self.seconds_evidence,
                "snapshots": self.seconds_snapshots, "final_pass": self.seconds_final_pass, "test": self.seconds_test}


def evaluation_metrics(task: str, outputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """``accuracy`` (classification) or ``mse`` and ``mae`` (regression) on the test set."""
    if task == "classification":
        return {"accuracy": float(np.mean(outputs.argmax(axis=1) == targets))}
    error = outputs - targets
    return {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error)))}


def requested_evidence(evidence: Collection[str] | None) -> set[str]:
    """The :data:`EVIDENCE_FIELDS` a round computes (None: all); unknown names are an error."""
    wanted = set(EVIDENCE_FIELDS if evidence is None else evidence)
    unknown = wanted - set(EVIDENCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown evidence {sorted(unknown)}; valid: {', '.join(EVIDENCE_FIELDS)}")
    return wanted
