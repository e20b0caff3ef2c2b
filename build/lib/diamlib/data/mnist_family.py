"""MNIST, Fashion-MNIST, Kuzushiji-MNIST and EMNIST (letters, digits) from IDX files.

Files are looked for, plain or gzipped, in torchvision's layout ``<data_root>/<Folder>/raw/``
(``MNIST``, ``FashionMNIST``, ``KMNIST``, ``EMNIST``) and in ``<data_root>/<name>/``.
Fashion-MNIST is also read from Debian's package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist/``), so it works offline. With ``download=True`` and the
files missing, torchvision downloads them into the torchvision layout; they are then read
with this package's own IDX reader.

EMNIST's IDX files store every image transposed; they are transposed back to the upright
orientation here. EMNIST letters' labels 1..26 become 0..25 (``a`` .. ``z``).

References
----------
Paper Sec. 6.1, Table 1.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diamlib.data.dataset import ArrayDataset
from diamlib.data.idx import read_idx_pair
from diamlib.data.locations import download_failed_error, find_files, missing_files_error

#: Where Debian's ``dataset-fashion-mnist`` package installs the Fashion-MNIST IDX files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _emnist_files(subset: str) -> dict[str, tuple[str, str]]:
    return {split: (f"emnist-{subset}-{split}-images-idx3-ubyte", f"emnist-{subset}-{split}-labels-idx1-ubyte")
            for split in ("train", "test")}


@dataclass(frozen=True)
class IdxSource:
    """How one MNIST-family dataset is stored and labelled.

    Attributes
    ----------
    name : registry name, e.g. ``"kmnist"``
    torchvision_class : class in ``torchvision.datasets`` that downloads it (also its folder name)
    files : split -> (images file name, labels file name), without ``.gz``
    classes : class names in label order
    label_offset : subtracted from the stored labels (1 for EMNIST letters)
    transposed : whether the stored images are transposed (EMNIST)
    emnist_subset : torchvision's EMNIST ``split`` argument, or None
    system_dirs : extra folders searched after the data root (Debian package)
    """

    name: str
    torchvision_class: str
    files: dict[str, tuple[str, str]]
    classes: tuple[str, ...]
    label_offset: int = 0
    transposed: bool = False
    emnist_subset: str | None = None
    system_dirs: tuple[Path, ...] = ()

    def folders(self, root: Path) -> list[Path]:
        """Folders searched, in order."""
        raw = root / self.torchvision_class / "raw"
        return [raw, raw / "gzip", root / self.name, *self.system_dirs]


IDX_SOURCES: dict[str, IdxSource] = {
    "mnist": IdxSource("mnist", "MNIST", _MNIST_FILES, tuple(string.digits)),
    "fashion-mnist": IdxSource(
        "fashion-mnist", "FashionMNIST", _MNIST_FILES,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
         "Ankle boot"),
        system_dirs=(DEBIAN_FASHION_MNIST_DIR,),
    ),
    "kmnist": IdxSource("kmnist", "KMNIST", _MNIST_FILES,
                        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    "emnist-letters": IdxSource("emnist-letters", "EMNIST", _emnist_files("letters"),
                                tuple(string.ascii_lowercase), label_offset=1, transposed=True,
                                emnist_subset="letters"),
    "emnist-digits": IdxSource("emnist-digits", "EMNIST", _emnist_files("digits"), tuple(string.digits),
                               transposed=True, emnist_subset="digits"),
}


def load_idx_dataset(name: str, *, split: str, root: Path, download: bool) -> ArrayDataset:
    """Load one split of an MNIST-family dataset.

    Parameters
    ----------
    name : a key of :data:`IDX_SOURCES`
    split : ``"train"`` or ``"test"``
    root : the data folder
    download : whether torchvision may download missing files into ``root``

    Returns
    -------
    ArrayDataset with images uint8 (n, 28, 28) and int64 labels (n,).

    References
    ----------
    Paper Sec. 6.1, Table 1.
    """
    source = IDX_SOURCES[name]
    paths = _locate(source, split, root, download)
    images_name, labels_name = source.files[split]
    images, labels = read_idx_pair(paths[images_name], paths[labels_name])
    if source.transposed:
        images = np.ascontiguousarray(images.transpose(0, 2, 1))
    targets = labels.astype(np.int64) - source.label_offset
    if targets.size and (targets.min() < 0 or targets.max() >= len(source.classes)):
        raise ValueError(
            f"{name}: labels in {paths[labels_name]} span {labels.min()}..{labels.max()}, expected "
            f"{source.label_offset}..{source.label_offset + len(source.classes) - 1}; wrong file?"
        )
    return ArrayDataset(name=name, images=images, targets=targets, task="classification",
                        classes=source.classes)


def _locate(source: IdxSource, split: str, root: Path, download: bool) -> dict[str, Path]:
    names = source.files[split]
    found = find_files(source.folders(root), names)
    if found is None and download:
        _download(source, split, root)
        found = find_files(source.folders(root), names)
    if found is None:
        how = f"place the IDX files (plain or .gz) in {root / source.torchvision_class / 'raw'}"
        if source.system_dirs:
            how += " or install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
        raise missing_files_error(source.name, [n + "[.gz]" for n in names], source.folders(root),
                                  how_to_get=how, can_download=not download)
    return found


def _download(source: IdxSource, split: str, root: Path) -> None:
    import torchvision.datasets

    dataset_class = getattr(torchvision.datasets, source.torchvision_class)
    kwargs = {"split": source.emnist_subset} if source.emnist_subset else {}
    root.mkdir(parents=True, exist_ok=True)
    try:
        dataset_class(str(root), train=split == "train", download=True, **kwargs)
    except Exception as exc:  # network and archive errors of any kind
        raise download_failed_error(source.name, root / source.torchvision_class / "raw", exc) from exc
