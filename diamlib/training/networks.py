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
from diamlib.data.inputs import to_device
from diamlib.data.augment import augment_batch
from diamlib.evidence import ModelEvidence, snapshot_epochs
from diamlib.training.params import (CPU_EVAL_BATCH_SIZE, CUDA_EVAL_BATCH_START, DeviceOptions,
                                     TrainingParams)
from diamlib.training.round_result import (ModelRoundResult, RoundData, evaluation_metrics,
                                          requested_evidence)

#: On the CPU, the converted inputs of a dataset are cached whole when they take at most this many bytes.
MAX_CACHED_INPUT_BYTES = 1 << 30
#: Images converted at once when a whole dataset is converted (bounds the float32 temporaries).
CONVERSION_CHUNK = 4096


def upload_images(images: np.ndarray, device: str | torch.device) -> torch.Tensor:
    """A dataset's uint8 images as one tensor on ``device``, to share between resolutions.

    Upload once per process (Fashion-MNIST's 70,000 images take 55 MB), then give the tensor to
    one :class:`ModelInputs` per resolution: every batch is then cut out and converted on the
    device. On the CPU the tensor shares the array's memory.

    Parameters
    ----------
    images : uint8 ndarray, (n, H, W) or (n, H, W, 3)
    device : str or torch.device

    Returns
    -------
    uint8 tensor on ``device``, same shape.
    """
    return torch.from_numpy(np.require(images, requirements=["C", "W"])).to(device)


