"""Parameters and multiply-accumulates (MACs) of any network, counted by running it once.

MACs follow the convention of the OFA project, which published the figures of the paper's
target models: convolutions and linear layers only (batch norm, activations, pooling and
the squeeze-and-excitation rescaling are free).

References
----------
Sec. 6.1 of the paper (target models of different sizes); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["count_parameters", "count_macs"]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _conv_macs(layer: nn.Conv2d, output: torch.Tensor) -> int:
    kernel = layer.kernel_size[0] * layer.kernel_size[1]
    return output.numel() * (layer.in_channels // layer.groups) * kernel


def _linear_macs(layer: nn.Linear, output: torch.Tensor) -> int:
    return output.numel() * layer.in_features


def count_macs(module: nn.Module, input_shape: tuple[int, int, int]) -> int:
    """MACs of one forward pass of a single input.

    Parameters
    ----------
    module : torch.nn.Module
        Any network; it is run once, in eval mode, without gradients, on zeros. Its
        train/eval mode is restored afterwards.
    input_shape : tuple of int
        One input without the batch axis, (channels, height, width).

    Returns
    -------
    int
        Sum over ``nn.Conv2d`` (output elements x input channels per group x kernel area)
        and ``nn.Linear`` (output elements x input features) of the per-example MACs.

    References
    ----------
    Sec. 6.1 of the paper (model sizes); same convention as ``ofa.utils.count_net_flops``.
    """
    if len(input_shape) != 3 or any(int(s) < 1 for s in input_shape):
        raise ValueError(f"input_shape must be (channels, height, width) of positive ints, got {input_shape!r}")
    total = 0

    def hook(layer: nn.Module, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            total += _conv_macs(layer, output)
        else:
            total += _linear_macs(layer, output)

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = module.training
    try:
        parameter = next(module.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        module.eval()
        with torch.no_grad():
            module(torch.zeros((1, *map(int, input_shape)), device=device))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    return int(total)
