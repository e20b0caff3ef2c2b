"""An experiment set up from a profile: the profile loader, then the data, target models and torch of a section.

:func:`load_profile` (a YAML profile) and :func:`profile_from_dict` (the same as a dict) are
the profile loader, the boundary where a profile is validated, once: the schema of
:mod:`diamlib.config`, then every dataset, zoo and strategy name and every method's options
against their registries. The loop and the grid trust the profile they are given.
:func:`check_data_roots` checks the data folders before any work (not at validation, so a
profile can be checked on a machine without its data), and :func:`check_notebook_methods` the
sections and methods whose results a notebook reads by name. :func:`load_task_data`,
:func:`resolve_zoo` and :func:`configure_torch` turn a validated section into the plain
arguments of :mod:`diamlib.data`, :mod:`diamlib.zoo` and PyTorch, which know nothing of
profiles.

References
----------
Sec. 6.1 and 6.6 of the paper (datasets, here subsampled to the profile's sizes; target models;
training settings).
"""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Mapping

import torch

from diamlib.config import (SKLEARN_SECTION, ConfigError, ExperimentParams, Profile, parse_profile, read_profile,
                            unknown_name)
from diamlib.data import ArrayDataset, dataset_names, load_dataset, subsample
from diamlib.evidence import TASKS
from diamlib.numerics import require_numerics
from diamlib.paths import project_root
from diamlib.seeding import child_rng
from diamlib.strategies.registry import StrategySpec, get_strategy, strategy_names
from diamlib.zoo import ModelSpec, build_zoo, zoo_kind, zoo_names, zoo_task


# --------------------------------------------------------------------------- profiles
def load_profile(profile: str | Path, overrides: Mapping[str, Any] | None = None) -> Profile:
    """Load, override and validate a profile: :func:`diamlib.config.read_profile`, then the registries.

    Parameters
    ----------
    profile, overrides
        As for :func:`~diamlib.config.read_profile`: a profile name in ``params/`` (``"smoke"``,
        ``"default"``, ...) or a YAML path, and values that replace the file's (nested or dotted keys).

    Raises
    ------
    ConfigError
        What :func:`~diamlib.config.read_profile` refuses (missing file, unknown key, wrong type,
        out-of-range value), an unknown dataset / strategy / model zoo (listing the valid ones),
        or a strategy option that does not fit its strategy.
    """
    loaded = read_profile(profile, overrides)
    _check_registries(loaded, source=Path(loaded.source_file).name)
    return loaded


def profile_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Profile:
    """Validate a profile given as a dict (what the YAML file holds), registered names included."""
    profile = parse_profile(data, source=source)
    _check_registries(profile, source=source)
    return profile


def _check_registries(profile: Profile, *, source: str) -> None:
    """:func:`_check_registered_names`, its message prefixed with ``source``."""
    try:
        _check_registered_names(profile)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _check_registered_names(profile: Profile) -> None:
    """Dataset, zoo and strategy names must exist in their registries; every method's options fit its strategy.

    Raises
    ------
    ConfigError
        Names the section, the name, the valid ones (with a close match) and the fix.
    """
    for where, task in (("classification", "classification"), ("regression", "regression"),
                        (SKLEARN_SECTION, "classification")):
        section = getattr(profile, where)
        if section is None:
            continue
        valid = dataset_names(task)
        for name in section.datasets:
            if name not in valid:
                raise ConfigError(unknown_name(f"{where}.datasets", name, valid, "dataset"))
        zoos = zoo_names()
        if section.zoo not in zoos:
            raise ConfigError(unknown_name(f"{where}.zoo", section.zoo, zoos, "model-zoo name"))
        _check_zoo_fits(section, where, task)
        _check_strategy_options(section, task, where)


