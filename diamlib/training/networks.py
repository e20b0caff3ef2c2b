"""Training one target model for one active-learning round, and reading off its evidence.

Per the paper (Sec. 6.1): SGD with momentum, fixed batch size and learning rate, ``T``
epochs from a fresh initialisation each round; the options of
:class:`~diamlib.training.params.TrainingParams` add the authors' cosine decay, Nesterov momentum,
weight decay without BatchNorm and bias, label smoothing and augmentation. While training, the hypotheses of epochs
``floor(T/2) .. T`` label the unlabeled pool: they form the model's soft version space
(Sec. 5.2). After the last epoch one pass gives the pool's outputs and penultimate features,
the labeled set's features and the test metrics.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, replace
from typing import Callable, Collection

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from diamlib.data import to_model_input
from diamlib.data.augment import augment_batch
from diamlib.evidence import ModelEvidence, snapshot_epochs
from diamlib.training.params import TrainingParams

#: Inputs above this size (bytes) are converted batch by batch instead of cached whole.
MAX_CACHED_INPUT_BYTES = 1 << 30


class ModelInputs:
    """Network-ready float tensors for a uint8 image array, at one resolution.

    Small datasets are converted once and cached; large ones (paper scale at 224 px) are
    converted batch by batch.
    """

    def __init__(self, images: np.ndarray, resolution: int, channels: int = 3, *, pin_memory: bool = False):
        self.images = images
        self.resolution = resolution
        self.channels = channels
        self.pin_memory = pin_memory
        n_bytes = images.shape[0] * channels * resolution * resolution * 4
        self._cache = self._convert(np.arange(images.shape[0])) if n_bytes <= MAX_CACHED_INPUT_BYTES else None
        if self._cache is not None and pin_memory:
            self._cache = self._cache.pin_memory()

    def _convert(self, indices: np.ndarray) -> torch.Tensor:
        chunks = [
            to_model_input(torch.from_numpy(self.images[indices[s : s + 4096]]),
                           resolution=self.resolution, channels=self.channels)
            for s in range(0, len(indices), 4096)
        ]
        return torch.cat(chunks) if chunks else torch.empty(0, self.channels, self.resolution, self.resolution)

    def batch(self, indices: np.ndarray) -> torch.Tensor:
        """Inputs for ``indices`` (n,) -> (n, channels, resolution, resolution).

        With ``pin_memory`` the batch lives in page-locked memory, so that
        ``batch.to("cuda", non_blocking=True)`` overlaps the copy with computation.
        """
        if self._cache is not None:
            batch = self._cache[torch.from_numpy(np.asarray(indices, dtype=np.int64))]
        else:
            batch = self._convert(np.asarray(indices))
        return batch.pin_memory() if self.pin_memory and not batch.is_pinned() else batch


@dataclass(frozen=True)
class RoundData:
    """The arrays one training round needs.

    Attributes
    ----------
    train_inputs, test_inputs : ModelInputs, or ndarray (n, d) for flat-input (scikit-learn) models
    train_targets : ndarray, (n_train,) int64 or (n_train, n_outputs) float32
    test_targets : ndarray, (n_test,) or (n_test, n_outputs)
    labeled : ndarray of int64, (n_labeled,)  training-set indices with labels
    pool : ndarray of int64, (n_pool,)        unlabeled training-set indices
    task : "classification" | "regression"
    """

    train_inputs: "ModelInputs | np.ndarray"
    train_targets: np.ndarray
    test_inputs: "ModelInputs | np.ndarray"
    test_targets: np.ndarray
    labeled: np.ndarray
    pool: np.ndarray
    task: str


@dataclass(frozen=True)
class ModelRoundResult:
    """What one model produced in one round: test metrics, evidence and timings (s)."""

    metrics: dict[str, float]
    evidence: ModelEvidence
    seconds_training: float
    seconds_evidence: float


def _loss_function(task: str, label_smoothing: float = 0.0) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if task == "classification":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    return nn.functional.mse_loss


def is_norm_or_bias(module: nn.Module, parameter_name: str) -> bool:
    """Whether a parameter is a normalisation layer's or a bias (no weight decay for those)."""
    norms = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm)
    return isinstance(module, norms) or parameter_name == "bias"


