"""The SGD settings of a network's training rounds (a profile's ``training`` section).

:class:`TrainingParams` is read by :func:`diamlib.training.networks.train_model_round`; the
profile schema (:mod:`diamlib.config`) holds one per experiment section.

References
----------
Sec. 6.1 of the paper (SGD training of the target models).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TrainingParams(BaseModel):
    """SGD training of each target model.

    The paper (Sec. 6.1) states lr 7.5e-3, batch 128, momentum 0.9. The authors' published
    training script additionally uses a cosine learning-rate decay, Nesterov momentum, weight
    decay 3e-5 applied to neither BatchNorm nor bias parameters, label smoothing 0.1, batch
    size 120 and ImageNet-style training augmentation; every one of these is an option here
    (defaults: the plain SGD of the paper's text), so ``paper-*`` profiles can train as the
    authors ran.

    Attributes
    ----------
    lr_schedule : {"constant", "cosine"}
        ``cosine``: per optimisation step, ``lr_t = lr * (1 + cos(pi * t / t_total)) / 2``
        over the round's ``epochs``.
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0``).
    decay_norm_and_bias : bool
        Whether ``weight_decay`` also applies to BatchNorm weights and biases (the authors'
        ``no_decay_keys = "bn#bias"`` corresponds to ``false``).
    label_smoothing : float
        Cross-entropy label smoothing in [0, 1) (classification only).
    augmentation : {"none", "authors"}
        Training-time augmentation of classification inputs: ``authors`` = random resized
        crop (area 8-100 %, aspect 3/4-4/3), horizontal flip and brightness jitter of
        +-32/255, drawn from the round's seeded generator (:mod:`diamlib.data.augment`).
    amp : bool
        Mixed precision on CUDA (bfloat16 autocast for the forward and backward passes;
        weights and optimiser state stay float32). Needs ``device: cuda``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    epochs: int = Field(20, ge=1)
    batch_size: int = Field(128, ge=2)
    lr: float = Field(7.5e-3, gt=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    lr_schedule: Literal["constant", "cosine"] = "constant"
    nesterov: bool = False
    decay_norm_and_bias: bool = True
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    augmentation: Literal["none", "authors"] = "none"
    amp: bool = False

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> "TrainingParams":
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov: true needs momentum > 0 (e.g. momentum: 0.9), or set nesterov: false")
        return self
