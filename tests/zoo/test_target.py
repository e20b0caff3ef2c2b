"""Bring-your-own target models: a linear head on any feature extractor."""
import pytest
import torch
from torch import nn

from diamlib.zoo import TargetModel, custom_zoo, wrap_module, zoo_table


def small_cnn(width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def small_mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU())


@pytest.mark.parametrize("backbone, feature_dim", [(small_cnn(4), 4), (small_mlp(), 16)])
def test_wrapped_module_gives_outputs_and_features(backbone, feature_dim):
    model = wrap_module("byo", backbone, feature_dim, 5)
    x = torch.randn(6, 3, 8, 8)
    outputs, features = model.forward_with_features(x)
    assert isinstance(model, TargetModel) and model.name == "byo"
    assert outputs.shape == (6, 5) and features.shape == (6, feature_dim)
    assert model.feature_dim == feature_dim and model.n_outputs == 5
    torch.testing.assert_close(model(x), outputs)
    torch.testing.assert_close(outputs, features @ model.head.weight.T + model.head.bias)


def test_n_parameters_counts_backbone_and_head():
    model = wrap_module("cnn", small_cnn(4), 4, 3)
    conv = 4 * 3 * 3 * 3 + 4
    head = 4 * 3 + 3
    assert model.n_parameters == conv + head


def test_wrong_feature_dim_is_reported_with_the_fix():
    model = wrap_module("cnn", small_cnn(4), 7, 3)
    with pytest.raises(ValueError, match=r"shape \(2, 4\).*expected \(batch, 7\)"):
        model(torch.randn(2, 3, 8, 8))


@pytest.mark.parametrize("feature_dim, n_outputs", [(0, 3), (4, 0), (4.0, 3)])
def test_bad_sizes_are_rejected(feature_dim, n_outputs):
    with pytest.raises(ValueError, match="positive integer"):
        wrap_module("cnn", small_cnn(4), feature_dim, n_outputs)


def test_backbone_must_be_a_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        wrap_module("f", lambda x: x, 4, 3)


def test_custom_zoo_and_its_table():
    specs = custom_zoo({
        "cnn": lambda n: wrap_module("cnn", small_cnn(4), 4, n),
        "mlp": lambda n: wrap_module("mlp", small_mlp(), 16, n),
    }, resolution=8)
    assert [s.name for s in specs] == ["cnn", "mlp"] and all(s.resolution == 8 for s in specs)
    table = zoo_table(specs, n_outputs=3)
    assert table["params"].tolist() == [4 * 27 + 4 + 4 * 3 + 3, 192 * 16 + 16 + 16 * 3 + 3]
    # conv: 8*8 outputs x 4 channels x 27 MACs, head 4*3; MLP: 192*16 + 16*3
    assert table["macs"].tolist() == [64 * 4 * 27 + 12, 192 * 16 + 48]


def test_custom_zoo_leaves_the_torch_rng_alone_when_tabulated():
    specs = custom_zoo({"cnn": lambda n: wrap_module("cnn", small_cnn(4), 4, n)}, resolution=8)
    torch.manual_seed(3)
    zoo_table(specs)
    after_table = torch.rand(1)
    torch.manual_seed(3)
    assert torch.equal(torch.rand(1), after_table)


def test_custom_zoo_rejects_repeated_names_and_bad_resolution():
    factory = lambda n: wrap_module("cnn", small_cnn(4), 4, n)  # noqa: E731
    with pytest.raises(ValueError, match="at least one"):
        custom_zoo({}, resolution=8)
    with pytest.raises(ValueError, match="resolution"):
        custom_zoo({"cnn": factory}, resolution=0)
