"""The regime gate: can an experiment's runs test DIAM's claim at all?

DIAM (Algorithm 2) ranks the pool by the informativeness ``v`` (how many target models' soft
version spaces disagree on a point) and takes a batch of ``tau`` from the top. The claim that
this beats CAL, the uncertainty baselines and random sampling is made in the paper's setting
(Sec. 6.1): target models that have learnt from 3,000 initial labels (round-0 accuracies of
63-92 % in the authors' published runs) and a batch of ``tau = 1500`` out of a pool of about
57,000. Two things must hold for a run to test it:

- **the votes rank the pool**: where far more points share the top vote than the batch holds,
  DIAM's batch is decided by its diversity term among a tie, not by disagreement;
- **the models have learnt**: the soft version space is the set of late-epoch hypotheses that
  fit the labels (Sec. 5.2); with models near chance it says little.

A third number decides only the comparison with CAL: CAL draws at random from the union of the
disagreement regions, so where that union holds most of the pool, CAL is close to a random draw
and DIAM against CAL repeats DIAM against random. That comparison then cannot test the claim;
DIAM's own ranking by ``v`` (how many models disagree, not whether one does) is unaffected.

:func:`regime_gate` decides it from the round-0 numbers of DIAM's runs, per seed (computed
by :func:`diamlib.reporting.results.vote_diagnostics`; notebook 02 shows them), and
:data:`GATE_DEFINITION` states the rule in words, printed beside the verdict table.
:func:`constant_gate` is the gate of the regression experiments (models that learnt nothing
cannot test the claim).

References
----------
Algorithm 2 (line 8: the informativeness ``v``), Sec. 5.2 (soft version spaces) and Sec. 6.1
(3,000 initial labels, ``tau = 1500``) of the paper; the thresholds are those of notebook 02's
regime check.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Largest share of the pool in some model's disagreement region at round 0 for CAL to differ from a
#: random draw (notebook 02: "< 50 %"); it decides only the comparison with CAL.
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
    f"DIAM's runs, at most {MAX_TIE_IN_BATCHES} batches' worth of pool points share the top vote (otherwise DIAM's "
    f"batch is chosen among a tie by its diversity term alone) and the target models' mean accuracy is at least "
    f"{_percent(MIN_ROUND0_ACCURACY)} (the authors' published runs start at 63-92 %); otherwise the row reads "
    f"\"cannot test the claim\". The comparison with CAL also needs less than {_percent(MAX_DISAGREEMENT_SHARE)} of "
    f"the pool in some target model's disagreement region in every seed: otherwise CAL is close to a random draw "
    f"and that cell reads \"cannot test the claim\". A regression row can test it only when every model ends "
    f"better than the constant predictor (and, for DIAM-svd, when the labeled feature matrix can reach full "
    f"column rank). The thresholds are notebook 02's regime check; the paper reports neither the share nor the "
    f"tie of its own runs."
)

#: The columns :func:`regime_gate` reads, one row per seed.
REGIME_COLUMNS = ("in some DIS region", "max-vote tie", "round-0 accuracy")


@dataclass(frozen=True)
class GateResult:
    """Whether a row can test the claim, and why not; ``cal_reason``: why its comparison with CAL cannot."""

    passes: bool
    reasons: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    cal_reason: str = ""

    @property
    def cal_is_random(self) -> bool:
        """CAL is close to a random draw in these runs: the comparison with it cannot test the claim."""
        return bool(self.cal_reason)

    def text(self) -> str:
        """``""`` when it passes, else ``"cannot test the claim: <reasons>"``."""
        return "" if self.passes else "cannot test the claim: " + "; ".join(self.reasons)

    def short(self) -> str:
        """What fails, beside the numbers: ``"cannot test the claim (<failed conditions>)"``, and
        ``"CAL: close to a random draw"`` when the comparison with CAL cannot test it (``""``: nothing fails)."""
        parts = []
        if not self.passes:
            parts.append(f"cannot test the claim ({', '.join(self.failed)})" if self.failed else self.text())
        if self.cal_is_random:
            parts.append("CAL: close to a random draw")
        return "; ".join(parts)


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
        Passes when every seed meets the tie and accuracy conditions of :data:`GATE_DEFINITION`;
        otherwise the reasons name each failed condition with the number of seeds that miss it.
        ``cal_reason`` is set when the disagreement share misses its target in some seed (the
        comparison with CAL cannot test the claim). Rows whose numbers were not recorded do not
        pass (their regime is unknown).

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
        ("top-vote tie", tie <= MAX_TIE_IN_BATCHES * batch_size,
         f"{_range(tie)} points share the top vote (target <= {MAX_TIE_IN_BATCHES} x {batch_size})"),
        ("round-0 accuracy", accuracy >= MIN_ROUND0_ACCURACY,
         f"round-0 accuracy {_range(accuracy, percent=True)} (target >= {_percent(MIN_ROUND0_ACCURACY)})"),
    )
    missed = [(name, met, text) for name, met, text in checks if not met.all()]
    reasons = tuple(f"{text}, missed in {int((~met).sum())} of {n} seeds" for _, met, text in missed)
    cal_ok = share < MAX_DISAGREEMENT_SHARE
    cal_reason = "" if cal_ok.all() else (
        f"CAL is close to a random draw: {_range(share, percent=True)} of the pool in some disagreement region "
        f"(target < {_percent(MAX_DISAGREEMENT_SHARE)}), missed in {int((~cal_ok).sum())} of {n} seeds")
    return GateResult(not reasons, reasons, tuple(name for name, _, _ in missed), cal_reason)


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
