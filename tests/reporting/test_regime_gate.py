"""The regime gate: which rows can test DIAM's claim, and why the others cannot."""
from __future__ import annotations

import pandas as pd
import pytest

from diamlib.reporting.stats import regime
from diamlib.reporting.stats.regime import GATE_DEFINITION, GateResult, constant_gate, regime_gate


def numbers(share=(0.3, 0.4, 0.2), tie=(100, 200, 450), accuracy=(0.7, 0.8, 0.65)) -> pd.DataFrame:
    return pd.DataFrame({"seed": range(len(share)), "in some DIS region": share, "max-vote tie": tie,
                         "round-0 accuracy": accuracy})


def test_a_row_in_the_papers_regime_passes():
    gate = regime_gate(numbers(), batch_size=150)  # 450 = 3 x 150 is still allowed
    assert gate == GateResult(True) and gate.text() == ""


@pytest.mark.parametrize("changes, reason", [
    ({"tie": (100, 451, 200)}, "100-451 points share the top vote (target <= 3 x 150), missed in 1 of 3"),
    ({"accuracy": (0.7, 0.59, 0.8)}, "round-0 accuracy 59-80 % (target >= 60 %), missed in 1 of 3"),
])
def test_each_condition_fails_on_its_own_and_is_named(changes, reason):
    gate = regime_gate(numbers(**changes), batch_size=150)
    assert not gate.passes and gate.reasons == (reason + " seeds",) and not gate.cal_is_random
    assert gate.text() == f"cannot test the claim: {reason} seeds"
    assert gate.short().startswith("cannot test the claim (") and len(gate.failed) == 1


def test_a_pool_mostly_in_some_region_rules_out_only_the_comparison_with_cal():
    gate = regime_gate(numbers(share=(0.3, 0.96, 0.5)), batch_size=150)
    assert gate.passes and gate.cal_is_random and gate.text() == ""
    assert gate.cal_reason == ("CAL is close to a random draw: 30-96 % of the pool in some disagreement region "
                               "(target < 50 %), missed in 2 of 3 seeds")
    assert gate.short() == "CAL: close to a random draw"


def test_the_ofa_cpu_record_fails_on_accuracy_and_its_cal_column_on_the_share():
    """The numbers notebook 02 printed for the default profile's OFA runs (96-99 % in some region, 39-42 %)."""
    gate = regime_gate(numbers(share=(0.96, 0.99, 0.97), tie=(38, 195, 60), accuracy=(0.39, 0.42, 0.40)), 150)
    assert not gate.passes and len(gate.reasons) == 1 and "round-0 accuracy" in gate.reasons[0]
    assert gate.short() == "cannot test the claim (round-0 accuracy); CAL: close to a random draw"


def test_unrecorded_numbers_do_not_pass_and_bad_input_is_named():
    unrecorded = numbers().assign(**{"max-vote tie": [100, None, 200]})
    assert regime_gate(unrecorded, 150).reasons == ("round-0 regime numbers not recorded",)
    assert not regime_gate(numbers().iloc[:0], 150).passes
    with pytest.raises(ValueError, match="missing \\['round-0 accuracy'\\]"):
        regime_gate(numbers().drop(columns="round-0 accuracy"), 150)
    with pytest.raises(ValueError, match="batch size"):
        regime_gate(numbers(), 0)


def test_constant_gate():
    assert constant_gate(0, 12).passes
    assert constant_gate(2, 12).reasons == ("2 of 12 final (run, model) values not better than the constant "
                                            "predictor",)
    assert constant_gate(0, 0).reasons == ("constant predictor not recorded",)


def test_the_definition_states_the_thresholds_it_applies():
    assert f"less than {100 * regime.MAX_DISAGREEMENT_SHARE:.0f} %" in GATE_DEFINITION and "comparison with CAL" in GATE_DEFINITION
    assert f"at most {regime.MAX_TIE_IN_BATCHES} batches" in GATE_DEFINITION
    assert f"at least {100 * regime.MIN_ROUND0_ACCURACY:.0f} %" in GATE_DEFINITION
    assert "cannot test the claim" in GATE_DEFINITION


def test_the_accuracy_threshold_lies_below_every_published_round_0_of_the_authors(authors):
    """The authors' own runs pass the accuracy condition; the definition quotes their range."""
    first = authors[(authors["metric"] == "accuracy") & (authors["round"] == 0)]
    means = first.groupby(["n_models", "dataset", "method"])["value"].mean()
    assert means.min() >= regime.MIN_ROUND0_ACCURACY
    largest = first[first["n_models"] == first["n_models"].max()].groupby("dataset")["value"].mean()
    assert f"start at {100 * largest.min():.0f}-{100 * largest.max():.0f} %" in GATE_DEFINITION


def test_equal_numbers_over_the_seeds_print_once():
    gate = regime_gate(numbers(share=(1.0,), tie=(283,), accuracy=(0.32,)), 75)
    assert gate.cal_reason.startswith("CAL is close to a random draw: 100 % of the pool")
    assert gate.reasons[0].startswith("283 points")