def make_optimizer(model: nn.Module, training: TrainingParams) -> torch.optim.SGD:
    """SGD with the profile's momentum, Nesterov flag and weight decay.

    With ``decay_norm_and_bias: false`` the parameters of normalisation layers and all
    biases form a second group without weight decay (the authors' ``no_decay_keys``).
    """
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, parameter in module.named_parameters(recurse=False):
            if id(parameter) in seen:  # a parameter shared by two modules is optimised once
                continue
            seen.add(id(parameter))
            exempt = not training.decay_norm_and_bias and is_norm_or_bias(module, name)
            (no_decay if exempt else decay).append(parameter)
    groups = [{"params": decay, "weight_decay": training.weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return torch.optim.SGD(groups, lr=training.lr, momentum=training.momentum, nesterov=training.nesterov)


def mixed_precision(training: TrainingParams, device: str):
    """bfloat16 autocast on CUDA when ``training.amp``; otherwise a context that does nothing."""
    if training.amp and str(device).startswith("cuda"):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def learning_rate(training: TrainingParams, step: int, total_steps: int) -> float:
    """Learning rate of optimisation step ``step`` (0-based) of ``total_steps`` in a round.

    ``constant``: ``lr``. ``cosine``: ``lr * (1 + cos(pi * step / total_steps)) / 2``, the
    per-step cosine decay of the authors' OFA run manager.
    """
    if training.lr_schedule == "constant":
        return training.lr
    return 0.5 * training.lr * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))


