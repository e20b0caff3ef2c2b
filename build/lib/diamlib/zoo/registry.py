"""Named model zoos: the paper's 12 target models and CPU-sized versions of them.

``paper12``
    The 12 OFA MobileNetV3 subnets of Sec. 6.1 at their own width (1.0) and resolution
    (160-192), reconstructed to match the published parameters and MACs.
``paper6``
    Six of the 12 at their own width and resolution (160-192 px), two per phone, spanning the
    12 models' parameters and MACs: the deep-network test sized for one GPU (profile ``gpu-lite``).
``cpu6``, ``cpu4``
    Six / four of those architectures (same kernel sizes, expand ratios and depths) on the
    width-0.35 supernet at 28 / 32 px: the paper's models scaled down for a 2-core CPU,
    spanning about a twofold range of parameters and MACs (the paper's 12: 1.7x). Chosen
    among the 12 for training speed; stored channels-last (faster on CPU); batch-norm
    momentum 0.3 instead of 0.1 so that a few dozen steps of training from scratch give
    usable running statistics.
``cpu12``
    All 12 architectures, in published order, on the width-0.35 supernet at 28 px (as
    ``cpu6``): the paper's full set of target models scaled down for a CPU.
``smoke3``, ``smoke2``
    Three / two of them at width 0.25 and 16 px, for tests that train in seconds.
``sklearn6``
    Six scikit-learn classifiers on 40 whitened principal components of 16 x 16 px images:
    logistic regression, a linear SVM, k-NN, a random forest, histogram gradient boosting and
    an MLP (:mod:`diamlib.zoo.sklearn_models`); a round of all six on 300 labels and a pool
    of 2,000 takes about a second on one core.
``sklearn-smoke``
    Three of them (linear SVM, k-NN, a small MLP), for tests.
``sklearn-reg``
    Four multi-output regressors for the landmark task: ridge, k-NN, a random forest, an MLP.

Every zoo keeps the published ids as model names and the published order.

References
----------
Sec. 6.1 of the paper (target models); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from diamlib.zoo.ofa_zoo import OFAMember, build_ofa_zoo
from diamlib.zoo.paper12 import paper12_members, paper12_published_info
from diamlib.zoo.published import PAPER12_PUBLISHED
from diamlib.zoo.sklearn_models import (HistGradientBoostingLearner, KNNLearner, LinearSVMLearner,
                                         LogisticRegressionLearner, MLPLearner, RandomForestLearner, RidgeLearner,
                                         SklearnLearner, as_learners)
from diamlib.zoo.spec import ModelSpec

__all__ = ["ZooBuilder", "ZOOS", "zoo_names", "build_zoo", "paper_members", "scaled_paper_zoo", "SklearnZoo", "zoo_kind", "zoo_task",
           "sklearn_zoo"]

ZooBuilder = Callable[..., list[ModelSpec]]
"""``(*, n_outputs, width_mult, resolution, pretrained) -> list[ModelSpec]``."""


def paper_members(names: tuple[str, ...]) -> list[OFAMember]:
    """The paper's target models named ``names`` (published ids), in that order, as published.

    Raises
    ------
    ValueError
        A name that is not one of the 12.
    """
    by_name = {m.name: m for m in paper12_members()}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"{unknown} are not among the paper's 12 target models")
    return [by_name[n] for n in names]


@dataclass(frozen=True)
class PaperZoo:
    """Some of the paper's target models at their own width and resolution, with the published
    figures in ``info`` (``paper12``: all 12 of Sec. 6.1; ``paper6``: six of them).

    Attributes
    ----------
    names : tuple of str
        Published ids of the chosen models, in zoo order.
    """

    names: tuple[str, ...]

    def __call__(self, *, n_outputs: int, width_mult: float | None = None, resolution: int | None = None,
                 pretrained: bool = False) -> list[ModelSpec]:
        return build_ofa_zoo(paper_members(self.names), n_outputs=n_outputs, width_mult=width_mult,
                             resolution=resolution, pretrained=pretrained, extra_info=paper12_published_info())


@dataclass(frozen=True)
class ScaledPaperZoo:
    """Some of the paper's 12 architectures at a smaller width and resolution (a CPU zoo).

    Attributes
    ----------
    names : tuple of str
        Published ids of the chosen models (kept as model names), in zoo order.
    width_mult : float
        Default supernet width multiplier.
    resolution : int
        Default input resolution.
    bn_momentum : float
        Batch-norm momentum (short from-scratch training; see ``OFASubnetFactory``).
    """

    names: tuple[str, ...]
    width_mult: float
    resolution: int
    bn_momentum: float = 0.3

    def members(self) -> list[OFAMember]:
        return [replace(m, width_mult=self.width_mult, resolution=self.resolution) for m in paper_members(self.names)]

    def __call__(self, *, n_outputs: int, width_mult: float | None = None, resolution: int | None = None,
                 pretrained: bool = False) -> list[ModelSpec]:
        return build_ofa_zoo(self.members(), n_outputs=n_outputs, width_mult=width_mult, resolution=resolution,
                             pretrained=pretrained, channels_last=True, bn_momentum=self.bn_momentum,
                             extra_info=paper12_published_info())


def scaled_paper_zoo(names: tuple[str, ...], width_mult: float, resolution: int) -> ScaledPaperZoo:
    """A zoo builder for some of the paper's architectures at another width and resolution."""
    return ScaledPaperZoo(tuple(names), float(width_mult), int(resolution))


