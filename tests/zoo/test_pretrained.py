"""ImageNet-pretrained initialisation: cached weights are used; a missing file fails fast and clearly."""
import time

import pytest
import torch

from diamlib.zoo import build_zoo
from diamlib.zoo import pretrained as pretrained_module
from diamlib.zoo.ofa_build import new_supernet


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pretrained_module.Path, "home", staticmethod(lambda: tmp_path / "home"))
    pretrained_module.pretrained_supernet.cache_clear()
    yield
    pretrained_module.pretrained_supernet.cache_clear()


def test_missing_weights_without_network_fail_fast_with_the_fix(monkeypatch):
    def no_network(url, destination, timeout):
        raise OSError("network is unreachable")

    monkeypatch.setattr(pretrained_module, "_download", no_network)
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as error:
        build_zoo("paper12", n_outputs=10, pretrained=True)
    assert time.perf_counter() - start < 10
    message = str(error.value)
    assert "ofa_mbv3_d234_e346_k357_w1.0" in message and "network is unreachable" in message
    assert ".torch/ofa_nets" in message and "pretrained=False" in message


def test_pretrained_needs_a_width_with_published_weights():
    with pytest.raises(ValueError, match=r"width_mult=0.35.*\[1.0, 1.2\]"):
        build_zoo("cpu4", n_outputs=10, pretrained=True)


def test_cached_supernet_weights_initialise_the_backbone(tmp_path):
    torch.manual_seed(123)
    supernet = new_supernet(1.0)
    target = tmp_path / ".torch" / "ofa_nets" / "ofa_mbv3_d234_e346_k357_w1.0"
    target.parent.mkdir(parents=True)
    torch.save({"state_dict": supernet.state_dict()}, target)

    spec = build_zoo("paper12", n_outputs=5, pretrained=True, resolution=32)[3]
    torch.manual_seed(0)
    first = spec.factory(5)
    torch.manual_seed(1)
    second = spec.factory(5)
    torch.testing.assert_close(first.backbone.first_conv.conv.weight, supernet.first_conv.conv.weight)
    sub_block, super_block = first.backbone.blocks[1].conv, supernet.blocks[1].conv
    assert sub_block.kernel_size == spec.info["arch"]["ks"][0]
    torch.testing.assert_close(sub_block.point_linear.conv.weight,
                               super_block.point_linear.conv.conv.weight[:, : sub_block.mid_channels])
    assert torch.equal(first.backbone.feature_mix_layer.conv.weight, second.backbone.feature_mix_layer.conv.weight)
    assert not torch.equal(first.head.weight, second.head.weight)
    assert spec.info["pretrained"] is True
    assert first(torch.randn(2, 3, 32, 32)).shape == (2, 5)
