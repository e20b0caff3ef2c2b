"""The regime gate: can an experiment's runs test DIAM's claim at all?

DIAM (Algorithm 2) ranks the pool by the informativeness ``v`` (how many target models' soft
version spaces disagree on a point) and takes a batch of ``tau`` from the top. The claim that
this beats CAL, the uncertainty baselines and random sampling is made in the paper's setting
(Sec. 6.1): target models that have learnt from 3,000 initial labels, a batch of
``tau = 1500`` out of a pool of about 57,000, and votes that pick out a small part of it. In a
run where nearly the whole pool lies in some model's disagreement region, CAL is a random draw,
and where far more points share the top vote than the batch holds, DIAM's batch is decided by
its diversity term among a tie, not by disagreement: the comparison then tests something else.

:func:`regime_gate` decides it from the round-0 numbers of DIAM's runs, per seed (computed
by :func:`diamlib.reporting.results.vote_diagnostics`; notebook 02 shows them), and
:data:`GATE_DEFINITION` states the rule in words, printed beside the verdict table.
:func:`constant_gate` is the gate of the regression experiments (models that learnt nothing
cannot test the claim).

References
----------
Algorithm 2 (line 8: the informativeness ``v``) and Sec. 6.1 (3,000 initial labels,
``tau = 1500``) of the paper; the thresholds are those of notebook 02's regime check.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Largest share of the pool in some model's disagreement region at round 0 (notebook 02: "< 50 %").
MAX_DISAGREEMENT_SHARE = 0.5
#: Largest number of pool points sharing the top vote, in batches ``tau`` (notebook 02: "<= 3 tau").
MAX_TIE_IN_BATCHES = 3
#: Smallest round-0 mean accuracy of the target models: below the lowest of the authors' published
#: runs (Kuzushiji-MNIST, 12 models, 63 %; MNIST 92 %), rounded down to a tenth.
MIN_ROUND0_ACCURACY = 0.6

def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def _range(values: pd.Series, percent: bool = False) -> str:
    """``"low-high"`` of ``values`` over the seeds (one number when they agree to the printed digits)."""
    low, high = (f"{100 * v:.0f}" if percent else f"{v:.0f}" for v in (values.min(), values.max()))
    text = low if low == high else f"{low}-{high}"
    return f"{text} %" if percent else text


#: The gate in words (the verdict prints it under its table; notebook 04 and the README show it).
GATE_DEFINITION = (
    f"Regime gate: a classification row can test the claim only when, at round 0 and in every seed of "
    f"DIAM's runs, less than {_percent(MAX_DISAGREEMENT_SHARE)} of the pool lies in some target model's "
    f"disagreement region, at most {MAX_TIE_IN_BATCHES} batches' worth of pool points share the top vote, "
    f"and the target models' mean accuracy is at least {_percent(MIN_ROUND0_ACCURACY)} (the authors' published runs "
    f"start at 63-92 %). Otherwise CAL is a random draw or DIAM's batch is chosen among a tie by its diversity "
    f"term alone, and the row reads \"cannot test the claim\". A regression row can test it only when every "
    f"model ends better than the constant predictor. The thresholds are notebook 02's regime check; the paper "
    f"reports neither the share nor the tie of its own runs."
)

#: The columns :func:`regime_gate` reads, one row per seed.
REGIME_COLUMNS = ("in some DIS region", "max-vote tie", "round-0 accuracy")


@dataclass(frozen=True)
class GateResult:
    """Whether a row can test the claim, and why not."""

    passes: bool
    reasons: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def text(self) -> str:
        """``""`` when it passes, else ``"cannot test the claim: <reasons>"``."""
        return "" if self.passes else "cannot test the claim: " + "; ".join(self.reasons)

    def short(self) -> str:
        """``""`` when it passes, else ``"cannot test the claim (<failed conditions>)"`` (beside the numbers)."""
        if self.passes:
            return ""
        return f"cannot test the claim ({', '.join(self.failed)})" if self.failed else self.text()


def regime_gate(round_zero: pd.DataFrame, batch_size: int) -> GateResult:
    """The gate of a classification experiment from its per-seed round-0 numbers.

    Parameters
    ----------
    round_zero : DataFrame
        One row per seed with columns :data:`REGIME_COLUMNS`: the share of the pool in some
        disagreement region (in [0, 1]), the number of pool points sharing the top vote and
        the target models' mean accuracy (in [0, 1]) at round 0.
    batch_size : int
        The query batch ``tau``.

    Returns
    -------
    GateResult
        Passes when every seed meets the three conditions of :data:`GATE_DEFINITION`; otherwise
        the reasons name each failed condition with the number of seeds that miss it. Rows whose
        numbers were not recorded do not pass (their regime is unknown).

    Raises
    ------
    ValueError
        A column is missing, or ``batch_size`` is not positive.
    """
    missing = [c for c in REGIME_COLUMNS if c not in round_zero.columns]
    if missing:
        raise ValueError(f"regime_gate needs the per-seed columns {list(REGIME_COLUMNS)}; missing {missing}")
    if batch_size < 1:
        raise ValueError(f"regime_gate needs the query batch size (positive); got {batch_size}")
    if round_zero.empty or round_zero[list(REGIME_COLUMNS)].isna().any().any():
        return GateResult(False, ("round-0 regime numbers not recorded",))
    n = len(round_zero)
    share = round_zero["in some DIS region"].astype(float)
    tie = round_zero["max-vote tie"].astype(float)
    accuracy = round_zero["round-0 accuracy"].astype(float)
    checks = (
        ("disagreement share", share < MAX_DISAGREEMENT_SHARE,
         f"{_range(share, percent=True)} of the pool in some disagreement region (target < "
         f"{_percent(MAX_DISAGREEMENT_SHARE)})"),
        ("top-vote tie", tie <= MAX_TIE_IN_BATCHES * batch_size,
         f"{_range(tie)} points share the top vote (target <= {MAX_TIE_IN_BATCHES} x {batch_size})"),
        ("round-0 accuracy", accuracy >= MIN_ROUND0_ACCURACY,
         f"round-0 accuracy {_range(accuracy, percent=True)} (target >= {_percent(MIN_ROUND0_ACCURACY)})"),
    )
    missed = [(name, met, text) for name, met, text in checks if not met.all()]
    reasons = tuple(f"{text}, missed in {int((~met).sum())} of {n} seeds" for _, met, text in missed)
    return GateResult(not reasons, reasons, tuple(name for name, _, _ in missed))


def constant_gate(n_worse: int, n_values: int) -> GateResult:
    """The gate of a regression experiment: every final (run, model) value better than the constant predictor.

    Parameters
    ----------
    n_worse : int
        Final (run, model) MSE values not below the constant predictor's.
    n_values : int
        Final (run, model) values compared; 0 when the constant predictor was not recorded.
    """
    if n_values == 0:
        return GateResult(False, ("constant predictor not recorded",))
    if n_worse:
        return GateResult(False, (f"{n_worse} of {n_values} final (run, model) values not better than the "
                                  f"constant predictor",))
    return GateResult(True)
