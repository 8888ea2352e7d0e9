"""The failure record on a dead letter: the only module that writes it and the only one that reads it.

A dead letter carries its failure as ONE message attribute, ``tributary.failure``, holding compact JSON::

    {"reason": "permanent", "error_type": "ContractError", "error_message": "…", "service": "archiver",
     "attempts": 1, "first_failure_at": "2026-12-06T22:00:00.000+00:00"}

so that, whatever the original message carried, the letter stays within SQS's limits: at most
:data:`MAX_ATTRIBUTES` message attributes and :data:`MAX_MESSAGE_BYTES` for body and attributes together.
The original message's own attributes are kept, by name order, while both limits allow; a body too large to
fit beside the record is replaced by a JSON summary (its size, SHA-256 and message id), never cut
mid-character. ``error_message`` is the error's own text, capped; the runtime's errors never quote input.

Letters written before this record existed carry six ``tributary.<key>`` attributes; :func:`read_failure`
reads those too, so operator tools keep working on old DLQs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

FAILURE_ATTRIBUTE = "tributary.failure"
PREFIX = "tributary."
KEYS = ("reason", "error_type", "error_message", "service", "attempts", "first_failure_at")
MAX_ATTRIBUTES = 10
MAX_MESSAGE_BYTES = 256 * 1024
MAX_ERROR_CHARS = 500
_DATA_TYPE = "String"


@dataclass(frozen=True, kw_only=True)
class Failure:
    """Why a message was dead-lettered: the reason, the error, who, after how many attempts, since when."""

    reason: str
    error_type: str
    error_message: str
    service: str
    attempts: int
    first_failure_at: str

    @classmethod
    def of(
        cls, error: BaseException, *, reason: str, service: str, attempts: int, first_failure_ms: int = 0
    ) -> Failure:
        """The record of ``error`` (its message capped at :data:`MAX_ERROR_CHARS`)."""
        first = first_failure_ms / 1000 if first_failure_ms else datetime.now(UTC).timestamp()
        return cls(
            reason=reason,
            error_type=type(error).__name__,
            error_message=(str(error) or repr(error))[:MAX_ERROR_CHARS],
            service=service,
            attempts=attempts,
            first_failure_at=datetime.fromtimestamp(first, UTC).isoformat(timespec="milliseconds"),
        )

    def encode(self) -> str:
        """The attribute value: compact JSON."""
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    def fields(self) -> dict[str, str]:
        """Every field as text (what operator tools print and filter on)."""
        return {k: str(v) for k, v in asdict(self).items()}


def read_failure(attributes: Mapping[str, str]) -> Failure | None:
    """The failure record among a message's string attributes; ``None`` if it carries none (or a broken one).

    Reads the ``tributary.failure`` attribute, else the six ``tributary.<key>`` attributes of older letters.
    """
    raw = attributes.get(FAILURE_ATTRIBUTE)
    doc: Any
    if raw is not None:
        try:
            doc = json.loads(raw)
        except ValueError:
            return None
    else:
        doc = {k: attributes[PREFIX + k] for k in KEYS if PREFIX + k in attributes}
    if not isinstance(doc, dict) or not doc:
        return None
    try:
        attempts = int(doc.get("attempts", 0))
    except (TypeError, ValueError):
        attempts = 0
    return Failure(
        reason=str(doc.get("reason", "")),
        error_type=str(doc.get("error_type", "")),
        error_message=str(doc.get("error_message", ""))[:MAX_ERROR_CHARS],
        service=str(doc.get("service", "")),
        attempts=attempts,
        first_failure_at=str(doc.get("first_failure_at", "")),
    )


def letter_attributes(original: Mapping[str, str], failure: Failure) -> dict[str, str]:
    """A dead letter's attributes: the failure record plus the original's own, within SQS's limits.

    An earlier failure record (a redriven message failing again) is replaced, keeping its
    ``first_failure_at`` when earlier. Original attributes are kept in name order while fewer than
    :data:`MAX_ATTRIBUTES` and a quarter of :data:`MAX_MESSAGE_BYTES` are taken.
    """
    earlier = read_failure(original)
    if earlier and earlier.first_failure_at and earlier.first_failure_at < failure.first_failure_at:
        failure = Failure(**(asdict(failure) | {"first_failure_at": earlier.first_failure_at}))
    attributes = {FAILURE_ATTRIBUTE: failure.encode()}
    budget = MAX_MESSAGE_BYTES // 4 - attributes_bytes(attributes)
    for name in sorted(k for k in original if not k.startswith(PREFIX)):
        if len(attributes) >= MAX_ATTRIBUTES:
            break
        cost = attributes_bytes({name: original[name]})
        if cost <= budget:
            attributes[name] = original[name]
            budget -= cost
    return attributes


def fit_body(body: str, attributes: Mapping[str, str], *, message_id: str) -> str:
    """``body`` if it fits beside ``attributes`` in one SQS message; else a JSON summary that does."""
    if _utf8_len(body) + attributes_bytes(attributes) <= MAX_MESSAGE_BYTES:
        return body
    raw = body.encode("utf-8", "surrogatepass")
    summary = {
        "tributary_dead_letter_body": "omitted: the original body and failure record exceed 256 KiB",
        "message_id": message_id,
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return json.dumps(summary, separators=(",", ":"))


def attributes_bytes(attributes: Mapping[str, str]) -> int:
    """What ``attributes`` count toward an SQS message's size: each name, data type and value."""
    return sum(_utf8_len(k) + len(_DATA_TYPE) + _utf8_len(v) for k, v in attributes.items())


def limit_violations(body: str, attributes: Mapping[str, str]) -> list[str]:
    """How a dead letter breaks SQS's limits (empty: it does not)."""
    problems = []
    if len(attributes) > MAX_ATTRIBUTES:
        problems.append(f"{len(attributes)} message attributes, over {MAX_ATTRIBUTES}")
    size = _utf8_len(body) + attributes_bytes(attributes)
    if size > MAX_MESSAGE_BYTES:
        problems.append(f"{size} bytes, over {MAX_MESSAGE_BYTES}")
    return problems


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
