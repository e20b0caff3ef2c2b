"""The paper's 12 target models, reconstructed as OFA MobileNetV3 subnets.

Each published OFA specialised net is replaced by the supernet subnet found by
the search of ``tools/zoo_search.py``, whose parameters and MACs at 1,000 classes lie within 10% of the
published figures; the published id is kept as the model name.

References
----------
Sec. 6.1 of the paper (the 12 target models); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import pandas as pd

from diamlib.zoo.complexity import count_macs, count_parameters
from diamlib.zoo.ofa_arch import SubnetArch
from diamlib.zoo.ofa_build import subnet_net_config
from diamlib.zoo.ofa_counts import net_config_complexity
from diamlib.zoo.ofa_zoo import OFAMember, OFASubnetFactory
from diamlib.zoo.paper12_archs import PAPER12_ARCHS
from diamlib.zoo.published import PAPER12_PUBLISHED

__all__ = ["PAPER12_TOLERANCE", "paper12_members", "paper12_published_info", "paper12_match_table"]

PAPER12_TOLERANCE = 0.10
IMAGENET_CLASSES = 1000


def paper12_members() -> list[OFAMember]:
    """The 12 reconstructed subnets in published order (Note10, Note8, S7 Edge; slow to fast)."""
    members = []
    for net in PAPER12_PUBLISHED:
        stored = PAPER12_ARCHS[net.name]
        members.append(OFAMember(net.name, SubnetArch.from_dict(stored), stored["width_mult"], stored["resolution"]))
    return members


def paper12_published_info() -> dict[str, dict]:
    """Published figures per model, for the ``info`` of the specs."""
    return {net.name: {"published_top1": net.top1, "published_top5": net.top5,
                       "published_params": net.params, "published_macs": net.macs} for net in PAPER12_PUBLISHED}


def _count_built(member: OFAMember) -> tuple[int, int]:
    model = OFASubnetFactory(member.name, member.arch, member.width_mult)(IMAGENET_CLASSES)
    return count_parameters(model), count_macs(model, (3, member.resolution, member.resolution))


def paper12_match_table(*, count_built_models: bool = False) -> pd.DataFrame:
    """Published vs reconstructed parameters and MACs of the 12 target models (1,000 classes).

    Parameters
    ----------
    count_built_models : bool
        Build each network and count it (a second or two) instead of counting its
        configuration analytically (instant); both give the same numbers.

    Returns
    -------
    pandas.DataFrame
        One row per model in published order: ``name, width_mult, resolution,
        published_params, params, params_rel_error, published_macs, macs, macs_rel_error,
        within_tolerance, arch``.

    References
    ----------
    Sec. 6.1 of the paper.
    """
    published = {net.name: net for net in PAPER12_PUBLISHED}
    rows = []
    for member in paper12_members():
        if count_built_models:
            params, macs = _count_built(member)
        else:
            size = net_config_complexity(subnet_net_config(member.arch, member.width_mult), member.resolution,
                                         IMAGENET_CLASSES)
            params, macs = size.params, size.macs
        target = published[member.name]
        params_error, macs_error = params / target.params - 1.0, macs / target.macs - 1.0
        rows.append({
            "name": member.name, "width_mult": member.width_mult, "resolution": member.resolution,
            "published_params": target.params, "params": params, "params_rel_error": params_error,
            "published_macs": target.macs, "macs": macs, "macs_rel_error": macs_error,
            "within_tolerance": max(abs(params_error), abs(macs_error)) <= PAPER12_TOLERANCE,
            "arch": member.arch.summary(),
        })
    return pd.DataFrame(rows)
