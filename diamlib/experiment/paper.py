"""A typed fidelity table: what a profile runs, what the paper states, what the authors' code runs.

Every row holds values of one type on every side (an ``int``, a ``float``, a ``bool``, a
short literal string such as ``"cosine"``, or a ``(min, max)`` / ``(first, last)`` tuple),
so ``same as paper`` and ``same as authors`` are exact comparisons. ``None`` means the side
states no value: the paper's text says it follows OFA's default training configuration
without listing most of it, and the authors' published code holds no regression
experiment. The authors' column names its source (file and function of the public
repository ``tangypnuaa/DIAM``) in ``source``.

What the authors' code does, in short (see each row's source): the 12 OFA specialised
networks are loaded with their pretrained weights and then re-initialised ("he_fout") by
the run manager, so they train from scratch; SGD with Nesterov momentum 0.9, cosine decay
per step from 7.5e-3, weight decay 3e-5 on neither BatchNorm nor bias, label smoothing 0.1,
batch 120, 20 epochs, random-resized-crop / flip / colour-jitter augmentation; the soft
version space holds the predictions of (0-based) epochs 10-19, i.e. epochs 11..20; coreset
distances use a frozen ImageNet OFA network (kernel 7, expand 6, depth 4) at its 1280-d
feature-mix layer.

References
----------
Sec. 6.1 (classification: 12 OFA nets, 3,000 initial labels, tau = 1,500, 20 epochs of SGD
with lr 7.5e-3, batch 128, momentum 0.9, ImageNet-pretrained, coreset on the supernet's
features), Sec. 5.2 (soft version space of epochs floor(T/2)..T) and Sec. 6.6 (regression:
MSE loss, batch 64, 500 initial labels, 300 (LFW+NET) or 600 (CelebA) queries per round).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from diamlib.config import ExperimentParams, Profile
from diamlib.evidence import snapshot_epochs

__all__ = ["SettingRow", "PAPER_QUERY_SIZES", "AUTHORS_PROTOCOL_SETTINGS", "fidelity_rows", "profile_settings",
           "settings_versus_paper", "same_value"]

_RUN_MANAGER = "ofa/imagenet_classification/run_manager/distributed_run_manager.py"
_AL_SAMPLER = "ofa/imagenet_classification/data_providers/al_sampler.py"
_NO_REGRESSION = "no regression experiment in the published code"

#: The paper's query batch size per round for its regression datasets (Sec. 6.6).
PAPER_QUERY_SIZES = {"lfw-net": 300, "celeba": 600}

#: Settings in which the ``paper-*`` profiles follow the authors' code (their training protocol).
AUTHORS_PROTOCOL_SETTINGS = (
    "target models", "input resolution (min, max)", "pretrained", "full training set", "initial labels",
    "query size (tau)", "query rounds", "epochs per round", "batch size", "learning rate", "lr schedule",
    "momentum", "nesterov", "weight decay", "weight decay on BatchNorm/bias", "label smoothing", "augmentation",
    "seeds", "device",
)


@dataclass(frozen=True)
class SettingRow:
    """One setting on the three sides, with where the authors' value comes from."""

    setting: str
    ours: Any
    paper: Any
    authors: Any
    source: str


def same_value(left: Any, right: Any) -> bool | None:
    """Exact comparison of two typed values; None when either side states no value.

    A ``bool`` never equals an ``int`` and floats compare with a relative tolerance of 1e-9.
    """
    if left is None or right is None:
        return None
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=0.0)
    return left == right


def _zoo(section: ExperimentParams, specs: Sequence | None) -> tuple[int, tuple[int, int]]:
    if specs is None:
        from diamlib.zoo import build_zoo

        specs = build_zoo(section.zoo, n_outputs=10, width_mult=section.width_mult, resolution=section.resolution,
                          pretrained=False)
    resolutions = [s.resolution for s in specs]
    return len(specs), (min(resolutions), max(resolutions))


def _published_resolutions() -> tuple[int, int]:
    """(min, max) input resolution of the 12 published OFA networks the paper names."""
    from diamlib.zoo.paper12 import paper12_members

    resolutions = [m.resolution for m in paper12_members()]
    return min(resolutions), max(resolutions)


