"""Evidence from the user's own PyTorch training loop, written as the files ``select`` reads.

A target model trained with the user's code gives DIAM what the suite's own loop records
(:func:`diamlib.training.networks.train_model_round`): the labels that its hypotheses of the
later epochs ``floor(T/2) .. T`` predict on the unlabeled pool (its soft version space), and the
final model's softmax probabilities and penultimate-layer features. :class:`EvidenceRecorder`
collects them with one call per epoch::

    recorder = EvidenceRecorder(pool_inputs, epochs=T)
    for epoch in range(1, T + 1):
        train_one_epoch(model)            # the user's code
        recorder.record(model, epoch)     # does nothing before epoch floor(T/2)
    recorder.save("evidence/my_model.npz")

References
----------
Sec. 5.2 and Algorithm 2, lines 3-5 of the paper: the soft version space
V_i = {h_i^j | j = floor(T/2), ..., T} of every target model and its penultimate features.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from diamlib.evidence import snapshot_epochs
from diamlib.userfiles.evidence_files import EvidenceFileError, save_model_evidence

__all__ = ["EvidenceRecorder", "penultimate_layer"]


def penultimate_layer(model: nn.Module) -> str:
    """The name of the model's last ``nn.Linear`` module: its *input* is the penultimate layer.

    torchvision's classifiers end in a linear layer (``resnet18.fc``,
    ``mobilenet_v3_small.classifier.3``), whose input is what the paper calls the penultimate
    features (Sec. 5.2).

    Raises
    ------
    ValueError
        The model has no ``nn.Linear``: name the feature layer (``layer=``) instead.
    """
    linear = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not linear:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer, so its penultimate layer is unknown; "
                         f"name the layer whose output are the features, e.g. layer='avgpool'")
    return linear[-1]


class EvidenceRecorder:
    """Records one target model's evidence on the pool while the user's loop trains it.

    Call :meth:`record` after each epoch ``1..epochs`` with the model (calls at epochs before
    ``floor(epochs/2)`` return at once): every epoch of :func:`~diamlib.evidence.snapshot_epochs`
    adds the labels the model predicts on the pool, and the last epoch also keeps the
    probabilities and the features of ``layer``. Then :meth:`save` writes the evidence file of
    :mod:`diamlib.userfiles.evidence_files`.

    Each pass runs in eval mode without gradients and puts back every module's ``training``
    flag and the grad mode afterwards; the weights and BatchNorm statistics are not touched.
    Memory: the labels take ``n_snapshots * n_pool`` int32; the features one float32 array of
    ``(n_pool, d)``, written in place batch by batch (no second copy), plus the probabilities.

    Parameters
    ----------
    pool : tensor, ndarray, or re-iterable of batches
        The unlabeled pool's inputs, exactly as the model takes them: one tensor (or array)
        of shape (n_pool, ...), cut into batches of ``batch_size``; or an iterable of batches
        (e.g. a ``DataLoader`` with ``shuffle=False``), each a tensor or a tuple whose first
        item is the inputs, in the same order on every pass.
    epochs : int
        ``T``, the number of epochs of the user's training.
    layer : str, optional
        Name (in ``model.named_modules()``) of the layer whose output are the features;
        default: the input of the last ``nn.Linear`` (:func:`penultimate_layer`). Outputs of
        more than two dimensions are flattened.
    labeled : tensor, ndarray or re-iterable of batches, optional
        The labeled set's inputs: the last epoch then also records ``labeled_features``
        (coreset, BADGE, BAIT and DIAM-svd read them).
    pool_ids : array_like, shape (n_pool,), optional
        The user's ids of the pool points, written to the file (``select``'s ``pool_id``).
    batch_size : int
        Rows per forward pass when ``pool`` is one tensor.

    References
    ----------
    Sec. 5.2 and Algorithm 2, lines 3-5 (soft version space, probabilities, features).
    """

    def __init__(self, pool: Any, *, epochs: int, layer: str | None = None, labeled: Any = None,
                 pool_ids: Any = None, batch_size: int = 256):
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs={epochs!r}: give the number of training epochs T, a positive integer")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r}: give a positive integer")
        self.pool = pool
        self.labeled = labeled
        self.epochs = int(epochs)
        self.layer = layer
        self.batch_size = int(batch_size)
        self.pool_ids = None if pool_ids is None else np.asarray(pool_ids)
        self.epochs_recorded: list[int] = []
        self._labels: np.ndarray | None = None
        self.pool_probs: np.ndarray | None = None
        self.pool_features: np.ndarray | None = None
        self.labeled_features: np.ndarray | None = None
        self.n_parameters = 0

    @property
    def snapshot_epochs(self) -> range:
        """The epochs whose predictions are recorded: ``floor(T/2) .. T``."""
        return snapshot_epochs(self.epochs)

    @property
    def snapshot_predictions(self) -> np.ndarray | None:
        """int32, (epochs recorded so far, n_pool): the labels of each recorded epoch."""
        return None if self._labels is None else self._labels[: len(self.epochs_recorded)]

    @property
    def complete(self) -> bool:
        """Every epoch of :attr:`snapshot_epochs` is recorded (the file can be saved)."""
        return self.epochs_recorded == list(self.snapshot_epochs)

    def record(self, model: nn.Module, epoch: int) -> bool:
        """Record the evidence of ``model`` after epoch ``epoch`` (1-based), if DIAM needs it.

        Parameters
        ----------
        model : torch.nn.Module
            Maps a batch of pool inputs to logits (n, n_classes); its parameters' device is
            where the inputs are sent.
        epoch : int
            In ``1..epochs``; the epochs of :attr:`snapshot_epochs` in increasing order.

        Returns
        -------
        bool
            True if the epoch was recorded (it is one of :attr:`snapshot_epochs`).

        Raises
        ------
        ValueError
            An epoch outside ``1..epochs``, recorded twice or out of order (an epoch of the
            soft version space skipped), a layer name the model does not have, outputs that
            are not (n, n_classes) logits, a pool of another size than at the first record, or
            classes that change between epochs.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch={epoch!r} is outside 1..{self.epochs}; pass the 1-based number of the epoch "
                             f"just trained")
        epoch = int(epoch)
        if epoch not in self.snapshot_epochs:
            return False
        expected = self.snapshot_epochs[len(self.epochs_recorded)] if not self.complete else None
        if epoch != expected:
            done = self.epochs_recorded[-1] if self.epochs_recorded else None
            raise ValueError(f"epoch {epoch} cannot be recorded now: epochs {self.snapshot_epochs.start}.."
                             f"{self.epochs} are recorded once each, in order (last recorded: {done}, next: "
                             f"{expected}); call record(model, epoch) after every epoch, or start a new recorder")
        final = epoch == self.epochs
        layer = self.layer or penultimate_layer(model)
        with _evaluating(model):
            logits, features = self._pass(model, self.pool, layer, with_features=final, what="pool")
            if final and self.labeled is not None:
                if self._expected_rows(self.labeled) == 0 and isinstance(self.labeled, (np.ndarray, torch.Tensor)):
                    self.labeled_features = np.zeros((0, features.shape[1]), np.float32)  # nothing labeled yet
                else:
                    _, self.labeled_features = self._pass(model, self.labeled, layer, with_features=True,
                                                          what="labeled set")
        labels = logits.argmax(axis=1).astype(np.int32)
        if self._labels is None:
            self._labels = np.empty((len(self.snapshot_epochs), labels.shape[0]), np.int32)
        elif labels.shape[0] != self._labels.shape[1]:
            raise ValueError(f"the pool has {labels.shape[0]} points at epoch {epoch} but {self._labels.shape[1]} "
                             f"before; give the same pool, in the same order, at every epoch")
        self._labels[len(self.epochs_recorded)] = labels
        self.epochs_recorded.append(epoch)
        if final:
            self.pool_probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
            self.pool_features = features
            self.n_parameters = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
        return True

    def save(self, path: Path) -> Path:
        """Write the evidence file (``snapshot_predictions``, ``pool_probs``, ``pool_features``,
        ``labeled_features`` if recorded, ``pool_ids`` if given, ``n_parameters``), atomically.

        Raises
        ------
        EvidenceFileError
            Not every epoch of the soft version space was recorded, or the arrays are refused
            by the checks of :func:`~diamlib.userfiles.evidence_files.save_model_evidence`.
        """
        if not self.complete:
            missing = [e for e in self.snapshot_epochs if e not in self.epochs_recorded]
            raise EvidenceFileError(f"{path}: epochs {missing} of the soft version space are not recorded yet; call "
                                    f"record(model, epoch) after each of epochs {self.snapshot_epochs.start}.."
                                    f"{self.epochs} before saving")
        return save_model_evidence(Path(path), snapshot_predictions=self.snapshot_predictions,
                                   pool_probs=self.pool_probs, pool_features=self.pool_features,
                                   labeled_features=self.labeled_features, pool_ids=self.pool_ids,
                                   n_parameters=np.asarray(self.n_parameters))

    # ------------------------------------------------------------------ one pass
    def _batches(self, inputs: Any) -> Iterable[torch.Tensor]:
        if isinstance(inputs, np.ndarray):
            inputs = torch.from_numpy(inputs)
        if isinstance(inputs, torch.Tensor):
            for start in range(0, inputs.shape[0], self.batch_size):
                yield inputs[start : start + self.batch_size]
            return
        for batch in inputs:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            yield torch.as_tensor(x)

    def _pass(self, model: nn.Module, inputs: Any, layer: str, *, with_features: bool,
              what: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits (n, n_classes) and, with ``with_features``, the features (n, d) of ``layer``."""
        modules = dict(model.named_modules())
        if layer not in modules:
            close = [name for name in modules if name and layer in name][:5]
            raise ValueError(f"layer {layer!r} is not a module of {type(model).__name__}"
                             + (f" (close: {close})" if close else "") + "; give a name from model.named_modules()")
        target = modules[layer]
        captured: list[torch.Tensor] = []
        if self.layer is None:  # the penultimate layer: the input of the last nn.Linear
            handle = target.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
        else:
            handle = target.register_forward_hook(lambda _m, _args, output: captured.append(output))
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        n_rows = self._expected_rows(inputs)
        logits = _Rows(n_rows)
        features = _Rows(n_rows) if with_features else None
        try:
            for x in self._batches(inputs):
                captured.clear()
                out = model(x.to(device))
                if not isinstance(out, torch.Tensor) or out.dim() != 2:
                    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                    raise ValueError(f"the model returned {shape} on the {what}; the recorder needs logits of "
                                     f"shape (batch, n_classes)")
                if features is not None:
                    if not captured:
                        raise ValueError(f"layer {layer!r} was not run by the model's forward pass; name a layer "
                                         f"that computes the features")
                    features.add(captured[-1].flatten(1))
                logits.add(out)
                del out
                captured.clear()
        finally:
            handle.remove()
        if logits.rows == 0:
            raise ValueError(f"the {what} is empty; give at least one input")
        return logits.array(), None if features is None else features.array()

    def _expected_rows(self, inputs: Any) -> int:
        """The number of rows a pass gives, if known beforehand (a tensor, an array, a DataLoader), else 0."""
        if isinstance(inputs, (np.ndarray, torch.Tensor)):
            return int(inputs.shape[0])
        dataset = getattr(inputs, "dataset", None)
        try:
            return len(dataset) if dataset is not None else 0
        except TypeError:
            return 0


class _Rows:
    """Batches of a pass copied into one float32 array as they come, so that no batch outlives its pass.

    Copying into an array of the pass's final size (when known) keeps one copy of the result; torch's
    per-batch tensors are freed at once, which also keeps the C heap from growing with small leftovers
    between the batches' large temporaries. For an iterable of unknown length the array doubles.
    """

    def __init__(self, expected: int):
        self.expected = expected
        self.buffer: np.ndarray | None = None
        self.rows = 0

    def add(self, batch: torch.Tensor) -> None:
        values = batch.detach().float().cpu().numpy()
        if self.buffer is None:
            self.buffer = np.empty((max(self.expected, len(values)), values.shape[1]), np.float32)
        elif values.shape[1] != self.buffer.shape[1]:
            raise ValueError(f"a batch of width {values.shape[1]} after batches of width {self.buffer.shape[1]}; "
                             f"the model's outputs and features must have the same width for every batch")
        if self.rows + len(values) > self.buffer.shape[0]:
            self.buffer = _grown(self.buffer, self.rows + len(values))
        self.buffer[self.rows : self.rows + len(values)] = values
        self.rows += len(values)

    def array(self) -> np.ndarray:
        """The rows filled, (rows, width); the buffer itself when it is full."""
        assert self.buffer is not None
        return self.buffer if self.rows == self.buffer.shape[0] else self.buffer[: self.rows].copy()


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    """``array`` with at least ``rows`` rows (doubling), for an iterable of unknown length."""
    bigger = np.empty((max(rows, 2 * array.shape[0]), array.shape[1]), array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


class _evaluating:
    """Eval mode and no gradients for a pass; every module's ``training`` flag and the grad mode come back."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self) -> None:
        self.flags = [(module, module.training) for module in self.model.modules()]
        self.grad = torch.is_grad_enabled()
        self.model.eval()
        torch.set_grad_enabled(False)

    def __exit__(self, *exc: object) -> None:
        torch.set_grad_enabled(self.grad)
        for module, flag in self.flags:
            module.training = flag