def _check_zoo_fits(section: ExperimentParams, where: str, task: str) -> None:
    """A zoo made for one task serves only that task; the ``sklearn`` section needs an sklearn zoo."""
    made_for = zoo_task(section.zoo)
    if made_for is not None and made_for != task:
        fitting = [z for z in zoo_names() if zoo_task(z) in (None, task)]
        raise ConfigError(f"{where}.zoo: {section.zoo!r} is a {made_for} zoo, but this section runs {task}; "
                          f"use one of {', '.join(fitting)}")
    if where == SKLEARN_SECTION and zoo_kind(section.zoo) != "sklearn":
        sklearn_zoos = [z for z in zoo_names() if zoo_kind(z) == "sklearn" and zoo_task(z) == task]
        raise ConfigError(f"{where}.zoo: {section.zoo!r} is a network zoo; the sklearn section runs "
                          f"scikit-learn target models: use one of {', '.join(sklearn_zoos)}")
    if zoo_kind(section.zoo) == "sklearn" and (section.width_mult is not None or section.pretrained):
        raise ConfigError(f"{where}: width_mult and pretrained apply to network zoos, not to the scikit-learn "
                          f"zoo {section.zoo!r}; remove them")


def _check_strategy_options(section: ExperimentParams, task: str, where: str | None = None) -> None:
    """Every method's strategy and options, checked against the registry's options models.

    The options of a method are the profile-wide ``strategy_options`` of its strategy,
    updated by the method's own ``options``; both are checked before anything runs.
    ``where`` names the section in messages (default: ``task``).
    """
    where = where or task

    for entry in section.strategies:
        try:
            get_strategy(entry.strategy, task)
        except ValueError as exc:
            raise ConfigError(f"{where}.strategies: {exc}") from None
    for name in section.strategy_options:
        if name not in strategy_names(task):
            raise ConfigError(unknown_name(f"{where}.strategy_options", name, strategy_names(task), f"{task} strategy"))
        _check_options(get_strategy(name, task), section.strategy_options[name],
                       where=f"{where}.strategy_options.{name}", fix=f"{where}.strategy_options.{name}")
    for entry in section.strategies:
        _check_options(get_strategy(entry.strategy, task), section.options_for(entry),
                       where=f"{where}.strategies: method {entry.method!r} (strategy {entry.strategy!r})",
                       fix=f"{where}.strategy_options.{entry.strategy} or the method's 'options'")


def _check_options(spec: StrategySpec, options: Mapping[str, Any], *, where: str, fix: str) -> None:
    """One strategy's options through its options model, as a :class:`ConfigError`."""
    try:
        spec.check_options(options)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}. Fix it in {fix}") from None


# --------------------------------------------------------------------------- before any work
def resolve_profile_data_root(data_root: str | None) -> Path | None:
    """A profile's ``data_root``: relative paths are relative to the project, not the notebook."""
    if data_root is None:
        return None
    path = Path(data_root).expanduser()
    return path if path.is_absolute() else project_root() / path


def check_data_roots(profile: Profile, tasks: typing.Iterable[str] = TASKS) -> None:
    """A ``data_root`` the profile names must exist (unless it may be downloaded into).

    Called before any work starts (by the loop and the runner), not at validation, so a
    profile can be checked on a machine that does not hold its data.

    Raises
    ------
    ConfigError
        Names the section, the folder and the fixes; never falls back to another folder.
    """
    for task in tasks:
        section = getattr(profile, task)
        if section is None or section.data_root is None or section.download:
            continue
        folder = resolve_profile_data_root(section.data_root)
        if not folder.is_dir():
            raise ConfigError(
                f"{profile.source_file or profile.name}: {task}.data_root: folder {folder} does not "
                f"exist; create it and put the dataset files there, fix the path, set download: "
                f"true, or remove data_root to use the default data folder"
            )


#: Notebook (file stem) -> profile section -> the methods whose results it reads by name (the
#: reference of its statistics, its diagnostics); :func:`check_notebook_methods` checks them
#: before the notebook's grid starts. A test keeps this in step with the notebooks' code.
NOTEBOOK_METHODS: dict[str, dict[str, tuple[str, ...]]] = {
    "02_classification": {"classification": ("diam", "diam-nodiv", "random")},
    "03_regression": {"regression": ()},
    "05_your_models": {SKLEARN_SECTION: ("diam", "random")},
}


