"""Datasets of the paper's experiments as in-memory uint8 arrays.

Classification (Sec. 6.1): ``fashion-mnist`` and ``digits`` (offline), ``mnist``, ``kmnist``,
``emnist-letters``, ``emnist-digits``, ``cifar10``, ``cifar100`` (files under ``data_root`` or
``download=True``). Regression (Sec. 6.6): ``landmarks-fashion-mnist`` and ``landmarks-digits``
(offline embedded landmark tasks), ``celeba`` and ``lfw-net`` (files under ``data_root``).

Files expected under ``data_root`` (default ``$DIAMLIB_DATA_DIR`` or the project's ``data/``)::

    MNIST/raw/, KMNIST/raw/, FashionMNIST/raw/   train-images-idx3-ubyte, train-labels-idx1-ubyte,
                                                 t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or .gz)
    EMNIST/raw/                                  emnist-{letters,digits}-{train,test}-{images-idx3,labels-idx1}-ubyte
    cifar-10-batches-py/                         data_batch_1..5, test_batch, batches.meta
    cifar-100-python/                            train, test, meta
    celeba/                                      img_align_celeba/, list_eval_partition.txt,
                                                 list_landmarks_align_celeba.txt
    lfw-net/                                     trainImageList.txt, testImageList.txt and the image
                                                 folders they list (lfw_5590/, net_7876/)

With ``download=True`` torchvision fetches the MNIST family, CIFAR and CelebA into that layout.
Fashion-MNIST is also read from Debian's package ``dataset-fashion-mnist``.

Modules: ``dataset`` (the ArrayDataset type), ``registry`` (names -> loaders), ``idx``,
``mnist_family``, ``cifar``, ``digits``, ``landmarks``, ``celeba``, ``lfw_net``, ``imagefiles``,
``inputs`` (network inputs), ``augment`` (training augmentation), ``subsets``, ``flat`` (flat
PCA inputs of scikit-learn models), ``plotting``, ``locations``. A profile section's train and
test sets: :func:`diamlib.experiment.setup.load_task_data`.
"""
from diamlib.data.dataset import ArrayDataset
from diamlib.data.idx import IdxFormatError, read_idx
from diamlib.data.inputs import to_model_input
from diamlib.data.landmarks import KEYPOINT_FRACTIONS, KEYPOINT_NAMES, embed_landmark_task
from diamlib.data.locations import default_data_root
from diamlib.data.plotting import plot_landmark_examples
from diamlib.data.registry import DATASETS, DatasetSpec, dataset_names, get_dataset_spec, load_dataset
from diamlib.data.subsets import dataset_summary, subsample

__all__ = [
    "ArrayDataset", "DATASETS", "DatasetSpec", "IdxFormatError", "KEYPOINT_FRACTIONS", "KEYPOINT_NAMES",
    "dataset_names", "dataset_summary", "default_data_root", "embed_landmark_task", "get_dataset_spec",
    "load_dataset", "plot_landmark_examples", "read_idx", "subsample", "to_model_input",
]
