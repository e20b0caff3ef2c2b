"""Sizes in a profile that no run can honour: resolved at once, or recorded and said as used."""
from __future__ import annotations

import json
import subprocess
import sys

from diamlib.experiment.grid import run_task
from run_files import results_of
from tiny_run import TASK, tiny_profile, tiny_zoo

HUGE = 10 ** 9


def test_validate_resolves_a_billion_epochs_at_once(tmp_path):
    profile = tmp_path / "long.yaml"
    profile.write_text("seeds: [0]\nclassification:\n  datasets: [digits]\n  zoo: smoke3\n  initial_labels: 10\n"
                       f"  query_size: 5\n  rounds: 1\n  strategies: [random]\n  training: {{epochs: {HUGE}}}\n")
    for extra in ([], ["--json"]):
        done = subprocess.run([sys.executable, "-m", "diamlib", "validate", "--profile", str(profile), *extra],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["classification"]["training"]["snapshot_epochs"] == {
        "first": HUGE // 2, "last": HUGE, "count": HUGE // 2 + 1}


def test_sizes_larger_than_the_dataset_use_all_of_it_and_say_so(tmp_path, capsys):
    asked = tmp_path / "asked"
    folders = run_task(tiny_profile(train_size=HUGE, test_size=HUGE), TASK, asked, zoo=tiny_zoo())
    err = capsys.readouterr().err
    meta = json.loads((folders[0] / "run.json").read_text())
    used = meta["data_sizes"]
    assert used["train"] < HUGE and used["test"] < HUGE
    assert (f"note: classification.train_size is {HUGE}, but digits has {used['train']} train examples: its runs "
            f"use all {used['train']} (run.json records data_sizes); set classification.dataset_sizes.digits.train_size "
            f"to {used['train']} to make the profile say so") in err
    assert f"note: classification.test_size is {HUGE}, but digits has {used['test']} test examples" in err
    whole = tmp_path / "whole"
    run_task(tiny_profile(train_size=None, test_size=None), TASK, whole, zoo=tiny_zoo())
    assert results_of(asked) == results_of(whole), "the same runs as a profile asking for the whole sets"
    assert "note:" not in capsys.readouterr().err
