"""The smallest real run (digits, two small target models), importable by tests and subprocesses.

``python tiny_run.py OUT [--kill NAME:N ...]`` runs it into ``OUT``; each ``--kill`` makes the
process SIGKILL itself at the ``N``-th call of one point of the loop (see :data:`KILL_POINTS`),
as a power cut or ``kill -9`` would.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from torch import nn

from diamlib.experiment.setup import profile_from_dict
from diamlib.zoo import custom_zoo, wrap_module

TASK = "classification"
METHODS = ("random", "diam")


def tiny_zoo():
    """A small CNN and an MLP on 8x8 inputs."""
    def cnn() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def mlp() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU())

    return custom_zoo({
        "cnn": lambda n_out: wrap_module("cnn", cnn(), 4, n_out),
        "mlp": lambda n_out: wrap_module("mlp", mlp(), 16, n_out),
    }, resolution=8)


def tiny_profile(strategies=METHODS, *, epochs: int = 1, beta: float = -1.0, **section):
    """Two rounds of 10 queries after 20 initial labels, on 120 training digits."""
    return profile_from_dict({
        "name": "tiny", "seeds": [0], "threads": 1, "progress": False, "execution": {"workers": 1},
        TASK: {"datasets": ["digits"], "train_size": 120, "test_size": 40, "zoo": "smoke3",
               "initial_labels": 20, "query_size": 10, "rounds": 2, "strategies": list(strategies),
               "strategy_options": {"diam": {"beta": beta}},
               "training": {"epochs": epochs, "batch_size": 16, "lr": 0.05}, **section},
    })


def run(out: Path, **kwargs):
    from diamlib.experiment.grid import run_task

    return run_task(tiny_profile(), TASK, out, zoo=tiny_zoo(), **kwargs)


def _kill_at(module, attribute: str, call: int) -> None:
    real = getattr(module, attribute)
    calls = [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(module, attribute, wrapper)


def _arm(point: str, call: int) -> None:
    import diamlib.experiment.loop as loop
    import diamlib.runstore as runstore

    module, attribute = KILL_POINTS[point]
    _kill_at(loop if module == "loop" else runstore, attribute, call)


#: Where a run can be killed: (module, function) whose N-th call is the moment.
KILL_POINTS = {
    "training": ("loop", "train_model_round"),        # one target model of a round
    "commit": ("runstore", "atomic_write_text"),      # run.json, after the round's CSV files
    "round0-cache": ("loop", "atomic_write_text"),    # round0.json, after evidence.npz
    "selection": ("loop", "run_strategy"),            # the strategy's call
}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--kill", default=None, help="POINT:N")
    args = parser.parse_args()
    if args.kill:
        point, call = args.kill.split(":")
        _arm(point, int(call))
    run(args.out)
    sys.exit(0)
