"""EvidenceRecorder on real torchvision networks and real Fashion-MNIST images.

The recorder, called from a plain PyTorch loop, must record what the suite's own evidence pass
(:func:`diamlib.training.networks.predict` on a :class:`~diamlib.zoo.target.TargetModel` made of
the same modules and weights) records, and ``select`` on its files must give the in-process batch.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from diamlib.data.mnist_family import DEBIAN_FASHION_MNIST_DIR, load_idx_dataset
from diamlib.evidence import Evidence, ModelEvidence, snapshot_epochs
from diamlib.training.networks import ModelInputs, PassSettings, predict
from diamlib.training.params import CPU_EVAL_BATCH_SIZE
from diamlib.userfiles.evidence_files import EvidenceFileError, run_select, select_on_evidence
from diamlib.userfiles.torch_evidence import EvidenceRecorder, penultimate_layer
from diamlib.zoo.target import TargetModel

N_LABELED, N_POOL, RESOLUTION, EPOCHS = 40, 96, 32, 4
pytestmark = pytest.mark.skipif(not DEBIAN_FASHION_MNIST_DIR.is_dir(),
                                reason="Fashion-MNIST (Debian's dataset-fashion-mnist) is not installed")


@pytest.fixture(scope="module")
def fashion() -> dict[str, torch.Tensor | np.ndarray]:
    """A labeled set and a pool of real Fashion-MNIST images, as 3-channel 32 px network inputs."""
    data = load_idx_dataset("fashion-mnist", split="train", root=DEBIAN_FASHION_MNIST_DIR, download=False)
    order = np.random.default_rng(0).permutation(len(data.targets))[: N_LABELED + N_POOL]
    inputs = ModelInputs(data.images[order], RESOLUTION)
    return {"inputs": inputs, "labeled": np.arange(N_LABELED), "pool": np.arange(N_LABELED, N_LABELED + N_POOL),
            "targets": torch.from_numpy(data.targets[order]), "ids": np.array([f"fm-{i}" for i in order[N_LABELED:]])}


def torchvision_model(name: str, seed: int) -> nn.Module:
    torch.manual_seed(seed)  # torchvision initialises from torch's RNG; weights=None: random init
    return getattr(torchvision.models, name)(weights=None, num_classes=10)


def as_target_model(model: nn.Module, name: str) -> TargetModel:
    """The suite's model interface over a copy of ``model``: backbone = up to the last linear layer, head = it."""
    backbone = copy.deepcopy(model)
    path = penultimate_layer(backbone)
    parent_name, _, child = path.rpartition(".")
    parent = backbone.get_submodule(parent_name) if parent_name else backbone
    last = getattr(parent, child)
    setattr(parent, child, nn.Identity())
    target = TargetModel(name, backbone, last.in_features, last.out_features)
    target.head.load_state_dict(last.state_dict())
    return target


def train_and_record(name: str, fashion, seed: int = 0):
    """A user's loop: SGD on the labeled set, the recorder after every epoch; the suite's pass beside it."""
    model = torchvision_model(name, seed)
    inputs, labeled, pool = fashion["inputs"], fashion["labeled"], fashion["pool"]
    pool_x = inputs.batch(pool)
    recorder = EvidenceRecorder(pool_x, epochs=EPOCHS, labeled=inputs.batch(labeled), pool_ids=fashion["ids"],
                                batch_size=CPU_EVAL_BATCH_SIZE)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    generator = torch.Generator().manual_seed(seed)
    passes = PassSettings.of("cpu")
    suite_labels = []
    for epoch in range(1, EPOCHS + 1):
        model.train()
        for batch in torch.randperm(N_LABELED, generator=generator).split(10):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs.batch(labeled[batch.numpy()])),
                                               fashion["targets"][labeled[batch.numpy()]])
            loss.backward()
            optimizer.step()
        recorded = recorder.record(model, epoch)
        assert recorded == (epoch in snapshot_epochs(EPOCHS))
        assert model.training  # the user's mode is back
        if recorded:
            target = as_target_model(model, name)
            out, feats = predict(target, inputs, pool, passes, with_features=True)
            suite_labels.append(out.argmax(axis=1).astype(np.int32))
    _, labeled_feats = predict(target, inputs, labeled, passes, with_features=True)
    suite = ModelEvidence(name=name, pool_features=feats, labeled_features=labeled_feats,
                          pool_probs=torch.softmax(torch.from_numpy(out), dim=1).numpy(),
                          snapshot_predictions=np.stack(suite_labels), n_parameters=target.n_parameters)
    return model, recorder, suite


