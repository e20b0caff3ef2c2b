"""The profile timer: its extrapolation in closed form, and a reduced run on the smoke profile."""
from __future__ import annotations

import pytest

from benchmark_scripts import load_benchmark


def test_extrapolation_in_closed_form():
    bench = load_benchmark("profile_time")
    assert bench.label_schedule(200, 100, 3) == [300, 400, 500]
    measured = bench.Measured(round_zero=10.0, query_round=7.0, training=3.0, evidence=2.0, selection=1.0,
                              labels_timed=300)
    estimate = bench.extrapolate(measured, schedule=[300, 400, 500], n_datasets=1, n_seeds=2, n_methods=4,
                                 workers=4)
    # per run: training 3 s x (300 + 400 + 500) / 300 = 12 s, plus 3 rounds x (2 + 1 + 1 other) s = 12 s
    assert estimate.seconds_per_run == pytest.approx(24.0)
    assert (estimate.runs, estimate.round_zeros, estimate.rounds) == (8, 2, 3)
    assert estimate.serial_seconds == pytest.approx(8 * 24.0 + 2 * 10.0)
    assert estimate.wall_seconds == pytest.approx(estimate.serial_seconds / 4)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        bench.extrapolate(measured, schedule=[300], n_datasets=1, n_seeds=1, n_methods=1, workers=0)


def test_smoke_profile_reduced_runs_and_prints_measured_and_extrapolated(capsys):
    result = load_benchmark("profile_time").main([
        "--profile", "smoke", "--strategy", "diam", "--workers", "2",
        "--override", "classification.training.epochs", "1", "--override", "classification.train_size", "300",
    ])
    measured = result["measured"]
    assert measured["round_zero"] > 0 and measured["query_round"] >= measured["training"] > 0
    assert measured["labels_timed"] == 150 + 75
    estimate = result["extrapolation"]
    assert estimate["runs"] == 8 and estimate["rounds"] == 2 and estimate["workers"] == 2
    assert estimate["serial_seconds"] > measured["round_zero"]
    printed = capsys.readouterr().out
    assert "measured: round 0" in printed and "EXTRAPOLATION (not measured)" in printed


def test_unknown_strategy_is_refused_before_any_training():
    with pytest.raises(ValueError, match="'badge' is not a method of profile 'smoke'"):
        load_benchmark("profile_time").measure("smoke", "badge")

