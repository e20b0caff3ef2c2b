"""The device-side input pipeline and the GPU pass settings, checked on the CPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from diamlib.data import to_model_input
from diamlib.data.inputs import to_device
from diamlib.training import networks
from diamlib.training.networks import EvalBatchSize, ModelInputs, PassSettings, predict, upload_images
from diamlib.training.params import CPU_EVAL_BATCH_SIZE, CUDA_EVAL_BATCH_START, DeviceOptions
from diamlib.zoo import wrap_module

GPU_OPTIONS = DeviceOptions(channels_last=True, cuda_graphs=True, eval_batch_size="auto")


def _images(n: int = 50, side: int = 12) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, side, side), dtype=np.uint8)


@pytest.mark.parametrize("cached", [True, False])
def test_batches_cut_from_one_upload_are_the_bytes_of_converting_the_whole_set(cached, monkeypatch):
    if not cached:
        monkeypatch.setattr(networks, "MAX_CACHED_INPUT_BYTES", 0)
    images = _images()
    whole = to_model_input(torch.from_numpy(images), resolution=20)
    uploaded = upload_images(images, "cpu")
    for resolution in (20, 8):  # one upload serves every resolution
        inputs = ModelInputs(uploaded, resolution)
        assert inputs.images is uploaded and (inputs._cache is not None) == cached
    inputs = ModelInputs(uploaded, 20)
    rows = np.array([7, 3, 3, 49, 0])
    for indices in (rows, to_device(rows, "cpu")):
        batch = inputs.batch(indices)
        assert batch.dtype == torch.float32 and batch.is_contiguous()
        assert torch.equal(batch, whole[rows])


def test_an_upload_on_the_cpu_shares_the_array():
    images = _images()
    assert upload_images(images, "cpu").data_ptr() == images.__array_interface__["data"][0]


def test_cpu_passes_ignore_every_gpu_setting():
    passes = PassSettings.of("cpu", amp=True, options=GPU_OPTIONS)
    assert not (passes.autocast or passes.channels_last or passes.cuda_graphs or passes.eval_batch.adaptive)
    assert passes.eval_batch.size == CPU_EVAL_BATCH_SIZE == 512
    model = nn.Linear(2, 2)
    assert passes.training_forward(model) is model and passes.place(model) is model
    x = torch.zeros(2, 3, 4, 4)
    assert passes.network_input(x) is x
    assert PassSettings.of("cpu", options=DeviceOptions(eval_batch_size=64)).eval_batch.size == 64


def test_cuda_passes_take_the_gpu_settings():
    passes = PassSettings.of("cuda:1", amp=True, options=GPU_OPTIONS)  # no GPU needed to resolve them
    assert passes.autocast and passes.channels_last and passes.cuda_graphs
    assert passes.eval_batch.adaptive and passes.eval_batch.size == CUDA_EVAL_BATCH_START
    x = passes.network_input(torch.zeros(2, 3, 4, 4))
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert not PassSettings.of("cuda", options=DeviceOptions(eval_batch_size=300)).eval_batch.adaptive


class _SmallMemory(nn.Module):
    """A model whose batches above ``limit`` images run out of (pretend) GPU memory."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit, self.sizes = limit, []
        self.net = wrap_module("m", nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 5)), 5, 3)
        self.feature_dim, self.n_outputs = 5, 3

    def forward(self, x):
        self.sizes.append(len(x))
        if len(x) > self.limit:
            raise torch.cuda.OutOfMemoryError("pretend")
        return self.net(x)


def test_auto_inference_batch_halves_after_out_of_memory_and_keeps_the_size():
    torch.manual_seed(0)
    model = _SmallMemory(limit=1000)
    inputs = ModelInputs(_images(3000, 6), 6)
    indices = np.arange(3000)
    passes = PassSettings("cpu", autocast=False, channels_last=False, cuda_graphs=False,
                          eval_batch=EvalBatchSize("auto", "cuda"))
    outputs, _ = predict(model, inputs, indices, passes)
    assert model.sizes[:5] == [3000, 3000, 2048, 1024, 512] and passes.eval_batch.size == 512
    assert all(size <= 512 for size in model.sizes[4:])
    np.testing.assert_allclose(outputs, model.net(inputs.batch(indices)).detach().numpy(), rtol=1e-5, atol=1e-6)
    model.sizes.clear()
    predict(model, inputs, indices[:600], passes)  # a later pass starts at the size found
    assert model.sizes == [512, 88]


def test_a_fixed_inference_batch_reraises_out_of_memory():
    model = _SmallMemory(limit=10)
    passes = PassSettings.of("cpu", options=DeviceOptions(eval_batch_size=64))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        predict(model, ModelInputs(_images(100, 6), 6), np.arange(100), passes)
