"""Target models: OFA MobileNetV3 subnets (the paper's 12 and CPU-sized versions) and
bring-your-own networks, all behind one interface.

Public API
----------
TargetModel, ModelFactory, wrap_module     one model (backbone + linear head)
ModelSpec, custom_zoo, zoo_table           zoos of models
sklearn_zoo                                bring-your-own scikit-learn estimators as a zoo
EstimatorLearner                           any scikit-learn estimator as a target model (bootstrap committee)
ZOOS, zoo_names, build_zoo                 named zoos (paper12, cpu6, cpu4, smoke3, smoke2, sklearn6,
                                           sklearn-smoke, sklearn-reg)
zoo_kind, zoo_task                         torch or sklearn zoo; the task a zoo is made for
paper12_match_table                        published vs reconstructed sizes of the 12 models
count_parameters, count_macs               sizes of any network

References
----------
Sec. 6.1 of the paper (target models); Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import importlib

#: Public name -> the module that defines it. Imported on first use, so that the scikit-learn
#: models (diamlib.zoo.sklearn_models) load without PyTorch, which the networks' modules need.
_EXPORTS = {
    "TargetModel": "diamlib.zoo.target", "ModelFactory": "diamlib.zoo.target", "wrap_module": "diamlib.zoo.target",
    "ModelSpec": "diamlib.zoo.spec", "custom_zoo": "diamlib.zoo.spec", "zoo_table": "diamlib.zoo.spec",
    "sklearn_zoo": "diamlib.zoo.registry", "EstimatorLearner": "diamlib.zoo.sklearn_models", "ZOOS": "diamlib.zoo.registry", "zoo_names": "diamlib.zoo.registry",
    "zoo_kind": "diamlib.zoo.registry", "zoo_task": "diamlib.zoo.registry", "build_zoo": "diamlib.zoo.registry",
    "paper12_match_table": "diamlib.zoo.paper12",
    "count_parameters": "diamlib.zoo.complexity", "count_macs": "diamlib.zoo.complexity",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'diamlib.zoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
