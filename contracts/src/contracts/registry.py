"""The registry of contract models: one pydantic model per ``(type, version)``.

Models register themselves with :func:`contract` when their module is imported;
``contracts/__init__.py`` imports every event module, so importing :mod:`contracts` fills the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

_REGISTRY: dict[tuple[str, int], type[BaseModel]] = {}


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
    """Validate an event's ``data`` against its contract.

    Raises:
        UnknownContractError: if the contract is unknown.
        pydantic.ValidationError: if ``data`` does not satisfy it.
    """
    return contract_model(type_, version).model_validate(data)


def known_contracts() -> list[tuple[str, int]]:
    """Every registered ``(type, version)``, sorted."""
    return sorted(_REGISTRY)