class ModelInputs:
    """Network-ready float tensors for a dataset's uint8 images, at one resolution, on the images' device.

    Each batch is cut out of the uint8 images where they live and converted there
    (:func:`~diamlib.data.to_model_input`: scale, resize, replicate, normalise): with the images
    uploaded to a GPU (:func:`upload_images`) nothing is done per image on the CPU. On the CPU,
    a dataset whose converted inputs take at most :data:`MAX_CACHED_INPUT_BYTES` is converted
    once and cached, as conversion costs CPU time there; on a GPU conversion is a few kernels per
    batch, far cheaper than the memory a cache at 160-224 px would take.

    Parameters
    ----------
    images : uint8 ndarray or tensor, (n, H, W) or (n, H, W, 3)
        A tensor stays on its device (share one upload between resolutions); an array is used
        on the CPU without a copy.
    resolution : int
    channels : {3, 1}

    References
    ----------
    Sec. 6.1 of the paper (ImageNet-style inputs of the OFA target models).
    """

    def __init__(self, images: np.ndarray | torch.Tensor, resolution: int, channels: int = 3):
        self.images = images if isinstance(images, torch.Tensor) else upload_images(images, "cpu")
        self.resolution = resolution
        self.channels = channels
        self.device = self.images.device
        n_bytes = self.images.shape[0] * channels * resolution * resolution * 4
        cached = self.device.type == "cpu" and n_bytes <= MAX_CACHED_INPUT_BYTES
        self._cache = self._convert(torch.arange(self.images.shape[0])) if cached else None

    def _convert(self, indices: torch.Tensor) -> torch.Tensor:
        chunks = [to_model_input(self.images[indices[s : s + CONVERSION_CHUNK]], resolution=self.resolution,
                                 channels=self.channels)
                  for s in range(0, len(indices), CONVERSION_CHUNK)]
        if not chunks:
            return torch.empty(0, self.channels, self.resolution, self.resolution, device=self.device)
        return torch.cat(chunks)

    def batch(self, indices: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Inputs for ``indices`` (n,) -> float32 (n, channels, resolution, resolution) on the images' device.

        ``indices`` may already be on that device (:func:`~diamlib.data.inputs.to_device`).
        """
        rows = indices if isinstance(indices, torch.Tensor) else to_device(np.asarray(indices, dtype=np.int64),
                                                                             self.device)
        return self._cache[rows] if self._cache is not None else self._convert(rows)


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


def is_cuda(device: str | torch.device) -> bool:
    """Whether ``device`` names a CUDA device (``cuda``, ``cuda:1``)."""
    return torch.device(device).type == "cuda"


class EvalBatchSize:
    """The inference batch of a round: fixed, or with ``auto`` on CUDA the largest that fits.

    ``auto`` starts at :data:`~diamlib.training.params.CUDA_EVAL_BATCH_START` on CUDA and is
    halved after each out-of-memory error (:meth:`shrink`); the size found stays for the round's
    later passes. On the CPU ``auto`` is :data:`~diamlib.training.params.CPU_EVAL_BATCH_SIZE`.
    """

    def __init__(self, setting: int | str, device: str | torch.device):
        self.adaptive = setting == "auto" and is_cuda(device)
        if setting != "auto":
            self.size = int(setting)
        else:
            self.size = CUDA_EVAL_BATCH_START if self.adaptive else CPU_EVAL_BATCH_SIZE

    def shrink(self) -> bool:
        """Halve the batch after an out-of-memory error; False when it cannot shrink (re-raise)."""
        if not self.adaptive or self.size == 1:
            return False
        self.size //= 2
        torch.cuda.empty_cache()
        return True


@dataclass
class PassSettings:
    """How a round's forward and backward passes run on its device.

    The GPU measures apply on CUDA only: bfloat16 autocast (``training.amp``) for training and
    inference, channels-last batches and models, CUDA-graph training steps. On the CPU passes
    are float32 and NCHW whatever is asked (their numbers do not move).

    Attributes
    ----------
    device : str
    autocast : bool
    channels_last : bool
    cuda_graphs : bool
    eval_batch : EvalBatchSize
    """

    device: str
    autocast: bool
    channels_last: bool
    cuda_graphs: bool
    eval_batch: EvalBatchSize

    @classmethod
    def of(cls, device: str = "cpu", *, amp: bool = False, options: DeviceOptions | None = None) -> "PassSettings":
        """The settings of ``device`` for ``training.amp`` and a profile's ``device_options``."""
        options = options or DeviceOptions()
        cuda = is_cuda(device)
        return cls(device=str(device), autocast=amp and cuda, channels_last=options.channels_last and cuda,
                   cuda_graphs=options.cuda_graphs and cuda, eval_batch=EvalBatchSize(options.eval_batch_size, device))

    def precision(self):
        """bfloat16 autocast on CUDA with ``amp``; otherwise a context that does nothing."""
        if self.autocast:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def network_input(self, x: torch.Tensor) -> torch.Tensor:
        """A batch in the memory format the model is kept in."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def place(self, model: nn.Module) -> nn.Module:
        """The model on the device, in the memory format of :meth:`network_input`."""
        model = model.to(self.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def training_forward(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """What a training step calls: the model, or with ``cuda_graphs`` the model compiled to CUDA graphs.

        The compiled module shares the model's parameters; evaluation passes call the model itself.
        """
        if self.cuda_graphs:
            return torch.compile(model, mode="reduce-overhead", dynamic=False)
        return model

    def begin_step(self) -> None:
        """Mark a new training step for CUDA-graph replay (its outputs may overwrite the last step's)."""
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()

    def synchronize(self) -> None:
        """Wait for the device's queued work, so a stage's clock includes it (CUDA only)."""
        if is_cuda(self.device):
            torch.cuda.synchronize()


def learning_rate(training: TrainingParams, step: int, total_steps: int) -> float:
    """Learning rate of optimisation step ``step`` (0-based) of ``total_steps`` in a round.

    ``constant``: ``lr``. ``cosine``: ``lr * (1 + cos(pi * step / total_steps)) / 2``, the
    per-step cosine decay of the authors' OFA run manager.
    """
    if training.lr_schedule == "constant":
        return training.lr
    return 0.5 * training.lr * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))


