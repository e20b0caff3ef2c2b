"""The GPU round benchmark runs on a CPU at a reduced size and reports every stage."""
from __future__ import annotations

import json

import pytest

from benchmark_scripts import load_benchmark


def test_reduced_round_on_cpu_prints_one_line_per_model_and_the_round(capsys):
    rows = load_benchmark("gpu_round").main(["--device", "cpu", "--dataset", "digits", "--models", "1", "--labels", "40",
                              "--pool", "100", "--test", "50", "--epochs", "2", "--resolution", "32",
                              "--batch-size", "20"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == rows and len(rows) == 2
    for row in rows[:1]:
        assert row["labels"] == 40 and row["pool"] == 100 and row["resolution"] == 32
        assert row["seconds_training"] > 0 and row["train_images_per_s"] > 0 and 0 <= row["test_accuracy"] <= 1
    assert rows[1]["model"] == "round" and rows[1]["models"] == 1
    assert rows[1]["seconds_total"] >= rows[1]["seconds_training"]


def test_amp_needs_cuda():
    with pytest.raises(SystemExit):
        load_benchmark("gpu_round").main(["--device", "cpu", "--amp"])
