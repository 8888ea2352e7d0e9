"""The registry of contract models: one pydantic model per ``(type, version)``.

Models register themselves with :func:`contract` when their module is imported;
``contracts/__init__.py`` imports every event module, so importing :mod:`contracts` fills the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError, PydanticSerializationError, to_json

_REGISTRY: dict[tuple[str, int], type[BaseModel]] = {}
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnknownContractError(LookupError):
    """No contract is registered for the requested type and version."""

    def __init__(self, type_: str, version: int) -> None:
        known = sorted(v for t, v in _REGISTRY if t == type_)
        hint = f"known versions of {type_!r}: {known}" if known else f"{type_!r} is not a known event type"
        super().__init__(f"unknown contract {type_}.v{version}: {hint}")
        self.type = type_
        self.version = version
        self.known_versions = known


def contract[M: BaseModel](type_: str, version: int) -> Callable[[type[M]], type[M]]:
    """Class decorator registering ``model`` as the data model of ``type_`` at ``version``.

    Raises:
        ValueError: if that type and version is already registered.
    """

    def register(model: type[M]) -> type[M]:
        key = (type_, version)
        if key in _REGISTRY:
            raise ValueError(f"contract {type_}.v{version} registered twice")
        _REGISTRY[key] = model
        return model

    return register


def contract_model(type_: str, version: int) -> type[BaseModel]:
    """The data model registered for ``type_`` at ``version``.

    Raises:
        UnknownContractError: if none is registered.
    """
    try:
        return _REGISTRY[(type_, version)]
    except KeyError:
        raise UnknownContractError(type_, version) from None


def validate_data(type_: str, version: int, data: Any) -> BaseModel:
    """Validate an event's ``data`` against its contract, strictly, as the JSON it travels as.

    Strict JSON validation takes each value only in the JSON type the contract's JSON Schema names: no
    ``"21.5"`` for a number, no ``true`` for a number, no ``"yes"`` for a boolean, no ``5.0`` for an
    integer. What it takes is what readers of the published schemas (Athena, Glue, other languages) can
    read back, so data that passes is stored exactly as sent. ``data`` is serialised first, so dates and
    decimals a Python producer passes as objects are checked as the strings they become on the bus.

    Raises:
        UnknownContractError: if the contract is unknown.
        pydantic.ValidationError: if ``data`` does not satisfy it.
    """
    model = contract_model(type_, version)
    try:
        text = to_json(data)
    except PydanticSerializationError:
        surrogates = list(_lone_surrogates(data, ()))
        if not surrogates:
            raise
        # no UTF-8 (so no JSON on the wire) can carry them: say where, as pydantic would
        error = PydanticCustomError("string_unicode", "must not contain lone surrogates")
        raise ValidationError.from_exception_data(
            model.__name__, [{"type": error, "loc": loc, "input": None} for loc in surrogates]
        ) from None
    return model.model_validate_json(text, strict=True)


def _lone_surrogates(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _SURROGATE.search(key):
                yield (*loc, key.encode("utf-8", "backslashreplace").decode())
            else:
                yield from _lone_surrogates(item, (*loc, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _lone_surrogates(item, (*loc, index))


def known_contracts() -> list[tuple[str, int]]:
    """Every registered ``(type, version)``, sorted."""
    return sorted(_REGISTRY)
