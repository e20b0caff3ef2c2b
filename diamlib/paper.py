"""The paper's experimental settings, to show next to what a profile actually runs.

References
----------
Sec. 6.1 (classification: 12 OFA nets, 3,000 initial labels, tau = 1,500, 20 epochs of SGD
with lr 7.5e-3, batch 128, momentum 0.9, ImageNet-pretrained) and Sec. 6.6 (regression: MSE
loss, batch 64, 500 initial labels, 300 (LFW+NET) or 600 (CelebA) queries per round).
"""
from __future__ import annotations

import pandas as pd

from diamlib.config import Profile

PAPER_SETTINGS: dict[str, dict[str, str]] = {
    "classification": {
        "target models": "12 OFA MobileNetV3 subnets (paper12)",
        "initialisation": "ImageNet-pretrained supernet weights",
        "input resolution": "160-224 px (per model)",
        "training set": "full (50,000-240,000 images)",
        "initial labels": "3000",
        "query size (tau)": "1500",
        "query rounds": "10",
        "epochs per round": "20",
        "batch size": "128",
        "learning rate": "0.0075",
        "seeds": "1",
        "device": "GPU (RTX 2080)",
    },
    "regression": {
        "target models": "12 OFA MobileNetV3 subnets (paper12)",
        "initialisation": "ImageNet-pretrained supernet weights",
        "input resolution": "160-224 px (per model)",
        "training set": "13,466 (LFW+NET) / 162,770 (CelebA)",
        "initial labels": "500",
        "query size (tau)": "300 (LFW+NET) / 600 (CelebA)",
        "query rounds": "10",
        "epochs per round": "20",
        "batch size": "64",
        "learning rate": "0.0075",
        "seeds": "1",
        "device": "GPU (RTX 2080)",
    },
}


def profile_settings(profile: Profile, task: str, zoo_description: str, resolutions: str) -> dict[str, str]:
    """The same settings as :data:`PAPER_SETTINGS`, read from ``profile``."""
    section = profile.experiment(task)
    return {
        "target models": zoo_description,
        "initialisation": "ImageNet-pretrained supernet weights" if section.pretrained else "random (from scratch)",
        "input resolution": resolutions,
        "training set": "full" if section.train_size is None else f"{section.train_size} (random subset)",
        "initial labels": str(section.initial_labels),
        "query size (tau)": str(section.query_size),
        "query rounds": str(section.rounds),
        "epochs per round": str(section.training.epochs),
        "batch size": str(section.training.batch_size),
        "learning rate": f"{section.training.lr:g}",
        "seeds": str(len(profile.seeds)),
        "device": profile.device.upper() if profile.device == "cpu" else "GPU (CUDA)",
    }


def settings_versus_paper(profile: Profile, task: str, zoo_description: str, resolutions: str) -> pd.DataFrame:
    """Table ``setting | paper | this profile | same?`` for the notebooks' set-up section."""
    ours = profile_settings(profile, task, zoo_description, resolutions)
    rows = [
        {"setting": key, "paper": paper, "this profile": ours[key], "same as paper": paper == ours[key]}
        for key, paper in PAPER_SETTINGS[task].items()
    ]
    return pd.DataFrame(rows)
