"""The dataset registry: every dataset name maps to one loader through one explicit dict.

References
----------
Paper Sec. 6.1 (classification datasets, Table 1) and Sec. 6.6 (regression datasets).
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from diamlib.data.cifar import load_cifar
from diamlib.data.celeba import load_celeba
from diamlib.data.dataset import ArrayDataset
from diamlib.data.digits import load_digits_dataset
from diamlib.data.landmarks import DEFAULT_OPTIONS, embed_landmark_task
from diamlib.data.lfw_net import load_lfw_net
from diamlib.data.locations import default_data_root, resolve_data_root
from diamlib.data.mnist_family import load_idx_dataset
from diamlib.evidence import TASKS
from diamlib.seeding import child_rng

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one registered dataset.

    Attributes
    ----------
    name : registry name
    task : "classification" or "regression"
    offline : True when it loads without a network and without user-supplied files
    description : one line for listings
    load : callable ``(split, root, download, rng_seed, **options) -> ArrayDataset``
    options : the task options it accepts, with their defaults
    """

    name: str
    task: str
    offline: bool
    description: str
    load: Callable[..., ArrayDataset] = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)


def _idx(name: str) -> Callable[..., ArrayDataset]:
    def load(split, root, download, rng_seed):
        return load_idx_dataset(name, split=split, root=root, download=download)
    return load


def _cifar(name: str) -> Callable[..., ArrayDataset]:
    def load(split, root, download, rng_seed):
        return load_cifar(name, split=split, root=root, download=download)
    return load


def _digits(split, root, download, rng_seed):
    return load_digits_dataset(split=split)


def _landmarks(base: str) -> Callable[..., ArrayDataset]:
    def load(split, root, download, rng_seed, **options):
        source = DATASETS[base].load(split, root, download, rng_seed)
        rng = child_rng(rng_seed, f"landmarks/{base}/{split}")
        images, targets = embed_landmark_task(source.images, rng=rng, **options)
        return ArrayDataset(name=f"landmarks-{base}", images=images, targets=targets, task="regression",
                            classes=None)
    return load


def _celeba(split, root, download, rng_seed, **options):
    return load_celeba(split=split, root=root, download=download, **options)


def _lfw_net(split, root, download, rng_seed, **options):
    return load_lfw_net(split=split, root=root, **options)


def _build() -> dict[str, DatasetSpec]:
    specs = [
        DatasetSpec("fashion-mnist", "classification", True,
                    "Fashion-MNIST (Debian package dataset-fashion-mnist, or torchvision)", _idx("fashion-mnist")),
        DatasetSpec("digits", "classification", True, "scikit-learn's 8x8 digits (bundled)", _digits),
        DatasetSpec("mnist", "classification", False, "MNIST (torchvision)", _idx("mnist")),
        DatasetSpec("kmnist", "classification", False, "Kuzushiji-MNIST (torchvision)", _idx("kmnist")),
        DatasetSpec("emnist-letters", "classification", False, "EMNIST letters, 26 classes (torchvision)",
                    _idx("emnist-letters")),
        DatasetSpec("emnist-digits", "classification", False, "EMNIST digits (torchvision)", _idx("emnist-digits")),
        DatasetSpec("cifar10", "classification", False, "CIFAR-10 (torchvision)", _cifar("cifar10")),
        DatasetSpec("cifar100", "classification", False, "CIFAR-100, fine labels (torchvision)", _cifar("cifar100")),
        DatasetSpec("landmarks-fashion-mnist", "regression", True,
                    "5 keypoints of Fashion-MNIST images under random similarity transforms",
                    _landmarks("fashion-mnist"), dict(DEFAULT_OPTIONS)),
        DatasetSpec("landmarks-digits", "regression", True,
                    "5 keypoints of 8x8 digits under random similarity transforms",
                    _landmarks("digits"), dict(DEFAULT_OPTIONS)),
        DatasetSpec("celeba", "regression", False, "CelebA aligned faces, 5 landmarks",
                    _celeba, {"image_size": 64, "cache": True}),
        DatasetSpec("lfw-net", "regression", False, "LFW-NET faces (Sun et al. 2013), 5 landmarks",
                    _lfw_net, {"image_size": 64}),
    ]
    return {spec.name: spec for spec in specs}


#: Registry: dataset name -> DatasetSpec.
DATASETS: dict[str, DatasetSpec] = _build()


def dataset_names(task: str | None = None) -> list[str]:
    """Registered dataset names, optionally only those of one task, in registry order."""
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    return [name for name, spec in DATASETS.items() if task is None or spec.task == task]


def get_dataset_spec(name: str) -> DatasetSpec:
    """The spec of ``name``; a ValueError listing the valid names if it is unknown."""
    if name not in DATASETS:
        hint = difflib.get_close_matches(str(name), list(DATASETS), n=1)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown dataset {name!r}.{did_you_mean} Valid: {', '.join(DATASETS)}")
    return DATASETS[name]


def load_dataset(name: str, *, split: str, data_root: str | os.PathLike | None = None, download: bool = False,
                 rng_seed: int = 0, **task_options: Any) -> ArrayDataset:
    """Load one split of a registered dataset.

    Parameters
    ----------
    name : a name from :func:`dataset_names`
    split : ``"train"`` or ``"test"``
    data_root : folder of the dataset files (default: ``$DIAMLIB_DATA_DIR`` or the project's
        ``data/`` folder); relative paths are taken from the working directory
    download : allow torchvision to download missing files; with False nothing touches the network
    rng_seed : seed of the random parts (the landmark tasks' transforms, via
        ``child_rng(rng_seed, "landmarks/<base>/<split>")``); other datasets ignore it
    **task_options : options of the dataset, see ``DATASETS[name].options`` (landmark tasks:
        ``canvas_scale, max_rotation_deg, scale_range, max_translation``; celeba:
        ``image_size, cache``; lfw-net: ``image_size``)

    Returns
    -------
    ArrayDataset

    References
    ----------
    Paper Sec. 6.1 and Sec. 6.6.
    """
    spec = get_dataset_spec(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    unknown = sorted(set(task_options) - set(spec.options))
    if unknown:
        valid = ", ".join(spec.options) if spec.options else "none"
        raise TypeError(f"dataset {name!r} does not take the option(s) {', '.join(unknown)}; valid options: {valid}")
    root = resolve_data_root(data_root)
    if data_root is not None and not root.is_dir() and not download:
        raise FileNotFoundError(
            f"data_root {root} does not exist; create it and put the {name} files there, fix the path, "
            f"or leave data_root unset to use the default data folder ({default_data_root()})"
        )
    return spec.load(split, root, bool(download), int(rng_seed), **task_options)