@dataclass(frozen=True)
class LearnerFactory:
    """The factory of a scikit-learn :class:`ModelSpec`: ``n_outputs -> SklearnLearner`` (the
    learner describes an unfitted model; the loop fits it each round)."""

    learner: SklearnLearner

    def __call__(self, n_outputs: int) -> SklearnLearner:
        return self.learner


@dataclass(frozen=True)
class SklearnZoo:
    """scikit-learn target models for one task, on whitened PCA inputs.

    Attributes
    ----------
    task : {"classification", "regression"}
        The task every member learns.
    members : tuple of (str, SklearnLearner)
        Model names and learners, in zoo order.
    resolution : int
        Default side the images are resized to before flattening.
    pca_components : int
        Principal components the models see (:func:`diamlib.data.flat.pca_inputs`).
    """

    task: str
    members: tuple[tuple[str, SklearnLearner], ...]
    resolution: int = 16
    pca_components: int = 40

    def __call__(self, *, n_outputs: int, width_mult: float | None = None, resolution: int | None = None,
                 pretrained: bool = False) -> list[ModelSpec]:
        if width_mult is not None or pretrained:
            raise ValueError("scikit-learn zoos have no supernet: remove width_mult and pretrained from the section")
        side = resolution or self.resolution
        return [_sklearn_spec(name, learner, task=self.task, resolution=side, pca_components=self.pca_components,
                              n_outputs=n_outputs)
                for name, learner in self.members]


def _sklearn_spec(name: str, learner: SklearnLearner, *, task: str, resolution: int, pca_components: int,
                  n_outputs: int | None) -> ModelSpec:
    """The :class:`ModelSpec` of one scikit-learn learner (sizes at ``n_outputs``; None if unknown)."""
    params = None if n_outputs is None else learner.nominal_parameters(pca_components, n_outputs)
    return ModelSpec(name=name, factory=LearnerFactory(learner), resolution=resolution, kind="sklearn",
                     pca_components=pca_components,
                     info={"family": learner.family, "arch_summary": learner.describe(), "task": task,
                           "params": params, "macs": None, "n_outputs": n_outputs,
                           "feature_dim": learner.feature_dim(pca_components)})


def sklearn_zoo(models: Mapping[str, Any], *, task: str = "classification", pca_components: int = 40,
                resolution: int = 16, n_outputs: int | None = None) -> list[ModelSpec]:
    """Bring-your-own scikit-learn target models: estimators or learners, on whitened PCA inputs.

    Pass the result to ``run_task(..., zoo=...)`` as :func:`diamlib.zoo.custom_zoo`'s networks.

    Parameters
    ----------
    models : mapping of str to estimator or SklearnLearner
        Model name -> an unfitted scikit-learn estimator (wrapped in
        :class:`~diamlib.zoo.sklearn_models.EstimatorLearner`: a classifier needs ``fit`` and
        ``predict_proba``, a regressor ``fit`` and ``predict``) or a built-in learner
        (:mod:`diamlib.zoo.sklearn_models`), in zoo order.
    task : {"classification", "regression"}
        The task every model learns; checked now, before any run.
    pca_components : int
        Whitened principal components of the flattened images the models see
        (:func:`diamlib.data.flat.pca_inputs`).
    resolution : int
        Side the images are resized to before flattening.
    n_outputs : int, optional
        Classes or outputs, for the nominal sizes of :func:`~diamlib.zoo.zoo_table` (default: unknown).

    Returns
    -------
    list of ModelSpec

    Raises
    ------
    ValueError
        No models, repeated names, or a model that cannot learn ``task`` (e.g. a classifier
        without ``predict_proba``; the message suggests ``CalibratedClassifierCV``).
    TypeError
        An entry that is not an estimator (no ``fit``/``predict``).

    References
    ----------
    Sec. 6.1 of the paper (a zoo of target models).
    """
    if not models:
        raise ValueError("sklearn_zoo needs at least one model: {name: estimator, ...}")
    learners = as_learners(models, task)
    return [_sklearn_spec(name, learner, task=task, resolution=resolution, pca_components=pca_components,
                          n_outputs=n_outputs)
            for name, learner in learners.items()]


_SKLEARN6 = SklearnZoo("classification", (
    ("logistic-regression", LogisticRegressionLearner()),
    ("linear-svm", LinearSVMLearner()),
    ("k-nn", KNNLearner()),
    ("random-forest", RandomForestLearner()),
    ("hist-gradient-boosting", HistGradientBoostingLearner()),
    ("mlp", MLPLearner()),
))
_SKLEARN_SMOKE = SklearnZoo("classification", (
    ("linear-svm", LinearSVMLearner(epochs=6)),
    ("k-nn", KNNLearner(committee=3)),
    ("mlp", MLPLearner(hidden=(32,), epochs=10)),
), pca_components=20)
_SKLEARN_REG = SklearnZoo("regression", (
    ("ridge", RidgeLearner()),
    ("k-nn", KNNLearner()),
    ("random-forest", RandomForestLearner()),
    # few labels and ten outputs: more steps, a larger step and stronger weight decay than for classes
    ("mlp", MLPLearner(epochs=40, batch_size=32, learning_rate=1e-2, alpha=1e-1)),
))

