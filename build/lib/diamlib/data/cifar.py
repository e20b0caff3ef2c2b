"""CIFAR-10 and CIFAR-100 from the "python version" batches, in torchvision's layout.

Expected under the data root: ``cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``,
``test_batch``, ``batches.meta``) or ``cifar-100-python/`` (``train``, ``test``, ``meta``). With
``download=True`` and the files missing, torchvision downloads and extracts them there.
CIFAR-100 uses its 100 fine labels. The batches are Python pickles; they are read by an
unpickler that builds only containers and numpy arrays and refuses anything else, so a file
cannot run code.

References
----------
Paper Sec. 6.1, Table 1.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diamlib.data.dataset import ArrayDataset
from diamlib.data.locations import download_failed_error, find_files, missing_files_error


@dataclass(frozen=True)
class CifarSource:
    """File layout of one CIFAR variant.

    Attributes
    ----------
    name : registry name
    folder : folder under the data root
    files : split -> batch file names
    meta_file : file holding the class names
    label_key, names_key : pickle keys of the labels and class names
    torchvision_class : class in ``torchvision.datasets`` that downloads it
    """

    name: str
    folder: str
    files: dict[str, tuple[str, ...]]
    meta_file: str
    label_key: str
    names_key: str
    torchvision_class: str


CIFAR_SOURCES = {
    "cifar10": CifarSource("cifar10", "cifar-10-batches-py",
                           {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
                           "batches.meta", "labels", "label_names", "CIFAR10"),
    "cifar100": CifarSource("cifar100", "cifar-100-python", {"train": ("train",), "test": ("test",)},
                            "meta", "fine_labels", "fine_label_names", "CIFAR100"),
}


def load_cifar(name: str, *, split: str, root: Path, download: bool) -> ArrayDataset:
    """Load one split of CIFAR-10 or CIFAR-100.

    Returns
    -------
    ArrayDataset with images uint8 (n, 32, 32, 3) and int64 labels (n,).

    References
    ----------
    Paper Sec. 6.1, Table 1.
    """
    source = CIFAR_SOURCES[name]
    names = [*source.files[split], source.meta_file]
    folder = root / source.folder
    found = find_files([folder], names, gz_ok=False)
    if found is None and download:
        _download(source, root)
        found = find_files([folder], names, gz_ok=False)
    if found is None:
        raise missing_files_error(name, names, [folder], can_download=not download,
                                  how_to_get=f"extract the official python-version archive into {root}")
    classes = tuple(_as_str(c) for c in _unpickle(found[source.meta_file])[source.names_key])
    images, labels = [], []
    for batch_name in source.files[split]:
        batch = _unpickle(found[batch_name])
        data = np.asarray(batch["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{found[batch_name]}: expected data of shape (n, 3072), got {data.shape}")
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[source.label_key], dtype=np.int64))
    return ArrayDataset(name=name, images=np.ascontiguousarray(np.concatenate(images)),
                        targets=np.concatenate(labels), task="classification", classes=classes)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: any other class or function a file
    names (the way a pickle runs code) is refused, so a batch file stays data."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: CIFAR batches hold only arrays")
        if module.startswith("numpy") and name in ("_reconstruct", "scalar"):
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            content = _ArraysOnlyUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable CIFAR batch ({exc}); download or extract it again") from None
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    return {_as_str(k): v for k, v in content.items()}


def _as_str(value) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def _download(source: CifarSource, root: Path) -> None:
    import torchvision.datasets

    root.mkdir(parents=True, exist_ok=True)
    try:
        getattr(torchvision.datasets, source.torchvision_class)(str(root), train=True, download=True)
    except Exception as exc:  # network and archive errors of any kind
        raise download_failed_error(source.name, root / source.folder, exc) from exc
