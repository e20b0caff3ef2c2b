"""The recorder's memory benchmark at a reduced size: it runs, and holds one copy of the features."""
from __future__ import annotations

from benchmark_scripts import load_benchmark


def test_reduced_run_prints_figures_and_keeps_one_copy_of_the_features(capsys):
    result = load_benchmark("recorder_memory").main(["--n-pool", "4000", "--dim", "512", "--epochs", "4"])
    assert result["snapshots"] == 3 and result["features_mib"] == round(4000 * 512 * 4 / 2**20, 1)
    # Python and numpy allocations while recording: the features once, plus labels, logits and one batch
    assert result["features_mib"] <= result["traced_peak_mib"] < 1.5 * result["features_mib"]
    assert result["rss_growth_mib"] >= 0 and result["seconds"] > 0
    assert '"features_mib"' in capsys.readouterr().out
