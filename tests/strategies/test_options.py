"""Options models derived from strategy signatures, and the checks a spec makes of itself."""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pytest
from pydantic import Field

from diamlib.strategies.options import OptionError, code_path_values, options_model, validate_options
from diamlib.strategies.random import select_random
from diamlib.strategies.registry import StrategySpec


def select_example(evidence, *, budget: int, rng: np.random.Generator, scale: Annotated[float, Field(gt=0)] = 1.0,
                   mode: Literal["a", "b", "c"] = "b", flag: bool = False, size: int | None = None):
    """An example signature (never called)."""


def test_model_has_the_signature_types_defaults_and_constraints():
    model = options_model(select_example)
    assert list(model.model_fields) == ["scale", "mode", "flag", "size"]
    assert model().model_dump() == {"scale": 1.0, "mode": "b", "flag": False, "size": None}
    assert validate_options("example", model, {"scale": 2, "size": 3}) == {"scale": 2.0, "size": 3}
    with pytest.raises(OptionError, match=r"option 'scale' = 0: Input should be greater than 0 \(expected float, > 0"):
        validate_options("example", model, {"scale": 0})
    with pytest.raises(OptionError, match=r"option 'size' = '3'.*\(expected int or None\)"):
        validate_options("example", model, {"size": "3"})  # strict: a string is not a number
    with pytest.raises(OptionError, match=r"option 'mode' = 'd'.*\(expected 'a' or 'b' or 'c'\)"):
        validate_options("example", model, {"mode": "d"})
    with pytest.raises(OptionError, match=r"has no option 'mood'. Did you mean 'mode'\? Valid options: scale, mode"):
        validate_options("example", model, {"mood": "a"})


def test_code_path_values_are_the_other_literal_values_and_the_other_flag():
    assert code_path_values(options_model(select_example)) == [{"mode": "a"}, {"mode": "c"}, {"flag": True}]
    assert code_path_values(options_model(select_random)) == []


def test_signatures_that_cannot_describe_their_options_are_refused():
    def no_default(evidence, *, budget, rng, k: int):
        """Missing default."""

    def positional(evidence, budget, rng):
        """Positional budget."""

    with pytest.raises(TypeError, match=r"options \['k'\] need defaults"):
        options_model(no_default)
    with pytest.raises(TypeError, match=r"fn\(evidence, \*, budget, rng, \*\*options\)"):
        options_model(positional)


@pytest.mark.parametrize("change,message", [
    ({"family": "greedy"}, "family 'greedy' is not one of"),
    ({"tasks": frozenset({"ranking"})}, "must be a non-empty subset"),
    ({"evidence": frozenset({"gradients"})}, r"evidence \['gradients'\] unknown"),
    ({"code_path_options": ({"mode": "z"},)}, "option 'mode' = 'z'"),
])
def test_spec_refuses_bad_descriptions(change, message):
    fields = dict(name="example", fn=select_example, display_name="Example", family="passive",
                  tasks=frozenset({"classification"}), evidence=frozenset(), description="x")
    with pytest.raises(ValueError, match=message):
        StrategySpec(**{**fields, **change})
