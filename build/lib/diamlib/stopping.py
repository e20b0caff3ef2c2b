"""When to stop labelling: stabilising predictions, per target model and for all of them.

Bloodgood and Vijay-Shanker's rule watches one fixed *stop set* of unlabeled points: after every
round the model labels it, and Cohen's kappa measures how far the labels agree with those of the
round before. Once the kappa averaged over the last ``window`` rounds reaches ``threshold``, the
model's predictions have stopped changing and more labels are unlikely to change them much. With
several target models (DIAM's setting), each model has its own kappas and its own verdict; the
labelling can stop when every model has stopped.

The rule is the one of small-text's ``KappaAverage`` (same kappa, same window, ``mean >=
threshold``), which the tests compare against; the defaults are the paper's window of 3 rounds
and threshold 0.99.

References
----------
M. Bloodgood and K. Vijay-Shanker, "A method for stopping active learning based on stabilizing
predictions and the need for user-adjustable stopping", CoNLL 2009, Sec. 3. DIAM's rounds
(Algorithm 2 of the paper) are the rounds of the rule.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: The rule's defaults (Bloodgood and Vijay-Shanker, 2009): a window of 3 rounds, a mean kappa of 0.99.
DEFAULT_WINDOW, DEFAULT_THRESHOLD = 3, 0.99
#: Points of the stop set drawn once per run (fewer when fewer exist).
STOP_SET_SIZE = 1000


def cohen_kappa(previous: np.ndarray, current: np.ndarray, n_classes: int) -> float:
    """Cohen's kappa between two labellings of the same points: ``(p_o - p_e) / (1 - p_e)``.

    ``p_o`` is the fraction of points given the same class, ``p_e`` the agreement expected by
    chance from the two labellings' class frequencies. Identical labellings give 1.0 (also when
    ``p_e = 1``, where the formula divides by zero, as small-text's ``KappaAverage`` does).

    Parameters
    ----------
    previous, current : ndarray of int, shape (n,)
        Class indices in ``0..n_classes-1`` of the same ``n >= 1`` points.
    n_classes : int

    Returns
    -------
    float
        In [-1, 1].

    References
    ----------
    Bloodgood and Vijay-Shanker (2009), Sec. 3 (Cohen's kappa between successive rounds).
    """
    previous, current = np.asarray(previous), np.asarray(current)
    if previous.shape != current.shape or previous.ndim != 1 or previous.size == 0:
        raise ValueError(f"kappa needs two labellings of the same points, got shapes {previous.shape} and "
                         f"{current.shape}; give one class index per stop-set point for both rounds")
    if np.array_equal(previous, current):
        return 1.0
    both = np.stack([previous, current])
    if both.min() < 0 or both.max() >= n_classes:
        raise ValueError(f"class indices must lie in 0..{n_classes - 1}, got {both.min()}..{both.max()}")
    observed = float(np.mean(previous == current))
    expected = float(np.dot(np.bincount(previous, minlength=n_classes), np.bincount(current, minlength=n_classes))
                     / previous.size**2)
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class ModelStop:
    """One target model's stabilising-predictions verdict after the latest round.

    Attributes
    ----------
    model : str
    kappas : tuple of float or None
        Kappa of every round against the round before (None where it was not measured: the
        first round, or a round whose predecessor's labels are missing).
    window_mean : float or None
        Mean of the last ``window`` kappas; None until ``window`` kappas in a row are measured.
    stopped : bool
        ``window_mean >= threshold``.
    """

    model: str
    kappas: tuple[float | None, ...]
    window_mean: float | None
    stopped: bool


@dataclass(frozen=True)
class StopReport:
    """The rule's verdict for every target model, and whether all have stopped.

    Attributes
    ----------
    models : tuple of ModelStop
    window : int
    threshold : float
    all_stopped : bool
        Every model has stopped (the labelling of all target models can stop).
    """

    models: tuple[ModelStop, ...]
    window: int
    threshold: float

    @property
    def all_stopped(self) -> bool:
        return bool(self.models) and all(m.stopped for m in self.models)

    def as_record(self) -> dict:
        """A JSON-ready dict: ``window``, ``threshold``, per model ``kappa`` (latest), ``window_mean``,
        ``stopped``, and ``all_stopped``."""
        return {"rule": "stabilising predictions (Bloodgood and Vijay-Shanker 2009)", "window": self.window,
                "threshold": self.threshold, "all_stopped": self.all_stopped,
                "models": {m.model: {"kappa": m.kappas[-1] if m.kappas else None, "window_mean": m.window_mean,
                                     "stopped": m.stopped} for m in self.models}}


def check_rule(window: int, threshold: float) -> None:
    """Refuse a window below 1 or a threshold outside (-1, 1]."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window={window!r}: give a number of rounds of at least 1 (default {DEFAULT_WINDOW})")
    if not -1.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold={threshold!r}: a kappa threshold lies in (-1, 1] (default {DEFAULT_THRESHOLD})")


def model_stop(model: str, kappas: Sequence[float | None], *, window: int = DEFAULT_WINDOW,
               threshold: float = DEFAULT_THRESHOLD) -> ModelStop:
    """The verdict of one model from its kappas so far (oldest first), as small-text's ``KappaAverage``.

    References
    ----------
    Bloodgood and Vijay-Shanker (2009), Sec. 3: stop when the mean of the last ``window``
    agreements reaches ``threshold``.
    """
    check_rule(window, threshold)
    last = list(kappas)[-window:]
    measured = len(last) == window and all(k is not None for k in last)
    mean = float(np.mean(last)) if measured else None
    return ModelStop(model=model, kappas=tuple(None if k is None else float(k) for k in kappas), window_mean=mean,
                     stopped=mean is not None and mean >= threshold)


def stop_report(kappas: Mapping[str, Sequence[float | None]], *, window: int = DEFAULT_WINDOW,
                threshold: float = DEFAULT_THRESHOLD) -> StopReport:
    """:func:`model_stop` for every model (name -> its kappas, oldest first)."""
    check_rule(window, threshold)
    return StopReport(models=tuple(model_stop(name, k, window=window, threshold=threshold)
                                   for name, k in kappas.items()), window=int(window), threshold=float(threshold))


def successive_kappas(predictions: np.ndarray, n_classes: int) -> list[float | None]:
    """Kappas of a model's stop-set labels of rounds ``0..R`` (rows), each against the row before.

    Parameters
    ----------
    predictions : ndarray of int, shape (n_rounds, n_stop)

    Returns
    -------
    list
        ``[None, kappa(0, 1), ..., kappa(R-1, R)]``: one entry per round, None for round 0.
    """
    predictions = np.asarray(predictions)
    return [None] + [cohen_kappa(predictions[r - 1], predictions[r], n_classes) for r in range(1, len(predictions))]


def first_stop_round(kappas: Mapping[str, Sequence[float | None]], *, window: int = DEFAULT_WINDOW,
                     threshold: float = DEFAULT_THRESHOLD) -> dict[str, int | None]:
    """The first round after which each model has stopped, and ``"all"`` for all of them (None: never).

    ``kappas[name][r]`` is the kappa of round ``r`` against round ``r - 1``; the rule is
    evaluated after every round on the kappas measured so far.
    """
    check_rule(window, threshold)
    rounds = {name: None for name in kappas}
    rounds["all"] = None
    n_rounds = max((len(k) for k in kappas.values()), default=0)
    for r in range(n_rounds):
        report = stop_report({name: list(k)[: r + 1] for name, k in kappas.items()}, window=window,
                             threshold=threshold)
        for model in report.models:
            if model.stopped and rounds[model.model] is None:
                rounds[model.model] = r
        if report.all_stopped and rounds["all"] is None:
            rounds["all"] = r
    return rounds
