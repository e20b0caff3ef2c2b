"""Model specifications: how to build each target model of a zoo, and a table of a zoo.

References
----------
Sec. 6.1 of the paper (a zoo of target models of different sizes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pandas as pd
import torch

from diamlib.zoo.complexity import count_macs, count_parameters
from diamlib.zoo.target import ModelFactory, TargetModel

__all__ = ["ModelSpec", "MODEL_KINDS", "custom_zoo", "zoo_table", "INPUT_CHANNELS", "DEFAULT_TABLE_OUTPUTS"]

INPUT_CHANNELS = 3
#: How a target model is trained: a network on images, or a scikit-learn learner on flat inputs.
MODEL_KINDS = ("torch", "sklearn")
DEFAULT_TABLE_OUTPUTS = 10


@dataclass(frozen=True)
class ModelSpec:
    """One target model of a zoo.

    Attributes
    ----------
    name : str
        Unique within the zoo.
    factory : callable
        ``n_outputs -> TargetModel``, a fresh model initialised from torch's current RNG.
    resolution : int
        Input height and width the model is trained and evaluated at.
    info : dict
        Architecture and size: e.g. ``arch``, ``width_mult``, ``params`` and ``macs``
        (at ``resolution`` and ``n_outputs``), ``n_outputs``, ``feature_dim``.
    kind : {"torch", "sklearn"}
        How the loop trains the model (:data:`MODEL_KINDS`): ``torch``, a network trained by
        SGD on images (``factory`` returns a :class:`TargetModel`); ``sklearn``, a
        scikit-learn learner on flat PCA inputs (``factory`` returns a
        :class:`diamlib.zoo.sklearn_models.SklearnLearner`).
    pca_components : int, optional
        ``sklearn`` models only: principal components of the flattened ``resolution`` x
        ``resolution`` images they see (:func:`diamlib.data.flat.pca_inputs`).

    References
    ----------
    Sec. 6.1 of the paper.
    """

    name: str
    factory: ModelFactory
    resolution: int
    info: dict = field(default_factory=dict)
    kind: str = "torch"
    pca_components: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"kind of {self.name!r} must be one of {', '.join(MODEL_KINDS)}, got {self.kind!r}")
        if (self.kind == "sklearn") != (self.pca_components is not None):
            raise ValueError(f"{self.name!r}: pca_components is set for sklearn models (a positive integer) "
                             f"and only for them; got kind {self.kind!r}, pca_components {self.pca_components!r}")
        if self.pca_components is not None and (isinstance(self.pca_components, bool) or
                                                not isinstance(self.pca_components, int) or self.pca_components < 1):
            raise ValueError(f"pca_components of {self.name!r} must be a positive integer, got {self.pca_components!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"model name must be a non-empty string, got {self.name!r}")
        if not callable(self.factory):
            raise TypeError(f"factory of {self.name!r} must be callable (n_outputs -> TargetModel)")
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, int) or self.resolution < 1:
            raise ValueError(f"resolution of {self.name!r} must be a positive integer, got {self.resolution!r}")


def _check_unique(names: Sequence[str]) -> None:
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise ValueError(f"model names in a zoo must be unique; repeated: {duplicates}")


def custom_zoo(factories: Mapping[str, ModelFactory], resolution: int) -> list[ModelSpec]:
    """Bring-your-own target models, all at one input resolution.

    Parameters
    ----------
    factories : mapping of str to callable
        Model name -> ``n_outputs -> TargetModel`` (e.g. a lambda around
        :func:`diamlib.zoo.wrap_module`), in zoo order.
    resolution : int
        Input height and width of every model.

    Returns
    -------
    list of ModelSpec

    References
    ----------
    Sec. 6.1 of the paper (a zoo of target models).
    """
    if not factories:
        raise ValueError("custom_zoo needs at least one model factory")
    _check_unique(list(factories))
    return [ModelSpec(name=name, factory=factory, resolution=resolution, info={"family": "custom"})
            for name, factory in factories.items()]


def _measured_size(spec: ModelSpec, n_outputs: int) -> dict:
    """Parameters, MACs and feature width of a model built from ``spec`` (RNG left untouched)."""
    with torch.random.fork_rng(devices=[]):
        model = spec.factory(n_outputs)
    if not isinstance(model, TargetModel):
        raise TypeError(f"factory of {spec.name!r} returned {type(model).__name__}; wrap it with wrap_module")
    return {"params": count_parameters(model), "n_outputs": n_outputs, "feature_dim": model.feature_dim,
            "macs": count_macs(model, (INPUT_CHANNELS, spec.resolution, spec.resolution))}


def zoo_table(specs: Sequence[ModelSpec], n_outputs: int | None = None) -> pd.DataFrame:
    """One row per model: name, params, MACs, resolution, outputs, features, architecture.

    Parameters
    ----------
    specs : sequence of ModelSpec
    n_outputs : int, optional
        Head size for models whose ``info`` does not record their size (bring-your-own);
        such models are built once and counted. Default: 10.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, params, macs, resolution, n_outputs, feature_dim, width_mult, arch``;
        ``params`` and ``macs`` at the model's resolution and head size. For scikit-learn
        models ``arch`` is the family and its options, ``macs`` is None and ``params`` is None
        where the fitted size depends on the data (forests, boosting, k-NN).

    References
    ----------
    Sec. 6.1 of the paper (sizes of the target models).
    """
    rows = []
    for spec in specs:
        info = dict(spec.info)
        if spec.kind == "torch" and ("params" not in info or "macs" not in info):
            info.update(_measured_size(spec, n_outputs or DEFAULT_TABLE_OUTPUTS))
        rows.append({
            "name": spec.name, "params": _count_or_none(info.get("params")), "macs": _count_or_none(info.get("macs")),
            "resolution": spec.resolution, "n_outputs": info.get("n_outputs"), "feature_dim": info.get("feature_dim"),
            "width_mult": info.get("width_mult"), "arch": info.get("arch_summary", info.get("family", "")),
        })
    table = pd.DataFrame(rows, columns=["name", "params", "macs", "resolution", "n_outputs", "feature_dim",
                                        "width_mult", "arch"])
    for column in ("params", "macs"):  # unknown counts stay None (not NaN), so the table reads as JSON
        if any(row[column] is None for row in rows):
            table[column] = pd.Series([row[column] for row in rows], dtype=object)
    return table


def _count_or_none(value) -> int | None:
    return None if value is None else int(value)
