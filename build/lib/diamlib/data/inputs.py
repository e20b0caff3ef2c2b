"""Turn uint8 image batches into the float tensors the target networks take.

References
----------
Paper Sec. 6.1 (the target models are ImageNet-style MobileNetV3 subnets of OFA, so inputs are
normalised with the ImageNet channel statistics).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Statistics used for single-channel inputs: the averages of the ImageNet values.
GRAY_MEAN = sum(IMAGENET_MEAN) / 3
GRAY_STD = sum(IMAGENET_STD) / 3
#: ITU-R BT.601 luma weights, used when a colour image must become one channel.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def to_model_input(images_uint8_batch: torch.Tensor | np.ndarray, *, resolution: int, channels: int = 3) -> torch.Tensor:
    """Scale, resize, replicate and normalise a batch of uint8 images.

    Parameters
    ----------
    images_uint8_batch : uint8 tensor (or array), shape (b, H, W) or (b, H, W, 3)
    resolution : output side length; bilinear resize with antialiasing when it differs
    channels : 3 (grayscale is replicated) or 1 (colour is converted with luma weights)

    Returns
    -------
    float32 tensor, shape (b, channels, resolution, resolution): ``(x / 255 - mean) / std`` with
    ImageNet mean and std per channel (their averages for one channel), on the batch's device
    (a batch on a GPU is converted there).

    References
    ----------
    Paper Sec. 6.1.
    """
    batch = torch.as_tensor(images_uint8_batch)
    if batch.dtype != torch.uint8:
        raise TypeError(f"to_model_input expects uint8 images, got {batch.dtype}; pass the raw "
                        f"ArrayDataset.images")
    if batch.ndim == 4 and batch.shape[-1] == 3:
        x = batch.permute(0, 3, 1, 2).float()
    elif batch.ndim == 3:
        x = batch[:, None].float()
    else:
        raise ValueError(f"images must have shape (b, H, W) or (b, H, W, 3), got {tuple(batch.shape)}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if resolution < 1:
        raise ValueError(f"resolution must be a positive number of pixels, got {resolution}")
    if x.shape[0] == 0:
        return torch.empty(0, channels, resolution, resolution, device=x.device)
    x = x / 255.0
    if x.shape[-2:] != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
    if channels == 3:
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
    elif x.shape[1] == 3:
        x = (x * to_device(torch.tensor(LUMA_WEIGHTS), x.device).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    mean, std = (to_device(t, x.device) for t in normalisation(channels))
    return ((x - mean) / std).contiguous()


def normalisation(channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel ``(mean, std)`` of :func:`to_model_input`, each shaped (1, channels, 1, 1).

    ImageNet statistics for 3 channels, their averages for 1 channel.
    """
    if channels == 3:
        return torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    if channels == 1:
        return torch.tensor([GRAY_MEAN]).view(1, 1, 1, 1), torch.tensor([GRAY_STD]).view(1, 1, 1, 1)
    raise ValueError(f"channels must be 1 or 3, got {channels}")


def to_device(values: np.ndarray | torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """A host array (indices, random draws, constants) as a tensor on ``device``, without a stall.

    On CUDA the values go through page-locked memory and are copied asynchronously, so the GPU
    keeps working through the kernels already queued (a plain ``.to("cuda")`` waits for them);
    on the CPU the tensor shares the array's memory (``torch.as_tensor``, no copy).

    Parameters
    ----------
    values : ndarray or CPU tensor, any shape
    device : str or torch.device

    Returns
    -------
    tensor on ``device``, same shape and dtype.
    """
    tensor = torch.as_tensor(values)
    if torch.device(device).type != "cuda":
        return tensor
    return tensor.pin_memory().to(device, non_blocking=True)