@torch.no_grad()
def predict(model, inputs: ModelInputs, indices: np.ndarray, passes: PassSettings, *,
            with_features: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Outputs (n, n_outputs) and optionally penultimate features (n, d) for ``indices``.

    Batches of ``passes.eval_batch.size`` images, converted on the inputs' device; the results
    stay there until the pass ends (one copy to the host). With ``eval_batch_size: auto`` on
    CUDA, a batch that runs out of memory is retried at half the size.
    """
    model.eval()
    rows = to_device(np.asarray(indices, dtype=np.int64), inputs.device)
    outputs, features = [], []
    start = 0
    while start < len(rows):
        chunk = rows[start : start + passes.eval_batch.size]
        result = _evaluate_batch(model, inputs.batch(chunk), passes, with_features)
        if result is None:
            continue  # out of memory: the batch was halved, try again
        outputs.append(result[0].float())
        if with_features:
            features.append(result[1].float())
        start += len(chunk)
    if not outputs:  # an empty index set (e.g. a fully labeled pool)
        empty_features = np.zeros((0, model.feature_dim), np.float32) if with_features else None
        return np.zeros((0, model.n_outputs), np.float32), empty_features
    return torch.cat(outputs).cpu().numpy(), (torch.cat(features).cpu().numpy() if with_features else None)


def _evaluate_batch(model, x: torch.Tensor, passes: PassSettings,
                    with_features: bool) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """``(outputs, features or None)`` of one batch; None when it ran out of memory and the batch shrank."""
    try:
        with passes.precision():
            x = passes.network_input(x)
            return model.forward_with_features(x) if with_features else (model(x), None)
    except torch.cuda.OutOfMemoryError:
        if not passes.eval_batch.adaptive:
            raise
    # outside the except block, so that the failed batch's tensors are freed before the retry
    if not passes.eval_batch.shrink():
        raise torch.cuda.OutOfMemoryError(f"an inference batch of 1 image does not fit on {passes.device}")
    return None


@torch.no_grad()
def recalibrate_batchnorm(model, inputs: ModelInputs, labeled: np.ndarray, *, batch_size: int,
                          passes: PassSettings) -> None:
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
            with passes.precision():
                model(passes.network_input(inputs.batch(batch)))
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


def train_model_round(model, data: RoundData, training: TrainingParams, *, rng: np.random.Generator,
                      device: str = "cpu", options: DeviceOptions | None = None,
                      evidence: Collection[str] | None = None, progress: bool = False,
                      description: str = "") -> ModelRoundResult:
    """Train ``model`` on the labeled set, record its soft version space, return its evidence.

    Parameters
    ----------
    model : TargetModel
        A freshly initialised target model (``forward`` and ``forward_with_features``).
    data : RoundData
        Its :class:`ModelInputs` live on ``device`` (see :func:`upload_images`): every batch is
        cut out, converted and augmented there.
    training : TrainingParams
    rng : numpy.random.Generator
        Draws the order of the training examples in each epoch (and, with
        ``training.augmentation``, every augmentation draw).
    device : str
    options : DeviceOptions, optional
        How the passes use a GPU (channels-last, inference batch, CUDA graphs); on the CPU
        they change nothing. Default: ``DeviceOptions()``.
    evidence : collection of str, optional
        The :data:`~diamlib.evidence.EVIDENCE_FIELDS` to compute (default: all that apply to the task); the
        others stay None. Skipping ``snapshot_predictions`` saves one pool pass per
        snapshot epoch, skipping all pool fields the final pool pass. The model and its
        test metrics are the same whatever is computed.

    Returns
    -------
    ModelRoundResult
        ``evidence.snapshot_predictions`` has shape (len(snapshot_epochs(T)), n_pool)
        for classification, None for regression (and when not asked for). The stage timings
        wait for the device's queued work at each stage's end.

    Regression trains on targets standardised with the labeled set's statistics, from the
    constant predictor (the head's bias at the labeled mean), and folds the scaling into the head
    afterwards (:class:`TargetScaling`): the returned model and evidence are in the targets' units.

    References
    ----------
    Algorithm 2, lines 3-4; Sec. 6.1 (training settings), Sec. 6.6 (regression loss).
    """
    passes = PassSettings.of(device, amp=training.amp, options=options)
    scaling = None
    if data.task == "regression":
        scaling = TargetScaling.of(data.train_targets[data.labeled])
        data = replace(data, train_targets=scaling.standardise(data.train_targets))
        start_at_labeled_mean(model, data.train_targets[data.labeled])
    model = passes.place(model)
    forward = passes.training_forward(model)
    optimizer = make_optimizer(model, training)
    loss_fn = _loss_function(data.task, training.label_smoothing)
    augment = training.augmentation == "authors" and data.task == "classification"
    steps_per_epoch = len(even_batches(data.labeled, training.batch_size))
    total_steps, step = steps_per_epoch * training.epochs, 0
    targets = to_device(data.train_targets, data.train_inputs.device)
    wanted = requested_evidence(evidence)
    classify = data.task == "classification"
    want_snapshots = classify and "snapshot_predictions" in wanted
    want_features = "pool_features" in wanted
    want_pool = want_snapshots or want_features or ("pool_probs" in wanted if classify else "pool_outputs" in wanted)
    keep = snapshot_epochs(training.epochs) if want_snapshots else range(0)
    snapshots: list[np.ndarray] = []
    clock = _StageClock(passes)
    epochs = tqdm(range(1, training.epochs + 1), desc=description or "epochs", leave=False,
                  disable=not progress, unit="epoch")
    for epoch in epochs:
        with clock("training"):
            model.train()
            for indices in even_batches(data.labeled[rng.permutation(len(data.labeled))], training.batch_size):
                rows = to_device(indices, data.train_inputs.device)
                x = data.train_inputs.batch(rows)
                if augment:
                    x = augment_batch(x, rng)
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(training, step, total_steps)
                step += 1
                optimizer.zero_grad(set_to_none=True)
                passes.begin_step()
                with passes.precision():
                    loss = loss_fn(forward(passes.network_input(x)), targets[rows])
                loss.backward()
                optimizer.step()
        if epoch in keep and epoch < training.epochs:
            with clock("snapshots"):
                recalibrate_batchnorm(model, data.train_inputs, data.labeled, batch_size=training.batch_size,
                                      passes=passes)
                out, _ = predict(model, data.train_inputs, data.pool, passes)
                snapshots.append(out.argmax(axis=1).astype(np.int32))

    with clock("training"):
        recalibrate_batchnorm(model, data.train_inputs, data.labeled, batch_size=training.batch_size, passes=passes)
        if scaling is not None:
            scaling.fold_into_head(model)

    pool_out = pool_feat = labeled_feat = None
    with clock("final_pass"):
        if want_pool:
            pool_out, pool_feat = predict(model, data.train_inputs, data.pool, passes, with_features=want_features)
        if "labeled_features" in wanted:
            _, labeled_feat = predict(model, data.train_inputs, data.labeled, passes, with_features=True)
    with clock("test"):
        test_out, _ = predict(model, data.test_inputs, np.arange(len(data.test_targets)), passes)
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
    seconds = clock.seconds
    return ModelRoundResult(metrics=metrics, evidence=model_evidence, seconds_training=seconds["training"],
                            seconds_evidence=seconds["snapshots"] + seconds["final_pass"],
                            seconds_snapshots=seconds["snapshots"], seconds_final_pass=seconds["final_pass"],
                            seconds_test=seconds["test"], eval_batch_size=passes.eval_batch.size,
                            test_predictions=test_out.argmax(axis=1).astype(np.int32) if classify else None)


class _StageClock:
    """Seconds per stage of a round; each stage's clock stops after the device's queued work is done."""

    def __init__(self, passes: PassSettings):
        self.passes = passes
        self.seconds = {"training": 0.0, "snapshots": 0.0, "final_pass": 0.0, "test": 0.0}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        yield
        self.passes.synchronize()
        self.seconds[stage] += time.perf_counter() - start
