"""The stabilising-predictions stopping rule: kappa by hand, against scikit-learn and small-text."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from diamlib.stopping import (cohen_kappa, first_stop_round, model_stop, stop_report, successive_kappas)


def test_kappa_of_a_hand_computed_example():
    # p_o = 3/4; class frequencies (2, 2) and (1, 3): p_e = (2*1 + 2*3) / 16 = 1/2; kappa = (3/4 - 1/2) / (1/2)
    assert cohen_kappa(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2) == pytest.approx(0.5)
    assert cohen_kappa(np.array([2, 2, 2]), np.array([2, 2, 2]), 3) == 1.0  # p_e = 1: agreement, not 0/0
    assert cohen_kappa(np.array([0, 1]), np.array([1, 0]), 2) == pytest.approx(-1.0)


def test_kappa_equals_scikit_learns_on_random_labellings():
    rng = np.random.default_rng(0)
    for n_classes in (2, 3, 10):
        a = rng.integers(0, n_classes, 200)
        b = np.where(rng.random(200) < 0.7, a, rng.integers(0, n_classes, 200))
        assert cohen_kappa(a, b, n_classes) == pytest.approx(cohen_kappa_score(a, b, labels=np.arange(n_classes)))


def rounds_of_predictions(seed: int, n_rounds: int = 9, n_stop: int = 300, n_classes: int = 4) -> np.ndarray:
    """Stop-set labels that change less and less from round to round (as a model's do while it learns)."""
    rng = np.random.default_rng(seed)
    rows = [rng.integers(0, n_classes, n_stop)]
    for r in range(1, n_rounds):
        flip = rng.random(n_stop) < 0.4 / r**2
        rows.append(np.where(flip, rng.integers(0, n_classes, n_stop), rows[-1]))
    return np.stack(rows)


@pytest.mark.parametrize("window,threshold", [(3, 0.99), (2, 0.95), (1, 0.9)])
def test_verdicts_equal_small_texts_kappa_average(window, threshold):
    kappa_module = pytest.importorskip("small_text.stopping_criteria.kappa",
                                       reason="small-text (a dev dependency) is not installed")
    for seed in range(4):
        predictions = rounds_of_predictions(seed)
        theirs = kappa_module.KappaAverage(num_classes=4, window_size=window, kappa=threshold)
        kappas = successive_kappas(predictions, 4)
        for r, row in enumerate(predictions):
            expected = theirs.stop(predictions=row)
            assert model_stop("m", kappas[: r + 1], window=window, threshold=threshold).stopped == expected, (seed, r)


def test_report_and_first_rounds_for_several_models():
    kappas = {"small": [None, 0.5, 0.995, 0.999, 1.0, 1.0], "large": [None, 0.2, 0.9, 0.98, 0.995, 1.0]}
    report = stop_report({name: k[:5] for name, k in kappas.items()})
    assert [m.stopped for m in report.models] == [True, False] and not report.all_stopped
    assert report.models[0].window_mean == pytest.approx((0.995 + 0.999 + 1.0) / 3)
    record = report.as_record()
    assert record["models"]["large"]["kappa"] == 0.995 and record["all_stopped"] is False
    # small: rounds 2..4 average 0.998 >= 0.99 -> round 4; large: rounds 3..5 average 0.9917 -> round 5
    assert first_stop_round(kappas) == {"small": 4, "large": 5, "all": 5}
    # at 0.999: small only over rounds 3..5 (mean 0.99967); large never
    assert first_stop_round(kappas, threshold=0.999) == {"small": 5, "large": None, "all": None}
    assert model_stop("m", [None, 1.0, None, 1.0, 1.0], window=3).window_mean is None  # a gap: not measured


def test_bad_rules_and_inputs_are_refused():
    with pytest.raises(ValueError, match="window=0"):
        stop_report({"m": [None]}, window=0)
    with pytest.raises(ValueError, match="threshold=1.5"):
        model_stop("m", [None], threshold=1.5)
    with pytest.raises(ValueError, match="same points"):
        cohen_kappa(np.array([0, 1]), np.array([0, 1, 1]), 2)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        cohen_kappa(np.array([0, 2]), np.array([0, 1]), 2)
