"""A target model: a backbone that maps images to features, plus a linear head.

Every model in a zoo (OFA subnets and bring-your-own networks alike) has the same
interface, so the training loop and the strategies never look inside it.

References
----------
Sec. 5.2 and Algorithm 2 of the paper: each target model yields predictions and
penultimate-layer features; Sec. 6.1: a linear classification head on each target model.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["TargetModel", "ModelFactory", "wrap_module"]


class TargetModel(nn.Module):
    """A backbone (images -> penultimate features) followed by a linear head.

    Parameters
    ----------
    name : str
        Model name, unique within its zoo.
    backbone : torch.nn.Module
        Maps a batch of images (b, c, h, w) to features (b, feature_dim).
    feature_dim : int
        Width of the backbone's output (the penultimate layer).
    n_outputs : int
        Number of classes (logits) or regression outputs.

    Attributes
    ----------
    head : torch.nn.Linear
        The final layer, (feature_dim -> n_outputs).

    References
    ----------
    Algorithm 2, lines 3-5 (predictions and features of each target model); Sec. 6.1.
    """

    def __init__(self, name: str, backbone: nn.Module, feature_dim: int, n_outputs: int):
        super().__init__()
        if not isinstance(backbone, nn.Module):
            raise TypeError(f"backbone of {name!r} must be a torch.nn.Module, got {type(backbone).__name__}")
        for label, value in (("feature_dim", feature_dim), ("n_outputs", n_outputs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} of {name!r} must be a positive integer, got {value!r}")
        self.name = str(name)
        self.feature_dim = feature_dim
        self.n_outputs = n_outputs
        self.backbone = backbone
        self.head = nn.Linear(feature_dim, n_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features, (b, c, h, w) -> (b, feature_dim)."""
        feats = self.backbone(x)
        if feats.dim() != 2 or feats.shape[1] != self.feature_dim:
            raise ValueError(
                f"backbone of {self.name!r} returned features of shape {tuple(feats.shape)}; "
                f"expected (batch, {self.feature_dim}): fix feature_dim or flatten the backbone output"
            )
        return feats

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (b, n_outputs) and penultimate features (b, feature_dim) in one pass."""
        feats = self.features(x)
        return self.head(feats), feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits or regression outputs, (b, c, h, w) -> (b, n_outputs)."""
        return self.head(self.features(x))

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters (backbone and head)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, feature_dim={self.feature_dim}, n_outputs={self.n_outputs}"


ModelFactory = Callable[[int], TargetModel]
"""``n_outputs -> fresh TargetModel``, randomly initialised from torch's current RNG."""


def wrap_module(name: str, backbone: nn.Module, feature_dim: int, n_outputs: int) -> TargetModel:
    """Bring your own model: add a linear head to a feature extractor.

    Parameters
    ----------
    name : str
        Model name, unique within its zoo.
    backbone : torch.nn.Module
        Maps images (b, c, h, w) to features (b, feature_dim), e.g. a CNN ending in
        ``nn.AdaptiveAvgPool2d(1), nn.Flatten()`` or an MLP starting with ``nn.Flatten()``.
    feature_dim : int
        Width of the backbone's output.
    n_outputs : int
        Number of classes or regression outputs.

    Returns
    -------
    TargetModel

    References
    ----------
    Sec. 5.2 (features of each target model) and Sec. 6.1 (linear head).
    """
    return TargetModel(name, backbone, feature_dim, n_outputs)
