"""The GPU round benchmark runs on a CPU at a reduced size and reports every stage."""
from __future__ import annotations

import importlib.util
import json

import pytest

from diamlib.paths import project_root


def _benchmark():
    path = project_root() / "benchmarks" / "gpu_round.py"
    spec = importlib.util.spec_from_file_location("gpu_round", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reduced_round_on_cpu_prints_one_line_per_model_and_the_round(capsys):
    rows = _benchmark().main(["--device", "cpu", "--dataset", "digits", "--models", "1", "--labels", "40",
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
        _benchmark().main(["--device", "cpu", "--amp"])
