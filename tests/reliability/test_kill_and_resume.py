"""A run killed with SIGKILL at any moment resumes to results identical to an uninterrupted run."""
from __future__ import annotations

import pytest

from run_files import results_of, run_killed
from tiny_run import run


@pytest.mark.parametrize("kill", [
    "round0-cache:1",  # during round 0: evidence.npz written, round0.json not yet
    "commit:2",        # between round 1's CSV writes and its run.json
])
def test_killed_run_resumes_identically(kill, reference_run, tmp_path, capsys):
    out = tmp_path / "tiny"
    killed = run_killed(out, kill)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not list(out.rglob("*.tmp")), "no temporary file survives the kill"
    run(out)
    assert results_of(out) == results_of(reference_run)
    note = capsys.readouterr().err
    assert f"note: {out} was locked by pid " in note and "which no longer holds it (killed?); this run takes it " \
        "over" in note, "the killed run's lock is taken over with a note"


def test_three_kills_in_a_row_then_resume(reference_run, tmp_path):
    out = tmp_path / "tiny"
    # mid-training (round 1, first model), then mid-selection and between the CSV writes and
    # run.json of the resumed round 1
    for kill in ("training:3", "selection:1", "commit:1"):
        killed = run_killed(out, kill)
        assert killed.returncode == -9, killed.stderr[-2000:]
    run(out)
    assert results_of(out) == results_of(reference_run)