def profile_settings(profile: Profile, task: str, specs: Sequence | None = None) -> dict[str, Any]:
    """The settings of :func:`fidelity_rows`, read from ``profile`` (typed values).

    Parameters
    ----------
    profile : Profile
    task : {"classification", "regression"}
    specs : sequence of ModelSpec, optional
        The zoo the runs use; default: the profile's zoo (sizes only, no weights fetched).
    """
    section = profile.experiment(task)
    training = section.training
    n_models, resolutions = _zoo(section, specs)
    snapshots = snapshot_epochs(training.epochs)
    return {
        "target models": n_models,
        "input resolution (min, max)": resolutions,
        "pretrained": section.pretrained,
        "full training set": all(section.sizes_for(d)[0] is None for d in section.datasets),
        "initial labels": section.initial_labels,
        "query size (tau)": section.query_size,
        "query rounds": section.rounds,
        "epochs per round": training.epochs,
        "batch size": training.batch_size,
        "learning rate": float(training.lr),
        "lr schedule": training.lr_schedule,
        "momentum": float(training.momentum),
        "nesterov": training.nesterov,
        "weight decay": float(training.weight_decay),
        "weight decay on BatchNorm/bias": training.decay_norm_and_bias,
        "label smoothing": float(training.label_smoothing),
        "augmentation": training.augmentation,
        "snapshot epochs (first, last)": (snapshots[0], snapshots[-1]),
        "coreset feature model": section.feature_model,
        "seeds": len(profile.seeds_for(task)),
        "device": profile.device,
        **_diam_settings(section),
    }


def _diam_settings(section: ExperimentParams) -> dict[str, Any]:
    """beta, solver and k-NN fraction of the section's ``diam`` method (None where it does not run ``diam``)."""
    from diamlib.strategies.registry import get_strategy

    entry = next((e for e in section.strategies if e.method == "diam"), None)
    if entry is None:
        return {"DIAM beta": None, "DIAM solver": None, "DIAM k-NN fraction": None}
    options = get_strategy("diam").resolved_options(section.options_for(entry))
    return {"DIAM beta": float(options["beta"]), "DIAM solver": options["solver"],
            "DIAM k-NN fraction": float(options["knn_fraction"])}


def _classification_reference() -> dict[str, tuple[Any, Any, str]]:
    """setting -> (paper, authors, source) for classification (Sec. 6.1)."""
    published = _published_resolutions()
    return {
        "target models": (12, 12, "load_test_models.py: test_models (12 OFA specialised nets); iter_all.sh "
                                  "runs model_num 12"),
        "input resolution (min, max)": (published, published, "load_test_models.py: load_test_models (each "
                                                              "ofa_specialized net's own image size)"),
        "pretrained": (True, False, f"{_RUN_MANAGER}: DistributedRunManager.__init__ (init=True re-initialises "
                                    "the loaded weights with he_fout)"),
        "full training set": (True, True, f"{_AL_SAMPLER}: ImagenetALDataProvider.__init__ (whole train split)"),
        "initial labels": (3000, 3000, "train_net.py: module settings (valid_size = 3000 serves as the initial "
                                       "labelled set)"),
        "query size (tau)": (1500, 1500, "iter_all.sh: BATCH_SIZE=1500 passed to al_select.py --batch_size"),
        "query rounds": (10, 10, "iter_all.sh: training at al_iter 0..10, selection after each of al_iter 0..9 "
                                 "used"),
        "epochs per round": (20, 20, "train_net.py: module settings (n_epochs = 20)"),
        "batch size": (128, 120, "train_net.py: module settings (base_batch_size = 120)"),
        "learning rate": (0.0075, 0.0075, "train_net.py: module settings (base_lr = 7.5e-3)"),
        "lr schedule": (None, "cosine", "train_net.py: lr_schedule_type = 'cosine'; "
                                        "run_config.py: RunConfig.adjust_learning_rate (every batch)"),
        "momentum": (0.9, 0.9, "train_net.py: module settings (momentum = 0.9)"),
        "nesterov": (None, True, "train_net.py: __main__ (opt_param nesterov = not no_nesterov = True)"),
        "weight decay": (None, 3e-5, "train_net.py: module settings (weight_decay = 3e-5)"),
        "weight decay on BatchNorm/bias": (None, False, f"train_net.py: no_decay_keys = 'bn#bias'; {_RUN_MANAGER}: "
                                                        "DistributedRunManager.__init__ (optimizer groups)"),
        "label smoothing": (None, 0.1, f"train_net.py: label_smoothing = 0.1; {_RUN_MANAGER}: "
                                       "DistributedRunManager.__init__ (train_criterion)"),
        "augmentation": (None, "authors", f"{_AL_SAMPLER}: ImagenetALDataProvider.build_train_transform (random "
                                          "resized crop 0.08-1, flip, colour jitter 'tf')"),
        "snapshot epochs (first, last)": ((10, 20), (11, 20), "train_net.py: train_one_epoch and __main__ "
                                                              "(predictions saved for 0-based epochs >= 20 - "
                                                              "round(20 * 0.5) = 10)"),
        "coreset feature model": ("supernet", "supernet", "al_select.py: __main__ coreset branch (frozen ImageNet "
                                                          "OFA MobileNetV3Large K7 E6 D4, get_logits = 1280-d "
                                                          "feature-mix output)"),
        "seeds": (1, 1, "train_net.py: module settings (manual_seed = 0, one run per setting)"),
        "device": ("cuda", "cuda", "train_net.py: train_one_epoch (images.cuda())"),
        "DIAM beta": (-0.1, -2.0, "al_select.py: argument --DIAMq (default 1.0; their QP 1/2 b'Pb - q_coef b'v "
                                  "means beta = -2 q_coef; the paper, Sec. 6.4: -0.1 except on many-class data)"),
        "DIAM solver": (None, "authors", "al_select.py: __main__ DIAM branch, DIAM_qp (qpsolvers, OSQP) on the n // 5 "
                                         "most-voted pool points; ours: 'authors' is that recipe, 'greedy-swap' "
                                         "minimises the binary Eq. 9; the paper, Sec. 5.2: 'solves a quadratic "
                                         "program', no solver named"),
        "DIAM k-NN fraction": (0.01, 0.01, "al_select.py: __main__ DIAM branch (nnn = int(len(subsample_ids) * "
                                           "0.01) of the subsample, the point itself included; the paper, Eq. 10: "
                                           "the smallest 1 % of distances)"),
    }