@pytest.fixture(scope="module")
def recorded(fashion) -> dict[str, tuple]:
    return {name: train_and_record(name, fashion, seed) for seed, name in
            enumerate(("mobilenet_v3_small", "resnet18"))}


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "resnet18"])
def test_recorded_arrays_equal_the_suites_evidence(recorded, name):
    _, recorder, suite = recorded[name]
    assert recorder.epochs_recorded == list(snapshot_epochs(EPOCHS))
    np.testing.assert_array_equal(recorder.snapshot_predictions, suite.snapshot_predictions)
    np.testing.assert_array_equal(recorder.pool_features, suite.pool_features)
    np.testing.assert_array_equal(recorder.labeled_features, suite.labeled_features)
    np.testing.assert_array_equal(recorder.pool_probs, suite.pool_probs)
    assert recorder.n_parameters == suite.n_parameters
    assert recorder.pool_features.dtype == np.float32 and recorder.pool_features.shape[0] == N_POOL


def test_select_on_the_files_gives_the_in_process_batch(recorded, fashion, tmp_path: Path):
    paths, models = [], []
    for name, (_, recorder, suite) in recorded.items():
        paths.append(recorder.save(tmp_path / f"{name}.npz"))
        models.append(suite)
    evidence = Evidence(task="classification", unlabeled_indices=np.arange(N_POOL, dtype=np.int64),
                        models=tuple(models), feature_model=int(np.argmax([m.n_parameters for m in models])))
    in_process = select_on_evidence(evidence, strategy="diam", budget=8, seed=3)
    _, _, from_files = run_select(paths, budget=8, out=tmp_path / "batch.csv", strategy="diam", seed=3)
    np.testing.assert_array_equal(from_files.indices, in_process.indices)
    batch = (tmp_path / "batch.csv").read_text().splitlines()
    assert fashion["ids"][in_process.indices[0]] in batch[1]


def test_the_models_state_and_grad_mode_come_back(fashion):
    model = torchvision_model("mobilenet_v3_small", 5)
    model.train()
    model.features[0][1].eval()  # a user's frozen BatchNorm stays in eval mode
    before = copy.deepcopy(model.state_dict())
    flags = {n: m.training for n, m in model.named_modules()}
    recorder = EvidenceRecorder(fashion["inputs"].batch(fashion["pool"]), epochs=2)
    with torch.enable_grad():
        assert recorder.record(model, 1) and recorder.record(model, 2)
        assert torch.is_grad_enabled()
    with torch.no_grad():
        EvidenceRecorder(fashion["inputs"].batch(fashion["pool"]), epochs=1).record(model, 1)
        assert not torch.is_grad_enabled()
    assert {n: m.training for n, m in model.named_modules()} == flags
    for key, value in model.state_dict().items():  # BatchNorm running statistics untouched
        assert torch.equal(value, before[key]), key


def test_a_named_layer_and_a_data_loader(fashion):
    model = torchvision_model("resnet18", 2)
    pool_x = fashion["inputs"].batch(fashion["pool"])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(pool_x, torch.zeros(N_POOL)), batch_size=32)
    by_loader = EvidenceRecorder(loader, epochs=1, layer="avgpool")
    by_tensor = EvidenceRecorder(pool_x, epochs=1)
    by_loader.record(model, 1)
    by_tensor.record(model, 1)
    assert by_loader.pool_features.shape == (N_POOL, 512)  # avgpool's (n, 512, 1, 1), flattened
    nothing_labeled = EvidenceRecorder(pool_x, epochs=1, labeled=pool_x[:0])
    nothing_labeled.record(model, 1)
    assert nothing_labeled.labeled_features.shape == (0, 512)
    np.testing.assert_allclose(by_loader.pool_features, by_tensor.pool_features, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(by_loader.snapshot_predictions, by_tensor.snapshot_predictions)


def test_misuse_is_refused_with_the_fix(fashion, tmp_path: Path):
    model = torchvision_model("resnet18", 1)
    pool_x = fashion["inputs"].batch(fashion["pool"])
    with pytest.raises(ValueError, match="positive integer"):
        EvidenceRecorder(pool_x, epochs=0)
    recorder = EvidenceRecorder(pool_x, epochs=6)
    assert not recorder.record(model, 1)  # before floor(T/2): nothing to record
    with pytest.raises(ValueError, match="outside 1..6"):
        recorder.record(model, 7)
    with pytest.raises(ValueError, match="next: 3"):
        recorder.record(model, 4)  # epoch 3 skipped
    assert recorder.record(model, 3)
    with pytest.raises(EvidenceFileError, match=r"epochs \[4, 5, 6\]"):
        recorder.save(tmp_path / "early.npz")
    assert not (tmp_path / "early.npz").exists()
    with pytest.raises(ValueError, match="not a module"):
        EvidenceRecorder(pool_x, epochs=1, layer="nope").record(model, 1)
    with pytest.raises(ValueError, match="no nn.Linear"):
        EvidenceRecorder(pool_x, epochs=1).record(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten()), 1)
