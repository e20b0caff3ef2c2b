"""Typed options of a query strategy, derived from the strategy function's signature.

A strategy ``fn(evidence, *, budget, rng, **options)`` states its options once, in its
keyword-only parameters: name, type (constraints as ``Annotated[float, Field(lt=0)]``) and
default. :func:`options_model` turns them into a frozen pydantic model, so that profiles
and :func:`diamlib.strategies.run.run_strategy` check option names, types and ranges
against the function itself; :func:`code_path_values` lists the option values that switch
the function to another code path (every ``Literal`` value, the other value of a flag),
so that tests can run each of them.

References
----------
Sec. 6.1 and Sec. 6.6 of the paper (the strategies and their settings).
"""
from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

#: Keyword-only parameters every strategy has; all others are its options.
CALL_PARAMETERS = ("budget", "rng")

#: A strictly negative float (e.g. DIAM's beta in Eq. 9).
NegativeFloat = Annotated[float, Field(lt=0)]
#: A strictly positive float.
PositiveFloat = Annotated[float, Field(gt=0)]
#: A relative singular-value cutoff in [0, 1).
RelativeCutoff = Annotated[float, Field(ge=0, lt=1)]
#: A fraction in (0, 1] (e.g. DIAM's share of the pool that counts as a point's neighbours).
UnitFraction = Annotated[float, Field(gt=0, le=1)]


class OptionError(ValueError):
    """A strategy option is unknown, of the wrong type or out of range."""


def option_parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The keyword-only parameters of ``fn`` besides ``budget`` and ``rng``, in order.

    Raises
    ------
    TypeError
        ``fn`` is not ``fn(evidence, *, budget, rng, ...)`` or an option has no default.
    """
    parameters = list(inspect.signature(fn).parameters.values())
    names = [p.name for p in parameters]
    if names[:3] != ["evidence", *CALL_PARAMETERS] or any(
            p.kind is not inspect.Parameter.KEYWORD_ONLY for p in parameters[1:]):
        raise TypeError(f"{fn.__qualname__} must have the signature fn(evidence, *, budget, rng, **options) "
                        f"with keyword-only options; got ({', '.join(names)})")
    options = parameters[3:]
    missing = [p.name for p in options if p.default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{fn.__qualname__}: options {missing} need defaults (a profile may leave them out)")
    return options


def options_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """A frozen pydantic model of ``fn``'s options: its annotations, constraints and defaults.

    Parameters
    ----------
    fn : callable
        ``fn(evidence, *, budget, rng, **options) -> Selection``.

    Returns
    -------
    type of pydantic.BaseModel
        Strict (``"3"`` is not an int, ``1`` is a valid float), unknown names forbidden.
    """
    hints = typing.get_type_hints(fn, include_extras=True)
    fields = {p.name: (hints.get(p.name, Any), p.default) for p in option_parameters(fn)}
    name = "".join(part.title() for part in fn.__name__.removeprefix("select_").split("_")) + "Options"
    return create_model(name, __config__=ConfigDict(extra="forbid", frozen=True, strict=True), **fields)


def validate_options(strategy: str, model: type[BaseModel], options: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``options`` against a strategy's options model.

    Parameters
    ----------
    strategy : str
        Strategy name (for the message).
    model : type of pydantic.BaseModel
        From :func:`options_model`.
    options : mapping
        Option name -> value; options left out keep the function's defaults.

    Returns
    -------
    dict
        The given options, validated (``1`` becomes ``1.0`` for a float option).

    Raises
    ------
    OptionError
        Unknown name (with a close match if there is one and the valid names), wrong type
        or out-of-range value (with the value given).
    """
    valid = list(model.model_fields)
    for key in options:
        if key not in model.model_fields:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            listed = ", ".join(valid) if valid else "none (it takes no options)"
            raise OptionError(f"strategy {strategy!r} has no option {key!r}.{hint} Valid options: {listed}")
    try:
        checked = model.model_validate(dict(options))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = error["loc"][0] if error["loc"] else "?"
        expected = _type_name(model.model_fields[key].annotation) if key in model.model_fields else "?"
        raise OptionError(f"strategy {strategy!r}, option {key!r} = {error['input']!r}: {error['msg']} "
                          f"(expected {expected}{_constraints(model, key)})") from None
    return checked.model_dump(include=set(options))


def _type_name(annotation: Any) -> str:
    """``float``, ``int or None``, ``'fista' or 'cvxpy'``: a type as a reader would say it."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(repr(v) for v in typing.get_args(annotation))
    if origin is Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    return "None" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def _constraints(model: type[BaseModel], key: str) -> str:
    """``", < 0"``-style text of the range constraints of one field, if any."""
    symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    parts = []
    for item in model.model_fields[key].metadata:
        for attribute, symbol in symbols.items():
            bound = getattr(item, attribute, None)
            if bound is not None:
                parts.append(f"{symbol} {bound}")
    return f", {' and '.join(parts)}" if parts else ""


def code_path_values(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Non-default option values that the signature says switch code paths.

    Every value of a ``Literal`` option other than its default, and the other value of a
    ``bool`` option, each as a one-option dict, in signature order.
    """
    variants = []
    for key, info in model.model_fields.items():
        annotation = info.annotation
        if typing.get_origin(annotation) is typing.Literal:
            variants += [{key: value} for value in typing.get_args(annotation) if value != info.default]
        elif annotation is bool:
            variants.append({key: not info.default})
    return variants