_CPU6 = (
    "note10_lat@16ms_top1@75.5_finetune@25",
    "note8_lat@65ms_top1@76.1_finetune@25",
    "note8_lat@49ms_top1@74.9_finetune@25",
    "note8_lat@22ms_top1@70.4_finetune@25",
    "s7edge_lat@58ms_top1@74.7_finetune@25",
    "s7edge_lat@29ms_top1@70.5_finetune@25",
)
_CPU4 = (
    "note10_lat@11ms_top1@73.6_finetune@25",
    "note8_lat@65ms_top1@76.1_finetune@25",
    "note8_lat@49ms_top1@74.9_finetune@25",
    "s7edge_lat@29ms_top1@70.5_finetune@25",
)
_PAPER12 = tuple(net.name for net in PAPER12_PUBLISHED)
#: Two models of each phone (the slowest and a fast one): parameters 3.7-6.4 M and MACs 68-237 M at
#: 1,000 classes span the 12 models' ranges (the smallest and largest of each are in), at 160-192 px.
_PAPER6 = (
    "note10_lat@22ms_top1@76.6_finetune@25",
    "note10_lat@11ms_top1@73.6_finetune@25",
    "note8_lat@49ms_top1@74.9_finetune@25",
    "note8_lat@22ms_top1@70.4_finetune@25",
    "s7edge_lat@88ms_top1@76.3_finetune@25",
    "s7edge_lat@29ms_top1@70.5_finetune@25",
)
_SMOKE3 = (
    "note8_lat@49ms_top1@74.9_finetune@25",
    "s7edge_lat@58ms_top1@74.7_finetune@25",
    "s7edge_lat@29ms_top1@70.5_finetune@25",
)

ZOOS: dict[str, ZooBuilder] = {
    "paper12": PaperZoo(_PAPER12),
    "paper6": PaperZoo(_PAPER6),
    "cpu6": scaled_paper_zoo(_CPU6, width_mult=0.35, resolution=28),
    "cpu4": scaled_paper_zoo(_CPU4, width_mult=0.35, resolution=32),
    "cpu12": scaled_paper_zoo(_PAPER12, width_mult=0.35, resolution=28),
    "smoke3": scaled_paper_zoo(_SMOKE3, width_mult=0.25, resolution=16),
    "smoke2": scaled_paper_zoo(_SMOKE3[::2], width_mult=0.25, resolution=16),
    "sklearn6": _SKLEARN6,
    "sklearn-smoke": _SKLEARN_SMOKE,
    "sklearn-reg": _SKLEARN_REG,
}


def zoo_kind(name: str) -> str:
    """How the models of zoo ``name`` are trained: ``"sklearn"`` or ``"torch"`` (see ``ModelSpec.kind``)."""
    _check_zoo_name(name)
    return "sklearn" if isinstance(ZOOS[name], SklearnZoo) else "torch"


def zoo_task(name: str) -> str | None:
    """The task zoo ``name`` is made for, or None when its models learn either task."""
    _check_zoo_name(name)
    return ZOOS[name].task if isinstance(ZOOS[name], SklearnZoo) else None


def _check_zoo_name(name: str) -> None:
    if name not in ZOOS:
        raise ValueError(f"unknown model zoo {name!r}; valid names: {', '.join(zoo_names())}")


def zoo_names() -> list[str]:
    """Names of the registered zoos."""
    return list(ZOOS)


def build_zoo(name: str, *, n_outputs: int, width_mult: float | None = None, resolution: int | None = None,
              pretrained: bool = False) -> list[ModelSpec]:
    """The target models of a named zoo.

    Parameters
    ----------
    name : str
        One of :func:`zoo_names`.
    n_outputs : int
        Classes or regression outputs (used for the sizes recorded in ``info``; each
        factory takes its own ``n_outputs``).
    width_mult : float, optional
        Build every subnet on the supernet of this width instead of the zoo's.
    resolution : int, optional
        Input resolution of every model instead of the zoo's.
    pretrained : bool
        Initialise backbones from ImageNet-pretrained supernet weights (widths 1.0 and 1.2).

    Returns
    -------
    list of ModelSpec

    Raises
    ------
    ValueError
        Unknown zoo name (the message lists the valid ones), bad sizes, or pretrained
        weights requested for a width that has none.
    FileNotFoundError
        Pretrained weights neither cached nor downloadable.

    References
    ----------
    Sec. 6.1 of the paper.
    """
    _check_zoo_name(name)
    return ZOOS[name](n_outputs=n_outputs, width_mult=width_mult, resolution=resolution, pretrained=pretrained)
