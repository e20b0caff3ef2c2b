"""The selection benchmarks and the zoo throughput run at a reduced size, the real-evidence path included."""
from __future__ import annotations

import json

from benchmark_scripts import load_benchmark


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_selection_quality_on_synthetic_and_real_smoke_evidence(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DIAMLIB_RESULTS_DIR", str(tmp_path))  # the smoke round 0 is trained here, once
    assert load_benchmark("selection_quality").main(["--sizes", "200", "--models", "3", "--disagreement", "low",
                                                     "--real", "smoke"]) == 0
    out = capsys.readouterr()
    rows = _json_lines(out.out)
    instances = {row["instance"] for row in rows}
    assert instances == {"synthetic-n200-m3-low", "real-smoke-digits-seed0"}
    assert {row["solver"] for row in rows} == {"greedy-swap", "authors", "fista", "cvxpy"}
    assert len(rows) == 2 * 3 * 4  # instances x betas x solvers
    real = [row for row in rows if row["instance"].startswith("real")]
    assert all(row["n"] == 500 - 150 and row["n_models"] == 3 and row["tau"] == 75 for row in real)
    assert all(row["numerics"]["mode"] == "portable" for row in rows)
    assert (tmp_path / "smoke" / "classification" / "digits" / "_round0" / "seed0" / "evidence.npz").is_file()
    assert "| real-smoke-digits-seed0 | -1.0 |" in out.err


def test_selection_benchmark_measures_each_method_in_its_own_process(capsys):
    assert load_benchmark("selection_benchmark").main(["--sizes", "300", "--threads", "1",
                                                       "--only", "coreset", "diam-exact"]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert [(row["method"], row["knn"]) for row in rows] == [("coreset", None), ("diam", "exact")]
    for row in rows:
        assert "error" not in row and row["n"] == 300 and row["seconds"] > 0 and row["peak_rss_mb"] > 0
        assert row["numerics"] == {"mode": "portable", "cpu_capability": "AVX2"}


def test_zoo_throughput_reports_training_and_inference_rates(capsys):
    rows = load_benchmark("zoo_throughput").main(["--zoos", "smoke3", "--threads", "1", "--batch-size", "8",
                                                  "--repeats", "1", "--resolution", "16"])
    assert _json_lines(capsys.readouterr().out) == rows and len(rows) == 3
    for row in rows:
        assert row["train_images_per_s"] > 0 and row["inference_images_per_s"] > 0 and row["resolution"] == 16
        assert row["numerics"]["mode"] == "portable"
