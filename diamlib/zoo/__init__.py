"""Target models: OFA MobileNetV3 subnets (the paper's 12 and CPU-sized versions) and
bring-your-own networks, all behind one interface.

Public API
----------
TargetModel, ModelFactory, wrap_module     one model (backbone + linear head)
ModelSpec, custom_zoo, zoo_table           zoos of models
sklearn_zoo                                bring-your-own scikit-learn estimators as a zoo
ZOOS, zoo_names, build_zoo                 named zoos (paper12, cpu6, cpu4, smoke3, smoke2, sklearn6,
                                           sklearn-smoke, sklearn-reg)
zoo_kind, zoo_task                         torch or sklearn zoo; the task a zoo is made for
paper12_match_table                        published vs reconstructed sizes of the 12 models
count_parameters, count_macs               sizes of any network

References
----------
Sec. 6.1 of the paper (target models); Cai et al., ICLR 2020 (OFA).
"""
from diamlib.zoo.complexity import count_macs, count_parameters
from diamlib.zoo.paper12 import paper12_match_table
from diamlib.zoo.registry import ZOOS, build_zoo, sklearn_zoo, zoo_kind, zoo_names, zoo_task
from diamlib.zoo.spec import ModelSpec, custom_zoo, zoo_table
from diamlib.zoo.target import ModelFactory, TargetModel, wrap_module

__all__ = [
    "TargetModel", "ModelFactory", "wrap_module", "ModelSpec", "custom_zoo", "sklearn_zoo", "zoo_table",
    "ZOOS", "zoo_names", "zoo_kind", "zoo_task", "build_zoo", "paper12_match_table", "count_parameters", "count_macs",
]
