"""Ctrl-C, SIGTERM and a second run on the same folder, on real ``python -m diamlib run`` processes.

Each test starts the command line on a tiny profile (notebook 02 only, digits, two rounds) and
acts once its experiment grid has started; after Ctrl-C the same command resumes the run.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import load_profile
from run_files import results_of

TINY_PROFILE = """\
seeds: [0]
threads: 1
progress: false
execution: {workers: %s}
classification:
  datasets: [digits]
  train_size: 200
  test_size: 60
  zoo: smoke3
  resolution: 8
  initial_labels: 30
  query_size: 10
  rounds: 2
  strategies: [random, diam, diam-nodiv]
  training: {epochs: 2, batch_size: 16, lr: 0.05}
"""


def tiny_profile(tmp_path: Path, workers: int) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_PROFILE % workers)
    return path


def start_run(profile: Path, results: Path) -> subprocess.Popen:
    """``python -m diamlib run --only 02`` in its own session, as a terminal's foreground job."""
    return subprocess.Popen([sys.executable, "-m", "diamlib", "run", "--profile", str(profile), "--only", "02",
                             "--results-root", str(results)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for_the_grid(run: subprocess.Popen, folder: Path, timeout: float = 180) -> list[psutil.Process]:
    """Wait until the notebook's grid has written its round-0 folder; returns the run's processes."""
    deadline = time.monotonic() + timeout
    while not list(folder.glob("classification/digits/_round0/seed0")):
        if run.poll() is not None or time.monotonic() > deadline:
            run.kill()
            pytest.fail(f"the run ended or stalled before its grid started: {run.communicate()[1][-3000:]}")
        time.sleep(0.2)
    return psutil.Process(run.pid).children(recursive=True)


def assert_stopped_with_one_line(run: subprocess.Popen, processes, folder: Path, how: str, code: int) -> None:
    _, err = run.communicate(timeout=120)
    assert run.returncode == code, err
    assert "Traceback" not in err and "Kernel died" not in err and "Task exception" not in err, err
    kept = folder / "02_classification.INTERRUPTED.ipynb"
    assert err.strip().splitlines()[-1] == (
        f"interrupted ({how}): every completed round is saved under {folder}; the partial notebook is {kept}; "
        f"run the same command again to resume")
    assert kept.is_file() and not (folder / "02_classification.ipynb").exists()
    assert (folder / ".diamlib.lock").read_text() == "", "the lock is released"
    time.sleep(0.5)
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], \
        "the kernel and its Dask workers are stopped"


def test_ctrl_c_prints_one_line_keeps_the_notebook_as_interrupted_and_the_same_command_resumes(tmp_path):
    folder = tmp_path / "results" / "tiny"
    profile = tiny_profile(tmp_path, workers=2)
    run = start_run(profile, tmp_path / "results")
    processes = wait_for_the_grid(run, folder)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    assert_stopped_with_one_line(run, processes, folder, "Ctrl-C", 130)

    again = start_run(profile, tmp_path / "results")
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert (folder / "02_classification.ipynb").is_file()
    assert not (folder / "02_classification.INTERRUPTED.ipynb").exists(), "the resumed run replaces it"
    reference = tmp_path / "reference"
    run_task(load_profile(profile), "classification", reference, workers=1)
    assert results_of(folder / "classification") == results_of(reference / "classification"), \
        "resumed after Ctrl-C: the same results as one uninterrupted run"


def test_a_second_run_is_refused_naming_the_first_which_sigterm_stops_like_ctrl_c(tmp_path):
    folder = tmp_path / "results" / "tiny"
    profile = tiny_profile(tmp_path, workers=1)
    first = start_run(profile, tmp_path / "results")
    processes = wait_for_the_grid(first, folder)
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "diamlib", "run", "--profile", str(profile), "--only", "02",
                             "--results-root", str(tmp_path / "results")], capture_output=True, text=True,
                            timeout=120)
    assert second.returncode == 1, second.stderr
    assert time.monotonic() - started < 30, "refused at once, before any kernel starts"
    assert "02_classification.ipynb on" not in second.stderr
    holder = json.loads((folder / ".diamlib.lock").read_text())
    assert second.stderr.startswith(
        f"error: results folder {folder} is in use by another run (pid {first.pid} on host "
        f"{socket.gethostname()}, started {holder['started']}, running `python -m diamlib run --profile {profile} "
        f"--only 02 --results-root {tmp_path / 'results'}`)")
    assert f"stop it (kill {first.pid}" in second.stderr
    first.send_signal(signal.SIGTERM)
    assert_stopped_with_one_line(first, processes, folder, "SIGTERM", 143)
