"""Features of a frozen, ImageNet-pretrained OFA supernet, for single-model strategies.

With ``feature_model: supernet`` the single-model baselines (coreset, BADGE, BAIT) measure
distances in the feature space of a network that is never trained on the active-learning
data: the largest subnet (kernel 7, expand ratio 6, depth 4 everywhere) of the
ImageNet-pretrained OFA MobileNetV3 supernet of width 1.0, read at its penultimate layer
(the 1280-d output of the feature-mix layer, before the classifier). Its features of the
whole training set are computed once per (dataset, resolution) and reused in every round.

The authors' published code does the same with OFA's full-size network checkpoint
(``ofa_D4_E6_K7``, the same architecture before progressive shrinking); this module uses
the elastic supernet's weights, which :mod:`diamlib.zoo.pretrained` fetches and caches.

References
----------
Sec. 6.1 of the paper ("the distance is calculated using the features extracted by the
supernet in OFA"); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from diamlib.zoo.ofa_arch import SubnetArch
from diamlib.zoo.pretrained import fetch_supernet_weights, pretrained_net_id

__all__ = ["FEATURE_SUPERNET_WIDTH", "FEATURE_SUBNET", "SUPERNET_FEATURE_NAME", "supernet_description",
           "check_supernet_weights", "load_feature_supernet", "supernet_features"]

#: Width multiplier of the pretrained supernet whose features are used (the authors': 1.0).
FEATURE_SUPERNET_WIDTH = 1.0
#: The subnet read out: the largest one (kernel 7, expand ratio 6, depth 4 in every stage).
FEATURE_SUBNET = SubnetArch.uniform(ks=7, e=6, d=4)
#: Name of the feature source in evidence and run logs.
SUPERNET_FEATURE_NAME = f"supernet:{pretrained_net_id(FEATURE_SUPERNET_WIDTH)}:D4-E6-K7"


def supernet_description() -> str:
    """One line saying which network gives the features (for protocols and run metadata)."""
    return (f"frozen ImageNet-pretrained OFA supernet {pretrained_net_id(FEATURE_SUPERNET_WIDTH)}, largest subnet "
            f"(K7 E6 D4), penultimate features; never trained on the active-learning data")


def check_supernet_weights() -> None:
    """Make sure the supernet's weights are available, before any training starts.

    Raises
    ------
    FileNotFoundError
        Weights neither cached nor downloadable; the message names the file, the URL and
        the folder to copy it to (see :func:`diamlib.zoo.pretrained.fetch_supernet_weights`).
    """
    fetch_supernet_weights(FEATURE_SUPERNET_WIDTH)


def load_feature_supernet() -> nn.Module:
    """The frozen feature extractor: images (n, 3, r, r) -> features (n, 1280), in eval mode."""
    from diamlib.zoo.ofa_build import extract_pretrained_backbone
    from diamlib.zoo.pretrained import pretrained_supernet

    net = extract_pretrained_backbone(pretrained_supernet(FEATURE_SUPERNET_WIDTH), FEATURE_SUBNET)
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net.eval()


def supernet_features(images: np.ndarray, resolution: int, *, device: str = "cpu",
                      batch_size: int = 256) -> np.ndarray:
    """Penultimate features of the frozen supernet for every image.

    Parameters
    ----------
    images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3)
        Raw images (an ``ArrayDataset.images``); scaled, resized and normalised as the
        target models' inputs are (:func:`diamlib.data.to_model_input`).
    resolution : int
        Input side length.
    device : {"cpu", "cuda"}
    batch_size : int

    Returns
    -------
    ndarray of float32, shape (n, d)
        ``d`` = 1280 for the OFA supernet.

    References
    ----------
    Sec. 6.1 of the paper (coreset on the supernet's features).
    """
    from diamlib.data import to_model_input

    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    net = load_feature_supernet().to(device)
    chunks = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            batch = to_model_input(torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size])),
                                   resolution=resolution)
            out = net(batch.to(device))
            chunks.append(out.reshape(out.shape[0], -1).float().cpu().numpy())
    if not chunks:
        raise ValueError("no images to compute supernet features of")
    features = np.concatenate(chunks).astype(np.float32, copy=False)
    if not np.isfinite(features).all():
        raise ValueError("the supernet produced non-finite features; check the weights file and the inputs")
    return features
