"""Zoos of OFA MobileNetV3 subnets: one factory and one ModelSpec per subnet.

References
----------
Sec. 6.1 of the paper (12 OFA MobileNetV3 target models); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from diamlib.zoo.ofa_arch import SubnetArch
from diamlib.zoo.ofa_build import build_backbone, check_width_mult, config_feature_dim, extract_pretrained_backbone, subnet_net_config
from diamlib.zoo.ofa_counts import net_config_complexity
from diamlib.zoo.pretrained import fetch_supernet_weights, pretrained_net_id, pretrained_supernet
from diamlib.zoo.spec import ModelSpec
from diamlib.zoo.target import TargetModel, wrap_module

__all__ = ["OFAMember", "OFASubnetFactory", "build_ofa_zoo"]


@dataclass(frozen=True)
class OFAMember:
    """A zoo member: a named subnet at a width multiplier and an input resolution."""

    name: str
    arch: SubnetArch
    width_mult: float
    resolution: int


class OFASubnetFactory:
    """``n_outputs -> TargetModel`` for one OFA subnet (random or ImageNet-pretrained init).

    Parameters
    ----------
    name : str
    arch : SubnetArch
    width_mult : float
        Supernet width multiplier.
    pretrained : bool
        Take the backbone's weights from the ImageNet-pretrained supernet (widths 1.0 and
        1.2 only); the linear head is always freshly initialised.
    channels_last : bool
        Store the convolution weights channels-last (several times faster training on CPU
        for these depthwise-separable nets).
    bn_momentum : float, optional
        Momentum of the batch-norm running statistics; default OFA's 0.1. Short training
        from scratch (a few dozen steps) needs a larger one, or the statistics used at
        evaluation lag far behind the weights.

    References
    ----------
    Sec. 6.1 of the paper (target models and their initialisation).
    """

    def __init__(self, name: str, arch: SubnetArch, width_mult: float, *, pretrained: bool = False,
                 channels_last: bool = False, bn_momentum: float | None = None):
        self.name = name
        self.arch = arch
        self.width_mult = check_width_mult(width_mult)
        self.pretrained = bool(pretrained)
        self.channels_last = bool(channels_last)
        if bn_momentum is not None and not 0.0 < bn_momentum <= 1.0:
            raise ValueError(f"bn_momentum must lie in (0, 1], got {bn_momentum}")
        self.bn_momentum = bn_momentum
        self.net_config = subnet_net_config(arch, self.width_mult)
        self.feature_dim = config_feature_dim(self.net_config)
        if self.pretrained:
            pretrained_net_id(self.width_mult)

    def backbone(self) -> torch.nn.Module:
        """A fresh feature extractor (random weights from torch's RNG, or pretrained ones)."""
        if self.pretrained:
            net = extract_pretrained_backbone(pretrained_supernet(self.width_mult), self.arch)
        else:
            net = build_backbone(self.net_config)
        if self.bn_momentum is not None:
            net.set_bn_param(momentum=self.bn_momentum, eps=self.net_config["bn"]["eps"])
        return net

    def __call__(self, n_outputs: int) -> TargetModel:
        model = wrap_module(self.name, self.backbone(), self.feature_dim, n_outputs)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def __repr__(self) -> str:
        return (f"OFASubnetFactory({self.name!r}, width_mult={self.width_mult}, pretrained={self.pretrained}, "
                f"arch={self.arch.summary()!r})")


def build_ofa_zoo(members: Sequence[OFAMember], *, n_outputs: int, width_mult: float | None = None,
                  resolution: int | None = None, pretrained: bool = False, channels_last: bool = False,
                  bn_momentum: float | None = None, extra_info: dict[str, dict] | None = None) -> list[ModelSpec]:
    """ModelSpecs of OFA subnets; ``width_mult`` / ``resolution`` override every member's.

    Parameters
    ----------
    members : sequence of OFAMember
    n_outputs : int
        Head size the recorded parameters and MACs refer to.
    width_mult, resolution : optional
        Replace each member's width multiplier / input resolution.
    pretrained : bool
        ImageNet-pretrained backbones; the weights are fetched now, so a missing file fails
        here with a clear error rather than during training.
    channels_last : bool
    bn_momentum : float, optional
        See :class:`OFASubnetFactory`.
    extra_info : dict, optional
        Member name -> additional ``info`` entries.

    Returns
    -------
    list of ModelSpec
        ``info`` holds ``family, arch, arch_summary, width_mult, pretrained, params, macs,
        n_outputs, feature_dim`` (+ extra entries).

    References
    ----------
    Sec. 6.1 of the paper.
    """
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise ValueError(f"n_outputs must be a positive integer, got {n_outputs!r}")
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1):
        raise ValueError(f"resolution must be a positive integer, got {resolution!r}")
    specs = []
    for member in members:
        width = member.width_mult if width_mult is None else width_mult
        res = member.resolution if resolution is None else resolution
        factory = OFASubnetFactory(member.name, member.arch, width, pretrained=pretrained,
                                   channels_last=channels_last, bn_momentum=bn_momentum)
        if pretrained:
            fetch_supernet_weights(factory.width_mult)
        size = net_config_complexity(factory.net_config, res, n_outputs)
        info = {
            "family": "ofa-mobilenetv3", "arch": member.arch.to_dict(), "arch_summary": member.arch.summary(),
            "width_mult": factory.width_mult, "pretrained": bool(pretrained), "params": size.params,
            "macs": size.macs, "n_outputs": n_outputs, "feature_dim": factory.feature_dim,
            "channels_last": bool(channels_last),
            "bn_momentum": bn_momentum if bn_momentum is not None else factory.net_config["bn"]["momentum"],
        }
        info.update((extra_info or {}).get(member.name, {}))
        specs.append(ModelSpec(name=member.name, factory=factory, resolution=res, info=info))
    return specs
