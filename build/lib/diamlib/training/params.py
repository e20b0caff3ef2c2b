"""The SGD settings of a network's training rounds (a profile's ``training`` section).

:class:`TrainingParams` is read by :func:`diamlib.training.networks.train_model_round`; the
profile schema (:mod:`diamlib.config`) holds one per experiment section.

References
----------
Sec. 6.1 of the paper (SGD training of the target models).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


#: ``eval_batch_size: auto``: the inference batch on the CPU (what every CPU figure and stored result used).
CPU_EVAL_BATCH_SIZE = 512
#: ``eval_batch_size: auto``: the first inference batch tried on CUDA, halved on each out-of-memory error.
CUDA_EVAL_BATCH_START = 8192


class DeviceOptions(BaseModel):
    """How a network's passes use a GPU (a profile's ``device_options``): speed, not the experiment.

    Every option acts on CUDA only; on the CPU the passes stay float32, NCHW, 512 images per
    inference batch, so CPU numbers never move (a profile with ``device: cpu`` refuses the
    options, :class:`diamlib.config.Profile`). On CUDA they change the order of floating-point
    operations, as another GPU model or cuDNN algorithm would, not what is trained; so they are
    not part of a run's settings fingerprint and a run may resume with other options.

    Attributes
    ----------
    channels_last : bool
        Models and input batches in channels-last (NHWC) memory format, which the tensor-core
        convolutions of cuDNN prefer.
    eval_batch_size : int or "auto"
        Images per inference batch (snapshot passes, the final pool pass, the test pass).
        ``auto``: on CUDA the largest batch that fits, starting at :data:`CUDA_EVAL_BATCH_START`
        and halving on each out-of-memory error (the size found is kept for the round's later
        passes); on the CPU :data:`CPU_EVAL_BATCH_SIZE`.
    cuda_graphs : bool
        Compile the training forward and backward passes with
        ``torch.compile(mode="reduce-overhead")``, which replays them as CUDA graphs: one launch
        per step instead of hundreds of kernel launches (small batches of these networks are
        launch bound). Opt-in: each model of each round is compiled afresh, which costs seconds,
        and it was not measured on a GPU yet.

    References
    ----------
    Sec. 6.1 of the paper (the target models trained and evaluated on a GPU).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    channels_last: bool = False
    eval_batch_size: int | Literal["auto"] = "auto"
    cuda_graphs: bool = False

    @field_validator("eval_batch_size")
    @classmethod
    def _positive_batch(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"eval_batch_size must be 'auto' or a positive number of images; got {value}")
        return value

    def cuda_only_settings(self) -> list[str]:
        """Names of the options set away from their CPU value (each acts on CUDA only)."""
        chosen = {"channels_last": self.channels_last, "cuda_graphs": self.cuda_graphs,
                  "eval_batch_size": self.eval_batch_size != "auto"}
        return [name for name, on in chosen.items() if on]
