"""The training and test sets of one dataset as a profile's experiment section asks for them.

References
----------
Sec. 6.1 and 6.6 of the paper (datasets; here subsampled to the profile's sizes).
"""
from __future__ import annotations

from diamlib.config import ExperimentParams, resolve_profile_data_root
from diamlib.data.dataset import ArrayDataset
from diamlib.data.registry import load_dataset
from diamlib.data.subsets import subsample
from diamlib.seeding import child_rng

#: Seed of the draw of the training/test subsets, shared by every seed of a profile so all
#: runs of a profile use the same pool and test set.
DATA_SEED = 0


def load_task_data(section: ExperimentParams, task: str, dataset: str) -> tuple[ArrayDataset, ArrayDataset]:
    """Training and test sets of ``dataset``, subsampled to the profile's sizes."""
    options = {}
    data_root = resolve_profile_data_root(section.data_root)
    if dataset.startswith("landmarks-"):
        options = section.landmarks.model_dump()
    train = load_dataset(dataset, split="train", data_root=data_root, download=section.download,
                         rng_seed=DATA_SEED, **options)
    test = load_dataset(dataset, split="test", data_root=data_root, download=section.download,
                        rng_seed=DATA_SEED + 1, **options)
    if train.task != task:
        raise ValueError(f"dataset {dataset!r} is a {train.task} dataset, listed under {task}")
    if section.train_size is not None and section.train_size < train.n:
        train = subsample(train, section.train_size, child_rng(DATA_SEED, "subsample-train"))
    if section.test_size is not None and section.test_size < test.n:
        test = subsample(test, section.test_size, child_rng(DATA_SEED, "subsample-test"))
    needed = section.initial_labels + section.rounds * section.query_size
    if needed > train.n:
        raise ValueError(
            f"{dataset}: initial_labels + rounds * query_size = {needed} exceeds the "
            f"{train.n} training examples; lower them"
        )
    return train, test