def _regression_reference(datasets: Sequence[str]) -> dict[str, tuple[Any, Any, str]]:
    """setting -> (paper, authors, source) for regression (Sec. 6.6); the authors' code has none."""
    sizes = {PAPER_QUERY_SIZES.get(d) for d in datasets}
    query = sizes.pop() if len(sizes) == 1 else None
    paper = {
        "target models": 12, "input resolution (min, max)": _published_resolutions(), "pretrained": True,
        "full training set": True, "initial labels": 500, "query size (tau)": query, "query rounds": 10,
        "epochs per round": 20, "batch size": 64, "learning rate": 0.0075, "lr schedule": None, "momentum": 0.9,
        "nesterov": None, "weight decay": None, "weight decay on BatchNorm/bias": None, "label smoothing": None,
        "augmentation": None, "snapshot epochs (first, last)": None, "coreset feature model": "supernet",
        "seeds": 1, "device": "cuda",
    }
    return {key: (value, None, _NO_REGRESSION) for key, value in paper.items()}


def fidelity_rows(profile: Profile, task: str, specs: Sequence | None = None) -> list[SettingRow]:
    """Each setting of ``task`` on the three sides (typed values; see the module docstring).

    Parameters
    ----------
    profile : Profile
    task : {"classification", "regression"}
    specs : sequence of ModelSpec, optional
        The zoo the runs use; default: the profile's zoo.

    Returns
    -------
    list of SettingRow

    References
    ----------
    Sec. 6.1 and 6.6 of the paper.
    """
    ours = profile_settings(profile, task, specs)
    section = profile.experiment(task)
    reference = _classification_reference() if task == "classification" else _regression_reference(section.datasets)
    return [SettingRow(name, ours[name], paper, authors, source) for name, (paper, authors, source) in reference.items()]


def settings_versus_paper(profile: Profile, task: str, specs: Sequence | str | None = None,
                          resolutions: str | None = None) -> pd.DataFrame:
    """Table ``setting | this profile | paper (text) | authors' code | same as paper | same as authors | source``.

    Parameters
    ----------
    profile : Profile
    task : {"classification", "regression"}
    specs : sequence of ModelSpec, optional
        The zoo the runs use (``settings_versus_paper(cfg, task, specs)``); default: the
        profile's zoo. A string (the description that earlier versions took) is accepted and
        ignored, as is ``resolutions``: both are now read from the zoo.

    Returns
    -------
    pandas.DataFrame
        One row per setting; the value columns are of object dtype and keep each value's type;
        the ``same as ...`` columns hold True / False, or None where that side states no value.
    """
    zoo = None if isinstance(specs, str) else specs
    rows = [{"setting": r.setting, "this profile": r.ours, "paper (text)": r.paper, "authors' code": r.authors,
             "same as paper": same_value(r.ours, r.paper), "same as authors": same_value(r.ours, r.authors),
             "source": r.source} for r in fidelity_rows(profile, task, zoo)]
    return pd.DataFrame(rows, columns=["setting", "this profile", "paper (text)", "authors' code", "same as paper",
                                       "same as authors", "source"]).astype(object)
