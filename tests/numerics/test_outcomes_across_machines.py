"""The smoke experiments' outcomes on this machine against the reference machine's, within stated tolerances.

Any machine must pass this, whatever its canary: it checks what the numbers say, never their
digits (the canary and nbval check the digits where they must repeat). It runs after the
notebooks (root ``conftest.py``) and reuses their runs; alone, it runs the smoke experiments.

Tolerances. At the smoke profile's size (one or two seeds, 200 test images, a few epochs) the
last bits that another processor rounds differently move one method's mean a lot, and the mean
over all methods little. Between the Intel Xeon that made the earlier stored outputs and the AMD
EPYC that made these (the same commit, seeds and locked packages), the stored smoke outputs
moved by :data:`MEASURED_SHIFT`: one method's last-round accuracy by up to 10.0 points
(entropy, 41.5 -> 51.5 %), the mean over methods by 0.5 points; one method's regression MSE by
up to 14 %, the mean by 4 %; the scikit-learn numbers not at all. :data:`TOLERANCE` is about twice
the measured shift, or a few test images where nothing moved: a machine outside it computes
something else than kernels rounding differently (a broken BLAS, another data file, other
package versions).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from outcomes import EXPERIMENTS, REFERENCE, outcomes, smoke_runs

#: The largest shift measured between the two vendors: (one method, the mean over methods), in
#: accuracy points (fractions) for classification, relative for regression's MSE.
MEASURED_SHIFT = {"classification": (0.100, 0.005), "regression": (0.14, 0.04), "sklearn": (0.0, 0.0)}
#: Allowed difference from the reference machine: (one method, the mean over methods).
TOLERANCE = {"classification": (0.20, 0.03), "regression": (0.30, 0.10), "sklearn": (0.10, 0.03)}
NAMES = [name for name, *_ in EXPERIMENTS]


@pytest.fixture(scope="module")
def compared():
    reference = json.loads(REFERENCE.read_text())
    return reference["outcomes"], outcomes(smoke_runs())


def _mean_over_methods(outcome: dict, methods, moment: str) -> float:
    """The mean over ``methods`` of an experiment's ``first`` or ``last`` round metric."""
    return float(np.mean([outcome["methods"][method][moment] for method in methods]))


def _difference(metric: str, here: float, there: float) -> float:
    """Absolute for accuracy, relative for MSE."""
    return abs(here - there) if metric == "accuracy" else abs(here - there) / abs(there)


@pytest.mark.parametrize("experiment", NAMES)
def test_every_method_ends_within_the_tolerance_of_the_reference_machine(compared, experiment):
    expected, found = (outcomes_of[experiment] for outcomes_of in compared)
    assert set(found["methods"]) == set(expected["methods"]), "the smoke profile runs other methods than recorded"
    tolerance = TOLERANCE[experiment][0]
    off = [f"{method} {moment}: {found['methods'][method][moment]:.4f} here, {values[moment]:.4f} on the reference "
           f"machine" for method, values in expected["methods"].items() for moment in ("first", "last")
           if _difference(expected["metric"], found["methods"][method][moment], values[moment]) > tolerance]
    assert not off, (f"{experiment} ({expected['metric']}) differs by more than {tolerance} from the outcomes "
                     f"recorded on the reference machine: " + "; ".join(off))


@pytest.mark.parametrize("experiment", NAMES)
def test_the_mean_over_methods_is_within_the_tight_tolerance(compared, experiment):
    expected, found = (outcomes_of[experiment] for outcomes_of in compared)
    tolerance = TOLERANCE[experiment][1]
    for moment in ("first", "last"):
        there, now = (_mean_over_methods(outcome, expected["methods"], moment) for outcome in (expected, found))
        assert _difference(expected["metric"], now, there) <= tolerance, (
            f"{experiment}: the {moment} round's {expected['metric']} averaged over methods is {now:.4f} here and "
            f"{there:.4f} on the reference machine (tolerance {tolerance})")


@pytest.mark.parametrize("experiment", NAMES)
def test_learning_goes_the_same_way_as_on_the_reference_machine(compared, experiment):
    """Where the reference machine's mean over methods moved by more than the tight tolerance, it moves the same way."""
    expected, found = (outcomes_of[experiment] for outcomes_of in compared)
    means = {source: {moment: _mean_over_methods(outcome, expected["methods"], moment) for moment in ("first", "last")}
             for source, outcome in (("there", expected), ("here", found))}
    if _difference(expected["metric"], means["there"]["last"], means["there"]["first"]) <= TOLERANCE[experiment][1]:
        pytest.skip(f"{experiment}: the reference machine's metric barely moved between the first and last round")
    assert (means["here"]["last"] > means["here"]["first"]) == (means["there"]["last"] > means["there"]["first"]), (
        f"{experiment}: {means['here']['first']:.4f} -> {means['here']['last']:.4f} here, "
        f"{means['there']['first']:.4f} -> {means['there']['last']:.4f} on the reference machine")


@pytest.mark.parametrize("experiment", NAMES)
def test_methods_far_apart_on_the_reference_machine_keep_their_order(compared, experiment):
    """Two methods whose last-round means differ by more than twice the per-method tolerance rank the same here."""
    expected, found = (outcomes_of[experiment] for outcomes_of in compared)
    better = 1 if expected["metric"] == "accuracy" else -1
    methods, limit = sorted(expected["methods"]), 2 * TOLERANCE[experiment][0]
    far = [(a, b) for i, a in enumerate(methods) for b in methods[i + 1:]
           if _difference(expected["metric"], expected["methods"][a]["last"], expected["methods"][b]["last"]) > limit]
    if not far:
        pytest.skip(f"{experiment}: no two methods lie more than {limit} apart on the reference machine at the "
                    f"smoke profile's size")
    swapped = [f"{a} vs {b}" for a, b in far
               if (better * (expected["methods"][a]["last"] - expected["methods"][b]["last"]) > 0)
               != (better * (found["methods"][a]["last"] - found["methods"][b]["last"]) > 0)]
    assert not swapped, f"{experiment}: methods far apart on the reference machine swapped places: " + ", ".join(swapped)
