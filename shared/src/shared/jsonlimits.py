"""JSON parsing with limits on what a document may hold: nesting depth, keys per object, digits per number.

The standard parser accepts a million keys in one object or a 100,000-digit integer (whose conversion alone
takes seconds), and recurses until the interpreter's limit. :func:`loads` refuses such documents with a
:class:`JsonLimitError` that names the limit, never the input. Its hooks are Python code, so a long parse
in a worker thread lets other threads (an event loop) run between objects and numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class JsonLimits:
    """What one JSON document may hold."""

    max_depth: int = 32
    max_keys: int = 1000
    max_number_digits: int = 40


class JsonLimitError(ValueError):
    """The document is not valid JSON, or holds more than its limits allow; the message names which."""


def loads(text: str | bytes, limits: JsonLimits | None = None) -> Any:
    """Parse ``text`` within ``limits`` (defaults: :class:`JsonLimits`).

    Raises:
        JsonLimitError: malformed JSON, invalid UTF-8, or a limit exceeded (the message says which).
    """
    limits = limits or JsonLimits()
    try:
        doc = json.loads(
            text,
            object_pairs_hook=_objects(limits.max_keys),
            parse_int=_number(int, limits.max_number_digits),
            parse_float=_number(float, limits.max_number_digits),
            parse_constant=_no_constant,
        )
    except RecursionError as exc:
        raise JsonLimitError(f"nested deeper than {limits.max_depth} levels") from exc
    except json.JSONDecodeError as exc:
        raise JsonLimitError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise JsonLimitError(f"not valid UTF-8 at byte {exc.start}") from exc
    if _depth(doc) > limits.max_depth:
        raise JsonLimitError(f"nested deeper than {limits.max_depth} levels")
    return doc


def _objects(max_keys: int) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > max_keys:
            raise JsonLimitError(f"an object holds {len(pairs)} keys; the limit is {max_keys}")
        return dict(pairs)

    return build


def _number(kind: Callable[[str], Any], max_digits: int) -> Callable[[str], Any]:
    def parse(literal: str) -> Any:
        if len(literal) > max_digits:
            raise JsonLimitError(f"a number has {len(literal)} characters; the limit is {max_digits}")
        value = kind(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise JsonLimitError("a number is out of the range of a double")
        return value

    return parse


def _no_constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not valid JSON")


def _depth(doc: Any) -> int:
    """The nesting depth of ``doc`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest
