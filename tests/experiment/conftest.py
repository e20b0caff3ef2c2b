from __future__ import annotations

import pytest
from torch import nn

from diamlib.experiment.setup import profile_from_dict
from diamlib.zoo import custom_zoo, wrap_module


def _cnn(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU())


@pytest.fixture
def user_zoo():
    """A user-defined zoo: two small CNNs of different width and an MLP."""
    return custom_zoo({
        "cnn-4": lambda n_out: wrap_module("cnn-4", _cnn(4), 8, n_out),
        "cnn-8": lambda n_out: wrap_module("cnn-8", _cnn(8), 16, n_out),
        "mlp": lambda n_out: wrap_module("mlp", _mlp(), 32, n_out),
    }, resolution=8)


def _make_profile(task: str = "classification", strategies=("random", "diam"), rounds: int = 2):
    dataset = "digits" if task == "classification" else "landmarks-digits"
    return profile_from_dict({
        "name": "looptest", "seeds": [0], "threads": 1, "progress": False, "execution": {"workers": 1},
        task: {
            "datasets": [dataset], "train_size": 240, "test_size": 80, "zoo": "smoke3",
            "initial_labels": 30, "query_size": 20, "rounds": rounds, "strategies": list(strategies),
            "training": {"epochs": 2, "batch_size": 16, "lr": 0.05},
        },
    })


@pytest.fixture
def make_profile():
    """Factory of small profiles on real digits data (classification or landmark regression)."""
    return _make_profile