def check_notebook_methods(profile: Profile, notebook: str) -> None:
    """Before any work: the profile has the sections and methods that ``notebook`` reads by name.

    :func:`diamlib.runner.run_notebooks` calls it for every notebook before the first one runs,
    so a missing method is reported before any grid starts, never as a missing ``run.json``
    after it.

    Parameters
    ----------
    profile : Profile
    notebook : str
        The notebook's file stem (``"02_classification"``) or its number (``"02"``); notebooks
        that read no method by name pass.

    Raises
    ------
    ConfigError
        A section or method missing; names the profile file, the section, the methods and the fix.
    """
    where = profile.source_file or profile.name
    for stem, needs in NOTEBOOK_METHODS.items():
        if stem != notebook and stem.split("_")[0] != notebook:
            continue
        for section_name, methods in needs.items():
            section = getattr(profile, section_name)
            if section is None:
                raise ConfigError(f"{where}: notebook {stem} runs the '{section_name}' section, which this profile "
                                  f"does not have; add one (see params/smoke.yaml), or leave the notebook out "
                                  f"(python -m diamlib run --only ...)")
            missing = [m for m in methods if m not in {e.method for e in section.strategies}]
            if missing:
                raise ConfigError(f"{where}: notebook {stem} reads the results of {', '.join(missing)}, which "
                                  f"{section_name}.strategies does not list; add {', '.join(missing)} to "
                                  f"{section_name}.strategies, or leave the notebook out "
                                  f"(python -m diamlib run --only ...)")


# --------------------------------------------------------------------------- data, target models, torch
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
    train_size, test_size = section.sizes_for(dataset)
    if train_size is not None and train_size < train.n:
        train = subsample(train, train_size, child_rng(DATA_SEED, "subsample-train"))
    if test_size is not None and test_size < test.n:
        test = subsample(test, test_size, child_rng(DATA_SEED, "subsample-test"))
    needed = section.labels_at_last_round
    if needed > train.n:
        raise ValueError(
            f"{dataset}: initial_labels + rounds * query_size = {needed} exceeds the "
            f"{train.n} training examples; lower them"
        )
    return train, test


def size_notes(section: ExperimentParams, task: str, dataset: str, train: ArrayDataset,
               test: ArrayDataset) -> list[str]:
    """One line for each of ``train_size`` / ``test_size`` that asks for more than ``dataset`` has.

    Such a size is a ceiling: :func:`load_task_data` then uses the whole set (every run records
    the sizes used as ``data_sizes`` in its ``run.json``), and these lines say so before any work.

    Parameters
    ----------
    section : ExperimentParams
    task : str
        The section's name, for the setting's name in the lines.
    dataset : str
    train, test : ArrayDataset
        The sets :func:`load_task_data` returned for ``dataset``.
    """
    lines = []
    for name, asked, used in zip(("train_size", "test_size"), section.sizes_for(dataset), (train.n, test.n)):
        if asked is not None and asked > used:
            split = name.split("_")[0]
            lines.append(f"note: {task}.{name} is {asked}, but {dataset} has {used} {split} examples: its runs "
                         f"use all {used} (run.json records data_sizes); set {task}.dataset_sizes.{dataset}."
                         f"{name} to {used} to make the profile say so")
    return lines


def resolve_zoo(section: ExperimentParams, n_outputs: int) -> list[ModelSpec]:
    """The target models of a profile section (:func:`diamlib.zoo.build_zoo` with its zoo settings)."""
    return build_zoo(section.zoo, n_outputs=n_outputs, width_mult=section.width_mult,
                     resolution=section.resolution, pretrained=section.pretrained)


def configure_torch(profile: Profile) -> None:
    """Numerics mode, threads and deterministic kernels, so CPU runs repeat bit for bit.

    Raises
    ------
    NumericsError
        This process computes in another numerics mode than the profile's (see
        :func:`diamlib.numerics.require_numerics`).
    """
    require_numerics(profile.numerics)
    if profile.threads:
        torch.set_num_threads(profile.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if profile.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "the profile asks for device: cuda but no CUDA device is available; "
            "use a GPU machine or set device: cpu"
        )
