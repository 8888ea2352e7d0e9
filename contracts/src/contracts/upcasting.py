"""Upcasters: how an event of one contract version becomes the next version.

A breaking change to a contract is a new version plus an upcaster from the previous one, registered with
:func:`upcaster` beside the models. Consumers then handle only the newest version they accept: the worker
runtime (``shared.upcasting``) chains upcasters ``v1 → v2 → … → vN`` before a handler sees an event, and
``contracts check`` refuses a version ``N > 1`` without an upcaster from ``N - 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.registry import contract_model, validate_data

Upcaster = Callable[[Any], BaseModel]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UpcastError(LookupError):
    """No chain of upcasters leads from the event's version to the one asked for."""


def upcaster[F: Upcaster](type_: str, from_version: int) -> Callable[[F], F]:
    """Decorator registering ``fn(old_model) -> new_model`` from ``type_`` v``from_version`` to the next.

    Raises:
        ValueError: if an upcaster from that version is already registered.
    """

    def register(fn: F) -> F:
        key = (type_, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"upcaster {type_}.v{from_version} → v{from_version + 1} registered twice")
        _UPCASTERS[key] = fn
        return fn

    return register


def has_upcaster(type_: str, from_version: int) -> bool:
    """Whether an upcaster from ``type_`` v``from_version`` to the next version is registered."""
    return (type_, from_version) in _UPCASTERS


def upcast_data(type_: str, version: int, data: Any, *, to: int) -> BaseModel:
    """``data`` of ``type_`` v``version`` validated, then upcast step by step to v``to``.

    Returns:
        The model of ``type_`` v``to``.

    Raises:
        UpcastError: ``to`` is older than ``version``, or an upcaster on the way is missing.
        UnknownContractError: a version on the way has no contract.
        pydantic.ValidationError: ``data`` does not satisfy its contract (strictly, as
            :func:`~contracts.registry.validate_data` checks it), or a step makes an invalid model.
    """
    if to < version:
        raise UpcastError(f"cannot downcast {type_}.v{version} to v{to}")
    model = validate_data(type_, version, data)
    for step in range(version, to):
        fn = _UPCASTERS.get((type_, step))
        if fn is None:
            raise UpcastError(f"no upcaster from {type_}.v{step} to v{step + 1}")
        model = contract_model(type_, step + 1).model_validate(fn(model))
    return model


def upcast_envelope(envelope: Envelope, *, to: int) -> Envelope:
    """``envelope`` with its data upcast to version ``to`` (itself when it is already at ``to``).

    Raises:
        The errors of :func:`upcast_data`.
    """
    if envelope.version == to:
        return envelope
    model = upcast_data(envelope.type, envelope.version, envelope.data, to=to)
    return envelope.model_copy(update={"version": to, "data": model.model_dump(mode="json")})
