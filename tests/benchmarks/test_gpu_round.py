"""The GPU round benchmark runs on a CPU at a reduced size, reports every stage, and estimates a grid."""
from __future__ import annotations

import json
import sys

import pytest

from benchmark_scripts import load_benchmark

REDUCED = ["--device", "cpu", "--dataset", "digits", "--labels", "40", "--pool", "100", "--test", "50",
           "--epochs", "2", "--resolution", "32", "--batch-size", "20"]
STAGES = ("training", "snapshots", "final_pass", "test")


def test_reduced_round_on_cpu_prints_and_records_data_models_and_the_round(capsys, tmp_path):
    out = tmp_path / "round.jsonl"
    rows = load_benchmark("gpu_round").main(REDUCED + ["--models", "1", "--augmentation", "authors",
                                                      "--out", str(out), "--label", "test"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == rows == [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["data", "model", "round"]
    data, model, total = rows
    assert data["resolution"] == 32 and data["images"] == 140 and data["prepare_images_per_s"] > 0
    assert model["labels"] == 40 and model["pool"] == 100 and model["test"] == 50 and model["resolution"] == 32
    assert model["snapshot_passes"] == 1 and model["eval_batch_size"] == 512  # epochs 1..2 snapshots, the last is final
    for stage, rate in zip(STAGES, ("train", "snapshot", "final", "test")):
        assert model[f"seconds_{stage}"] > 0 and model[f"{rate}_images_per_s"] > 0
    assert 0 <= model["test_accuracy"] <= 1 and model["peak_gpu_memory_gb"] is None
    assert total["model"] == "round" and total["models"] == 1 and total["seconds_total"] >= total["seconds_training"]
    assert total["gpu_busy"] is None and total["gpu_util_samples"] == 0  # no GPU: no utilisation
    for row in rows:  # where and how it ran, on every line
        assert row["device"] == "cpu" and row["device_name"] and row["label"] == "test"
        assert row["numerics"]["mode"] and row["augmentation"] == "authors" and row["concurrency"] == 1


def test_two_models_at_once_in_two_processes_train_as_one_after_the_other(tmp_path):
    bench = load_benchmark("gpu_round")
    args = REDUCED + ["--models", "2", "--threads", "1", "--eval-batch-size", "64"]
    serial = bench.main(args + ["--out", str(tmp_path / "a.jsonl")])
    together = bench.main(args + ["--concurrency", "2", "--out", str(tmp_path / "b.jsonl")])
    models = [[r for r in rows if r["kind"] == "model"] for rows in (serial, together)]
    assert [r["model"] for r in models[1]] == [r["model"] for r in models[0]]
    # each model's weights and order come from its position, whichever process trains it
    assert [r["test_accuracy"] for r in models[1]] == [r["test_accuracy"] for r in models[0]]
    assert [r["kind"] for r in together].count("data") == 2  # each process uploads its own copy
    assert together[-1]["concurrency"] == 2 and together[-1]["models"] == 2
    assert all(r["eval_batch_size"] == 64 for r in models[1])


@pytest.mark.parametrize("flag", ["--amp", "--channels-last", "--cuda-graphs"])
def test_gpu_flags_need_cuda(flag):
    with pytest.raises(SystemExit):
        load_benchmark("gpu_round").main(["--device", "cpu", flag])


def test_utilisation_sampler_averages_the_samples_of_its_gpu():
    bench = load_benchmark("gpu_round")
    command = (sys.executable, "-c", "print(20); print(60)")
    with bench.UtilisationSampler(gpu_index=1, interval=0.01, command=command) as sampler:
        while len(sampler.samples) < 3:
            pass
    assert set(sampler.samples) == {60.0} and sampler.busy_fraction == 0.6
    assert bench.UtilisationSampler().busy_fraction is None
    assert bench.utilisation_sampler("cpu") is None


# --------------------------------------------------------------------------- the estimate
def test_round_work_follows_what_each_round_computes():
    est = load_benchmark("gpu_estimate")
    everything = est.round_work(100, 900, 50, 20, set(est.EVIDENCE_FIELDS))
    assert everything == est.RoundWork(train=2000, snapshot=10 * 900, final=900 + 100, test=50)
    assert est.round_work(100, 900, 50, 20, {"snapshot_predictions"}) == est.RoundWork(2000, 9000, 900, 50)
    assert est.round_work(100, 900, 50, 20, frozenset()) == est.RoundWork(2000, 0, 0, 50)


def test_grid_estimate_in_closed_form():
    est = load_benchmark("gpu_estimate")
    rates = {"a": est.ModelRates(train=100.0, snapshot=1000.0, final=500.0, test=50.0),
             "b": est.ModelRates(train=50.0, snapshot=500.0, final=250.0, test=25.0)}  # b: twice as slow
    votes, votes_and_features = frozenset({"snapshot_predictions"}), frozenset({"snapshot_predictions",
                                                                              "pool_features"})
    estimate = est.estimate_grid(rates=rates, n_train=1000, n_test=100, initial_labels=100, query_size=100,
                                 rounds=2, epochs=4, strategy_evidence=[votes, votes_and_features, frozenset()],
                                 n_seeds=2, workers=3, selection_seconds=7.0)
    # epochs 4: snapshots 2, 3, 4, so 2 snapshot passes; model a, per round, in seconds:
    # round 0 (100 labels, pool 900, all evidence): train 400/100 + 1800/1000 + (900 + 100)/500 + 100/50 = 9.8
    # round 1 (200 labels, pool 800) with votes: 800/100 + 1600/1000 + 800/500 + 2 = 13.2; with nothing: 10
    # round 2 (300 labels, the last: test only): 1200/100 + 2 = 14
    per_seed_a = 9.8 + (13.2 + 14) * 2 + (10 + 14)
    assert estimate.serial_seconds == pytest.approx(2 * 3 * per_seed_a + 2 * 2 * 7.0)  # b costs 2 a; 4 DIAM selections
    assert estimate.selection_seconds == pytest.approx(28.0)
    assert estimate.stage_seconds["test"] == pytest.approx(2 * 3 * 2 * (1 + 3 * 2))
    assert (estimate.runs, estimate.round_zeros, estimate.workers) == (6, 2, 3)
    assert estimate.wall_seconds == pytest.approx(estimate.serial_seconds / 3)


def test_estimate_of_a_profile_reads_the_last_rates_of_each_model(tmp_path, capsys):
    bench = load_benchmark("gpu_round")
    rates = tmp_path / "rates.jsonl"
    bench.main(REDUCED + ["--zoo", "smoke3", "--resolution", "16", "--out", str(rates)])
    result = bench.main(["--estimate", "smoke", "--rates", str(rates), "--workers", "2"])
    assert result["profile"] == "smoke" and result["train_size"] == 500 and result["test_size"] == 200
    estimate = result["estimate"]
    assert estimate["runs"] == 8 and estimate["workers"] == 2 and estimate["serial_seconds"] > 0
    assert "EXTRAPOLATION" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no rates for"):
        bench.main(["--estimate", "default", "--rates", str(rates)])


def test_assumed_rates_train_alike_and_infer_in_inverse_proportion_to_published_macs():
    est = load_benchmark("gpu_estimate")
    names = ["note10_lat@22ms_top1@76.6_finetune@25", "note8_lat@22ms_top1@70.4_finetune@25"]
    rates = est.assumed_rates(names, 1420.0, 16100.0)
    assert est.REFERENCE_MODEL == names[0] and rates[names[0]] == est.ModelRates(1420.0, 16100.0, 16100.0, 16100.0)
    assert rates[names[1]].train == 1420.0 and rates[names[1]].snapshot == pytest.approx(16100.0 * 237 / 67)
    with pytest.raises(ValueError, match="paper's 12 models only"):
        est.assumed_rates(["cpu-net"], 1.0, 1.0)


def test_gpu_lite_estimate_from_assumed_rates_in_closed_form():
    result = load_benchmark("gpu_round").main(["--estimate", "gpu-lite", "--assume-rates", "1420,16100",
                                               "--selection-seconds", "77.4", "--workers", "1"])
    estimate = result["estimate"]
    assert (estimate["runs"], estimate["round_zeros"], estimate["workers"]) == (8, 2, 1)
    assert result["rates"].startswith("assumed: train 1420, inference 16100 img/s")
    # six models; training: 2 round zeros at 1,000 labels and 8 runs at 2,000, 3,000, 4,000, 20 epochs each
    stages = estimate["stage_seconds"]
    assert stages["train"] == pytest.approx(6 * (2 * 1000 + 8 * 9000) * 20 / 1420)
    per_image = (237 + 110 + 164 + 67 + 219 + 66) / (16100 * 237)  # seconds per image, summed over the models
    # 10 snapshot passes: round 0 over 19,000 (x 2 seeds), rounds 1-2 of the 6 vote-reading runs over 18,000, 17,000
    assert stages["snapshot"] == pytest.approx(10 * (2 * 19000 + 6 * (18000 + 17000)) * per_image)
    assert stages["final"] == pytest.approx((2 * 20000 + 6 * (18000 + 17000)) * per_image)
    assert stages["test"] == pytest.approx((2 + 8 * 3) * 10000 * per_image)
    assert estimate["selection_seconds"] == pytest.approx(2 * 3 * 77.4)  # diam: 3 selections per seed


@pytest.mark.parametrize("argv", [["--estimate", "gpu-lite"],
                                  ["--estimate", "gpu-lite", "--rates", "x.jsonl", "--assume-rates", "1,2"],
                                  ["--estimate", "gpu-lite", "--assume-rates", "1420"],
                                  ["--estimate", "gpu-lite", "--assume-rates", "1420,fast"]])
def test_estimate_needs_exactly_one_source_of_rates(argv):
    with pytest.raises(SystemExit):
        load_benchmark("gpu_round").main(argv)


def test_gpu_lite_device_script_is_valid_bash():
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_lite.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