@torch.no_grad()
def predict(model, inputs: ModelInputs, indices: np.ndarray, *, batch_size: int, device: str,
            with_features: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Outputs (n, n_outputs) and optionally penultimate features (n, d) for ``indices``."""
    model.eval()
    outputs, features = [], []
    for start in range(0, len(indices), batch_size):
        x = inputs.batch(indices[start : start + batch_size]).to(device, non_blocking=True)
        if with_features:
            out, feat = model.forward_with_features(x)
            features.append(feat.float().cpu())
        else:
            out = model(x)
        outputs.append(out.float().cpu())
    if not outputs:  # an empty index set (e.g. a fully labeled pool)
        empty_features = np.zeros((0, model.feature_dim), np.float32) if with_features else None
        return np.zeros((0, model.n_outputs), np.float32), empty_features
    return torch.cat(outputs).numpy(), (torch.cat(features).numpy() if with_features else None)


def evaluation_metrics(task: str, outputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """``accuracy`` (classification) or ``mse`` and ``mae`` (regression) on the test set."""
    if task == "classification":
        return {"accuracy": float(np.mean(outputs.argmax(axis=1) == targets))}
    error = outputs - targets
    return {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error)))}


@torch.no_grad()
def recalibrate_batchnorm(model, inputs: ModelInputs, labeled: np.ndarray, *, batch_size: int, device: str) -> None:
    """Recompute every BatchNorm's running statistics as exact averages over the labeled set.

    With few labels an epoch has few steps, and exponential running averages lag behind the
    weights, so eval-mode predictions drift from what training fitted. As OFA does for its
    subnets, one pass in train mode with a cumulative average (``momentum=None``) sets the
    statistics that the hypothesis actually uses. The weights are not changed.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for batch in even_batches(labeled, batch_size):
        if len(batch) > 1:
            model(inputs.batch(batch).to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def start_at_labeled_mean(model, labeled_targets: np.ndarray) -> None:
    """Regression: set the linear head's bias to the labeled mean, so training starts from the
    constant predictor instead of random offsets (the head is ``model.head``, an ``nn.Linear``)."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Linear) and head.bias is not None and head.out_features == labeled_targets.shape[1]:
        with torch.no_grad():
            head.bias.copy_(torch.from_numpy(labeled_targets.mean(axis=0).astype(np.float32)))


#: Smallest standard deviation a regression output is divided by (a constant output on the labeled set).
MIN_TARGET_STD = 1e-6


@dataclass(frozen=True)
class TargetScaling:
    """Regression targets standardised with the labeled set's mean and standard deviation.

    A network is trained on ``(y - mean) / std``, so the mean-squared loss weighs every output
    alike and the learning rate does not depend on the targets' units; after training the
    scaling is folded into the linear head (:meth:`fold_into_head`), so the model predicts in the
    targets' own units and everything downstream (test metrics, ``pool_outputs``) is unchanged.

    Attributes
    ----------
    mean, std : ndarray of float32, shape (n_outputs,)
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, labeled_targets: np.ndarray) -> "TargetScaling":
        """The scaling of ``labeled_targets`` (n_labeled, n_outputs)."""
        return cls(mean=labeled_targets.mean(axis=0).astype(np.float32),
                   std=np.maximum(labeled_targets.std(axis=0), MIN_TARGET_STD).astype(np.float32))

    def standardise(self, targets: np.ndarray) -> np.ndarray:
        """``(targets - mean) / std`` as float32, same shape."""
        return ((targets - self.mean) / self.std).astype(np.float32)

    def fold_into_head(self, model) -> None:
        """Make ``model.head`` (an ``nn.Linear``) output ``std * head(x) + mean``."""
        head = getattr(model, "head", None)
        if not isinstance(head, nn.Linear) or head.bias is None:
            raise TypeError(f"regression target models need a linear head with a bias (model.head); "
                            f"{type(model).__name__} has {type(head).__name__}: wrap it with wrap_module")
        with torch.no_grad():
            mean, std = (torch.from_numpy(v).to(head.weight.device) for v in (self.mean, self.std))
            head.weight.mul_(std[:, None])
            head.bias.mul_(std).add_(mean)


def even_batches(indices: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Split ``indices`` into ``ceil(n / batch_size)`` batches of near-equal size.

    A plain split leaves a runt batch (450 labels in batches of 32 end with a batch of 2),
    whose BatchNorm statistics and gradient are noise; with few labels one such step can
    ruin the model. Near-equal batches avoid it; no batch holds a single example.
    """
    n_batches = max(1, min(int(np.ceil(len(indices) / batch_size)), len(indices) // 2))
    return [b for b in np.array_split(np.asarray(indices), n_batches) if len(b) > 0]


#: The per-model evidence a round can compute: the array fields of ModelEvidence.
EVIDENCE_FIELDS = ("pool_features", "labeled_features", "pool_probs", "snapshot_predictions", "pool_outputs")


def requested_evidence(evidence: Collection[str] | None) -> set[str]:
    """The :data:`EVIDENCE_FIELDS` a round computes (None: all); unknown names are an error."""
    wanted = set(EVIDENCE_FIELDS if evidence is None else evidence)
    unknown = wanted - set(EVIDENCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown evidence {sorted(unknown)}; valid: {', '.join(EVIDENCE_FIELDS)}")
    return wanted


def train_model_round(model, data: RoundData, training: TrainingParams, *, rng: np.random.Generator,
                      device: str = "cpu", eval_batch_size: int = 512, evidence: Collection[str] | None = None,
                      progress: bool = False, description: str = "") -> ModelRoundResult:
    """Train ``model`` on the labeled set, record its soft version space, return its evidence.

    Parameters
    ----------
    model : TargetModel
        A freshly initialised target model (``forward`` and ``forward_with_features``).
    data : RoundData
    training : TrainingParams
    rng : numpy.random.Generator
        Draws the order of the training examples in each epoch (and, with
        ``training.augmentation``, every augmentation draw).
    evidence : collection of str, optional
        The :data:`EVIDENCE_FIELDS` to compute (default: all that apply to the task); the
        others stay None. Skipping ``snapshot_predictions`` saves one pool pass per
        snapshot epoch, skipping all pool fields the final pool pass. The model and its
        test metrics are the same whatever is computed.

    Returns
    -------
    ModelRoundResult
        ``evidence.snapshot_predictions`` has shape (len(snapshot_epochs(T)), n_pool)
        for classification, None for regression (and when not asked for).

    Regression trains on targets standardised with the labeled set's statistics, from the
    constant predictor (the head's bias at the labeled mean), and folds the scaling into the head
    afterwards (:class:`TargetScaling`): the returned model and evidence are in the targets' units.

    References
    ----------
    Algorithm 2, lines 3-4; Sec. 6.1 (training settings), Sec. 6.6 (regression loss).
    """
    scaling = None
    if data.task == "regression":
        scaling = TargetScaling.of(data.train_targets[data.labeled])
        data = replace(data, train_targets=scaling.standardise(data.train_targets))
        start_at_labeled_mean(model, data.train_targets[data.labeled])
    model = model.to(device)
    optimizer = make_optimizer(model, training)
    loss_fn = _loss_function(data.task, training.label_smoothing)
    augment = training.augmentation == "authors" and data.task == "classification"
    steps_per_epoch = len(even_batches(data.labeled, training.batch_size))
    total_steps, step = steps_per_epoch * training.epochs, 0
    targets = torch.from_numpy(data.train_targets)
    wanted = requested_evidence(evidence)
    classify = data.task == "classification"
    want_snapshots = classify and "snapshot_predictions" in wanted
    want_features = "pool_features" in wanted
    want_pool = want_snapshots or want_features or ("pool_probs" in wanted if classify else "pool_outputs" in wanted)
    keep = snapshot_epochs(training.epochs) if want_snapshots else range(0)
    snapshots: list[np.ndarray] = []
    seconds_training = seconds_evidence = 0.0
    epochs = tqdm(range(1, training.epochs + 1), desc=description or "epochs", leave=False,
                  disable=not progress, unit="epoch")
    for epoch in epochs:
        start = time.perf_counter()
        model.train()
        for indices in even_batches(data.labeled[rng.permutation(len(data.labeled))], training.batch_size):
            x = data.train_inputs.batch(indices).to(device, non_blocking=True)
            if augment:
                x = augment_batch(x, rng)
            y = targets[torch.from_numpy(indices)].to(device)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(training, step, total_steps)
            step += 1
            optimizer.zero_grad(set_to_none=True)
            with mixed_precision(training, device):
                loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        seconds_training += time.perf_counter() - start
        if epoch in keep and epoch < training.epochs:
            start = time.perf_counter()
            recalibrate_batchnorm(model, data.train_inputs, data.labeled, batch_size=training.batch_size,
                                  device=device)
            out, _ = predict(model, data.train_inputs, data.pool, batch_size=eval_batch_size, device=device)
            snapshots.append(out.argmax(axis=1).astype(np.int32))
            seconds_evidence += time.perf_counter() - start

    start = time.perf_counter()
    recalibrate_batchnorm(model, data.train_inputs, data.labeled, batch_size=training.batch_size, device=device)
    if scaling is not None:
        scaling.fold_into_head(model)
    seconds_training += time.perf_counter() - start

    start = time.perf_counter()
    pool_out = pool_feat = labeled_feat = None
    if want_pool:
        pool_out, pool_feat = predict(model, data.train_inputs, data.pool, batch_size=eval_batch_size,
                                      device=device, with_features=want_features)
    if "labeled_features" in wanted:
        _, labeled_feat = predict(model, data.train_inputs, data.labeled, batch_size=eval_batch_size,
                                  device=device, with_features=True)
    seconds_evidence += time.perf_counter() - start
    test_out, _ = predict(model, data.test_inputs, np.arange(len(data.test_targets)),
                          batch_size=eval_batch_size, device=device)
    metrics = evaluation_metrics(data.task, test_out, data.test_targets)

    arrays: dict[str, np.ndarray | None] = {"pool_features": pool_feat, "labeled_features": labeled_feat}
    if classify and pool_out is not None:
        if want_snapshots:
            snapshots.append(pool_out.argmax(axis=1).astype(np.int32))
            arrays["snapshot_predictions"] = np.stack(snapshots)
        if "pool_probs" in wanted:
            arrays["pool_probs"] = torch.softmax(torch.from_numpy(pool_out), dim=1).numpy()
    elif not classify and "pool_outputs" in wanted:
        arrays["pool_outputs"] = pool_out
    model_evidence = ModelEvidence(name=model.name, n_parameters=int(model.n_parameters), **arrays)
    return ModelRoundResult(metrics=metrics, evidence=model_evidence, seconds_training=seconds_training,
                            seconds_evidence=seconds_evidence)
