"""Counting parameters and MACs, by hooks and analytically, against known answers."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from diamlib.zoo import count_macs, count_parameters
from diamlib.zoo.ofa_arch import random_arch
from diamlib.zoo.ofa_build import subnet_net_config
from diamlib.zoo.ofa_counts import net_config_complexity


def test_macs_of_a_known_tiny_net():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),     # 4x4 out: 16 * 8 * 27 = 3456
        nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8),     # depthwise: 16 * 8 * 9 = 1152
        nn.Conv2d(8, 16, 1),                         # pointwise: 16 * 16 * 8 = 2048
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 10),                           # 160
    )
    assert count_macs(net, (3, 8, 8)) == 3456 + 1152 + 2048 + 160
    assert count_parameters(net) == (8 * 27 + 8) + 16 + (8 * 9 + 8) + (16 * 8 + 16) + (16 * 10 + 10)


def test_count_macs_restores_training_mode():
    net = nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2))
    net.train()
    count_macs(net, (3, 4, 4))
    assert net.training


def test_count_macs_rejects_a_batched_shape():
    with pytest.raises(ValueError, match="channels, height, width"):
        count_macs(nn.Conv2d(3, 2, 1), (1, 3, 4, 4))


@pytest.mark.parametrize("width_mult, resolution, n_outputs", [(1.0, 64, 1000), (1.2, 35, 7), (0.35, 28, 10), (0.25, 17, 3)])
def test_analytic_counts_equal_counts_of_the_built_network(width_mult, resolution, n_outputs):
    from ofa.imagenet_classification.networks import MobileNetV3
    from ofa.utils.pytorch_utils import count_net_flops

    arch = random_arch(np.random.default_rng(resolution))
    config = subnet_net_config(arch, width_mult)
    config["classifier"]["out_features"] = n_outputs
    net = MobileNetV3.build_from_config(copy.deepcopy(config))
    analytic = net_config_complexity(config, resolution, n_outputs)
    assert analytic.params == count_parameters(net)
    assert analytic.macs == count_macs(net, (3, resolution, resolution))
    assert analytic.macs == pytest.approx(count_net_flops(net, (1, 3, resolution, resolution)), rel=1e-6)
