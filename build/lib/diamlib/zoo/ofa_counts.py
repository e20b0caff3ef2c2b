"""Parameters and MACs of an OFA MobileNetV3 subnet, computed from its configuration.

No network is built, so thousands of candidate subnets can be scored per second (the
reconstruction of the paper's models searches over them). The result equals counting the
built network (``diamlib.zoo.complexity``; ``ofa.utils.count_net_flops``); the tests check it.

References
----------
Sec. 6.1 of the paper (parameters and MACs of the 12 target models); Cai et al., ICLR 2020.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Complexity", "net_config_complexity"]


@dataclass(frozen=True)
class Complexity:
    """Trainable parameters and per-example multiply-accumulates of a network."""

    params: int
    macs: int


def _conv_output_size(size: int, kernel: int, stride: int) -> int:
    padding = kernel // 2  # OFA's "same" padding for odd kernels
    return (size + 2 * padding - kernel) // stride + 1


def _conv(c_in: int, c_out: int, kernel: int, stride: int, size: int, *, groups: int = 1,
          bias: bool = False, batch_norm: bool = False) -> tuple[int, int, int]:
    """(params, MACs, output size) of a square Conv2d (+ optional bias and batch norm)."""
    out = _conv_output_size(size, kernel, stride)
    weights = c_out * (c_in // groups) * kernel * kernel
    params = weights + (c_out if bias else 0) + (2 * c_out if batch_norm else 0)
    return params, weights * out * out, out


def _conv_layer(config: dict, size: int) -> tuple[int, int, int]:
    """OFA ``ConvLayer`` (conv, optional batch norm, activation)."""
    if config.get("use_se") or config.get("has_shuffle") or config.get("dilation", 1) != 1:
        raise ValueError("only plain OFA ConvLayers (no SE, shuffle or dilation) are counted analytically")
    return _conv(config["in_channels"], config["out_channels"], config["kernel_size"], config["stride"], size,
                 groups=config.get("groups", 1), bias=config.get("bias", False), batch_norm=config["use_bn"])


def _se_mid_channels(channels: int) -> int:
    from ofa.utils import make_divisible
    from ofa.utils.pytorch_modules import SEModule
    from ofa.utils import MyNetwork

    return make_divisible(channels // SEModule.REDUCTION, divisor=MyNetwork.CHANNEL_DIVISIBLE)


def _mbconv_layer(config: dict, size: int) -> tuple[int, int, int]:
    """OFA ``MBConvLayer``: 1x1 expansion, depthwise conv, optional SE, 1x1 projection."""
    if config.get("groups") is not None:
        raise ValueError("grouped MBConv layers are not counted analytically")
    c_in, c_out, kernel, stride = config["in_channels"], config["out_channels"], config["kernel_size"], config["stride"]
    mid = config["mid_channels"] if config.get("mid_channels") is not None else round(c_in * config["expand_ratio"])
    params = macs = 0
    if config["expand_ratio"] != 1:
        p, m, size = _conv(c_in, mid, 1, 1, size, batch_norm=True)
        params, macs = params + p, macs + m
    p, m, size = _conv(mid, mid, kernel, stride, size, groups=mid, batch_norm=True)
    params, macs = params + p, macs + m
    if config["use_se"]:
        squeezed = _se_mid_channels(mid)
        for c_a, c_b in ((mid, squeezed), (squeezed, mid)):
            p, m, _ = _conv(c_a, c_b, 1, 1, 1, bias=True)
            params, macs = params + p, macs + m
    p, m, size = _conv(mid, c_out, 1, 1, size, batch_norm=True)
    return params + p, macs + m, size


def net_config_complexity(net_config: dict, resolution: int, n_outputs: int) -> Complexity:
    """Parameters and MACs of an OFA ``MobileNetV3`` configuration with a linear head.

    Parameters
    ----------
    net_config : dict
        ``OFAMobileNetV3.get_active_net_config()`` (or ``MobileNetV3.config``).
    resolution : int
        Input height and width.
    n_outputs : int
        Outputs of the linear head (1,000 for ImageNet, as in the published figures).

    Returns
    -------
    Complexity

    References
    ----------
    Sec. 6.1 of the paper (model sizes); Cai et al., ICLR 2020 (MACs convention of OFA).
    """
    if resolution < 1 or n_outputs < 1:
        raise ValueError(f"resolution and n_outputs must be positive, got {resolution} and {n_outputs}")
    params, macs, size = _conv_layer(net_config["first_conv"], resolution)
    for block in net_config["blocks"]:
        if block["conv"]["name"] != "MBConvLayer":
            raise ValueError(f"cannot count block of type {block['conv']['name']!r}; expected MBConvLayer")
        p, m, size = _mbconv_layer(block["conv"], size)
        params, macs = params + p, macs + m
    p, m, size = _conv_layer(net_config["final_expand_layer"], size)
    params, macs = params + p, macs + m
    p, m, _ = _conv_layer(net_config["feature_mix_layer"], 1)  # after global average pooling
    params, macs = params + p, macs + m
    features = net_config["feature_mix_layer"]["out_channels"]
    params += features * n_outputs + n_outputs
    macs += features * n_outputs
    return Complexity(params=int(params), macs=int(macs))
