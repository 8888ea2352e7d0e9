"""Checking a rule's paths against the contracts' JSON Schemas, so a typo is a start-up error.

``data.vaule`` on ``sensor.reading`` is refused when the rules file is loaded ("not a field … data has:
device_id, metric, …") instead of silently never matching. The check walks the envelope's schema, with
``data`` replaced by the matched contract's, through ``$ref``, ``anyOf``, objects and arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from contracts import Envelope, contract_model
from notifier.rules.paths import FieldPath

ANY = "any"


class FieldCheckError(ValueError):
    """A path names no field of the contract, or indexes something that is not a list."""


@cache
def _schemas(type_: str, version: int) -> tuple[dict[str, Any], dict[str, Any]]:
    envelope = Envelope.model_json_schema()
    data = contract_model(type_, version).model_json_schema()
    envelope["properties"]["data"] = {k: v for k, v in data.items() if k != "$defs"}
    return envelope, data.get("$defs", {})


def field_types(path: FieldPath, type_: str, version: int) -> set[str]:
    """The JSON types the path can reach in an event of ``type_`` v``version`` (``"any"``: unconstrained).

    Raises:
        FieldCheckError: naming the first segment that does not exist, and what exists there.
    """
    envelope, defs = _schemas(type_, version)
    node: Mapping[str, Any] = envelope
    where = "the event"
    for segment in path.segments:
        props = _properties(node, defs)
        if props is None:
            return {ANY}
        if segment.name not in props:
            known = ", ".join(sorted(props)) or "no fields"
            raise FieldCheckError(f"{path} is not a field of {type_} v{version} ({where} has: {known})")
        node = props[segment.name]
        where = segment.name
        if segment.index is not None:
            items = _items(node, defs)
            if items is None:
                raise FieldCheckError(f"{path}: {segment.name} of {type_} v{version} is not a list")
            node = items
    return _types(node, defs)


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alternatives a schema node stands for, with ``$ref`` and ``anyOf``/``oneOf`` expanded."""
    if "$ref" in node:
        return _resolve(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            return [alt for branch in node[key] for alt in _resolve(branch, defs)]
    return [node]


def _properties(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The fields an object node offers; ``None`` when it is free-form (any key may exist)."""
    props: dict[str, Any] = {}
    for alt in _resolve(node, defs):
        if alt.get("type") == "object" and "properties" not in alt:
            return None
        props.update(alt.get("properties", {}))
    return props


def _items(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for alt in _resolve(node, defs):
        if alt.get("type") == "array":
            items: Mapping[str, Any] = alt.get("items", {})
            return items
    return None


def _types(node: Mapping[str, Any], defs: Mapping[str, Any]) -> set[str]:
    types: set[str] = set()
    for alt in _resolve(node, defs):
        declared = alt.get("type")
        if declared is None:
            return {ANY}
        types.update([declared] if isinstance(declared, str) else declared)
    return types
