"""Build OFA MobileNetV3 subnets as feature extractors, with the ``ofa`` package.

The supernet (``ofa``'s ``OFAMobileNetV3``) is built once per width multiplier; a subnet's
configuration comes from ``set_active_subnet`` + ``get_active_net_config`` and the network
itself from ``ofa``'s ``MobileNetV3.build_from_config`` (random initialisation) or
``get_active_subnet(preserve_weight=True)`` (ImageNet-pretrained supernet weights).

The backbone is OFA's ``MobileNetV3`` with its classifier replaced by the identity, so its
own forward (first conv, blocks, final expand layer, global average pooling, feature mix
layer) returns the penultimate features, 1,280-d at width 1.0.

References
----------
Sec. 6.1 of the paper (OFA MobileNetV3 target models); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import copy
from functools import lru_cache

import torch
from torch import nn

from diamlib.zoo.ofa_arch import DEPTHS, EXPAND_RATIOS, KERNEL_SIZES, SubnetArch

__all__ = [
    "check_width_mult", "new_supernet", "supernet", "subnet_net_config", "config_feature_dim",
    "build_backbone", "random_init", "extract_pretrained_backbone",
]

MIN_WIDTH_MULT = 0.1
MAX_WIDTH_MULT = 2.0


def check_width_mult(width_mult: float) -> float:
    """The width multiplier as a float, or a ValueError naming the valid range."""
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)):
        raise TypeError(f"width_mult must be a number, got {type(width_mult).__name__}")
    if not MIN_WIDTH_MULT <= width_mult <= MAX_WIDTH_MULT:
        raise ValueError(f"width_mult must lie in [{MIN_WIDTH_MULT}, {MAX_WIDTH_MULT}], got {width_mult}")
    return float(width_mult)


def new_supernet(width_mult: float):
    """A freshly built OFA MobileNetV3 supernet (k 3/5/7, e 3/4/6, d 2/3/4), no dropout.

    Built under a forked torch RNG, so building it never changes the random state that the
    target models are initialised from.
    """
    from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3

    with torch.random.fork_rng(devices=[]):
        return OFAMobileNetV3(
            n_classes=1000, dropout_rate=0.0, width_mult=check_width_mult(width_mult),
            ks_list=list(KERNEL_SIZES), expand_ratio_list=list(EXPAND_RATIOS), depth_list=list(DEPTHS),
        )


@lru_cache(maxsize=8)
def supernet(width_mult: float):
    """The shared, randomly initialised supernet of ``width_mult`` (used for configurations only)."""
    return new_supernet(width_mult)


def subnet_net_config(arch: SubnetArch, width_mult: float) -> dict:
    """OFA's ``MobileNetV3`` configuration of a subnet (1,000-class classifier).

    Parameters
    ----------
    arch : SubnetArch
    width_mult : float
        Width multiplier of the supernet (1.0 and 1.2 have published ImageNet weights).

    Returns
    -------
    dict
        As returned by ``OFAMobileNetV3.get_active_net_config()``; a private copy.

    References
    ----------
    Cai et al., ICLR 2020 (OFA), Sec. 3 (specialised subnets).
    """
    return copy.deepcopy(_cached_net_config(arch, check_width_mult(width_mult)))


@lru_cache(maxsize=4096)
def _cached_net_config(arch: SubnetArch, width_mult: float) -> dict:
    net = supernet(width_mult)
    net.set_active_subnet(**arch.to_dict())
    return net.get_active_net_config()


def config_feature_dim(net_config: dict) -> int:
    """Width of the penultimate features (output of the feature mix layer)."""
    return int(net_config["feature_mix_layer"]["out_channels"])


def _strip_classifier(net) -> nn.Module:
    net.classifier = nn.Identity()
    return net


def random_init(backbone: nn.Module) -> nn.Module:
    """OFA's own training initialisation ("he_fout") of convolutions and batch norms, in place."""
    from ofa.utils import init_models

    init_models(backbone, model_init="he_fout")
    return backbone


def build_backbone(net_config: dict) -> nn.Module:
    """A randomly initialised ``MobileNetV3`` feature extractor, images -> (b, feature_dim).

    Draws its weights from torch's current RNG (identical weights under the same seed).
    """
    from ofa.imagenet_classification.networks import MobileNetV3

    config = copy.deepcopy(net_config)
    net = MobileNetV3.build_from_config(config)
    return random_init(_strip_classifier(net))


def extract_pretrained_backbone(pretrained_supernet, arch: SubnetArch) -> nn.Module:
    """The subnet ``arch`` of a supernet carrying trained weights, as a feature extractor.

    References
    ----------
    Sec. 6.1 of the paper (target models initialised from ImageNet-pretrained weights).
    """
    pretrained_supernet.set_active_subnet(**arch.to_dict())
    net = pretrained_supernet.get_active_subnet(preserve_weight=True)
    return _strip_classifier(net)
