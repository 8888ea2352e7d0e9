"""JSON from untrusted text, within limits: the one parser queue bodies and request bodies go through.

The standard library parses anything it is given: a number of 5,000 digits raises ``ValueError`` (Python's
int-conversion guard), 100,000 nested brackets raise ``RecursionError`` (and can leave the interpreter short
of stack for whatever runs next), and a million keys in one object or a 100,000-digit integer cost seconds.
Here every such input is a :class:`~shared.errors.ContractError` naming the limit it broke, the depth
checked *before* the recursive parser runs, and no error ever quotes the input.

Limits (:class:`JsonLimits`): the size of the text in bytes, the nesting depth of arrays and objects, the
keys of one object (when set: the key hook is Python code, so a long parse in a worker thread lets other
threads run between objects), the characters of one number literal. ``NaN``/``Infinity`` and numbers out
of a double's range are refused: they are not JSON values any consumer can hold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from shared.errors import ContractError

# A JSON string literal, unrolled so the regex engine does not backtrack per character.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True, kw_only=True)
class JsonLimits:
    """What one JSON document may hold.

    The defaults fit an SQS message (256 KiB) and any envelope the contracts define (depth well under 10,
    ids and numbers well under 100 characters); ``max_keys`` is ``None`` (no limit beyond the size) unless
    set, as ingest does for its larger request bodies.
    """

    max_bytes: int = 256 * 1024
    max_depth: int = 64
    max_keys: int | None = None
    max_number_chars: int = 100


DEFAULT_LIMITS = JsonLimits()


def loads(text: str | bytes, *, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """The JSON value in ``text`` (UTF-8 if bytes), refused if it breaks a limit.

    Raises:
        ContractError: not UTF-8, not JSON, or over a limit (the message names which, never the input).
    """
    if isinstance(text, bytes):
        size = len(text)
        _check_size(size, limits)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    else:
        size = len(text) if text.isascii() else _utf8_size(text)
        _check_size(size, limits)
    # no text nests deeper than it has opening brackets: count them (C speed) before scanning (Python speed)
    openers = text.count("[") + text.count("{")
    if openers > limits.max_depth and nesting_depth(text) > limits.max_depth:
        raise ContractError(f"JSON nests deeper than {limits.max_depth} levels")
    try:
        return json.loads(
            text,
            object_pairs_hook=None if limits.max_keys is None else _objects(limits.max_keys),
            parse_int=_number(int, limits.max_number_chars),
            parse_float=_number(float, limits.max_number_chars),
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as exc:
        raise ContractError(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # unreachable past the depth check; kept so no parse can kill a worker
        raise ContractError(f"JSON nests deeper than {limits.max_depth} levels") from None


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (0 for a scalar), without recursing.

    Brackets inside string literals do not count. On malformed text (an unterminated string) the count may
    be too high, never too low, which only ever refuses text the parser would refuse anyway.
    """
    steps = (1 if b in "[{" else -1 for b in _BRACKETS.findall(_STRING.sub("", text)))
    return max(accumulate(steps, initial=0))


def _check_size(size: int, limits: JsonLimits) -> None:
    if size > limits.max_bytes:
        raise ContractError(f"body is {size} bytes, over the limit of {limits.max_bytes}")


def _utf8_size(text: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: count them as the 3 bytes they would take
        return len(text.encode("utf-8", "surrogatepass"))


def _objects(max_keys: int) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > max_keys:
            raise ContractError(f"a JSON object holds {len(pairs)} keys; the limit is {max_keys}")
        return dict(pairs)

    return build


def _number[N: (int, float)](kind: type[N], max_chars: int) -> Any:
    def parse(literal: str) -> N:
        if len(literal) > max_chars:
            raise ContractError(f"a JSON number has more than {max_chars} characters")
        value = kind(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise ContractError("a JSON number is out of the range of a double")
        return value

    return parse


def _refuse_constant(name: str) -> Any:
    raise ContractError(f"{name} is not a JSON number")
