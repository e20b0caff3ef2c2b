"""gpu-lite, the deep-network test sized for one GPU: it validates, and its grid is the one planned."""
from __future__ import annotations

import pytest

from diamlib.config import ConfigError
from diamlib.experiment import grid
from diamlib.experiment.grid import GridSpec, resolve_workers
from diamlib.experiment.setup import load_profile
from diamlib.zoo import build_zoo


@pytest.fixture(scope="module")
def profile():
    return load_profile("gpu-lite")


def test_gpu_lite_is_the_authors_protocol_on_a_gpu(profile):
    section = profile.classification
    assert profile.device == "cuda" and profile.regression is None and profile.sklearn is None
    assert section.datasets == ["fashion-mnist"] and section.zoo == "paper6" and not section.pretrained
    training = section.training
    assert (training.epochs, training.batch_size, training.lr, training.augmentation) == (20, 120, 0.0075, "authors")
    assert training.nesterov and training.lr_schedule == "cosine" and training.label_smoothing == 0.1
    assert training.amp and profile.device_options.channels_last and not profile.device_options.cuda_graphs
    assert profile.execution.workers == "auto" and profile.execution.workers_per_gpu == 4


def test_gpu_lite_zoo_is_six_paper_models_at_their_own_resolutions(profile):
    specs = build_zoo(profile.classification.zoo, n_outputs=10)
    assert len(specs) == 6 and {s.resolution for s in specs} <= set(range(160, 193))
    assert profile.analysis.model_subsets == [2, 4]


def test_gpu_lite_grid_is_8_runs_on_2_round_zeros_from_1000_to_4000_labels(profile, tmp_path):
    section = profile.classification
    runs = GridSpec(profile, "classification", tmp_path, methods=tuple(section.strategies)).runs()
    assert len(runs) == 8 and sorted({r.seed for r in runs}) == [0, 1]
    assert sorted({r.method for r in runs}) == ["cal", "diam", "diam-nodiv", "random"]
    labels = [section.initial_labels + r * section.query_size for r in range(section.rounds + 1)]
    assert labels == [1000, 2000, 3000, 4000] == labels[:-1] + [section.labels_at_last_round]
    assert (section.train_size, section.test_size) == (20000, 10000)


def test_gpu_lite_runs_four_workers_on_one_gpu(profile, monkeypatch):
    monkeypatch.setattr(grid, "available_gpus", lambda: 1)
    execution = profile.execution
    assert resolve_workers(execution.workers, 8, profile.device, execution.workers_per_gpu) == 4


@pytest.mark.parametrize("numerics", ["portable", "native"])
def test_gpu_lite_takes_either_cpu_numerics(numerics):
    assert load_profile("gpu-lite", {"numerics": numerics}).numerics == numerics


def test_gpu_lite_on_a_cpu_names_every_gpu_setting():
    with pytest.raises(ConfigError, match="classification.training.amp, device_options.channels_last, "
                                          "execution.workers_per_gpu need device: cuda"):
        load_profile("gpu-lite", {"device": "cpu"})
