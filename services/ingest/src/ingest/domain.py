"""Validation of submitted events into envelopes: pure, no I/O.

Every rejection names the field it is about (``loc``, dotted: ``data.items.0.quantity``) and why (``msg``),
so a producer can fix its event without reading our code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts import Envelope, EventIn, UnknownContractError, contract_model, new_event_id


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Request limits; all configurable through ingest's settings."""

    max_events: int = 500
    max_event_bytes: int = 256 * 1024


@dataclass(frozen=True)
class FieldError:
    loc: str
    msg: str


@dataclass(frozen=True, kw_only=True)
class Rejection:
    """An event that did not make it onto the bus; ``retryable`` ones may be sent again with the same id."""

    index: int
    errors: list[FieldError]
    id: str | None = None
    retryable: bool = False


@dataclass(kw_only=True)
class Validated:
    """A request's events split into envelopes to publish (with their request index) and rejections."""

    accepted: list[tuple[int, Envelope]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


class RequestShapeError(ValueError):
    """The body is JSON but not ``{"events": [...]}`` within the limits."""


def events_of(doc: Any, limits: Limits) -> list[Any]:
    """The event list of a request body.

    Raises:
        RequestShapeError: if the body is not an object with 1..``max_events`` events.
    """
    if not isinstance(doc, dict) or set(doc) != {"events"}:
        raise RequestShapeError('body must be an object with exactly one key, "events"')
    events = doc["events"]
    if not isinstance(events, list) or not events:
        raise RequestShapeError('"events" must be a non-empty list')
    if len(events) > limits.max_events:
        raise RequestShapeError(f'"events" holds {len(events)} events; the limit is {limits.max_events}')
    return events


def validate_events(raw: Sequence[Any], *, now: datetime, trace: str, limits: Limits) -> Validated:
    """Validate each event against the envelope and its contract; assign ids where producers did not."""
    result = Validated()
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        envelope_or_errors = _to_envelope(item, now=now, trace=trace, limits=limits)
        if isinstance(envelope_or_errors, list):
            result.rejected.append(Rejection(index=index, errors=envelope_or_errors))
        elif envelope_or_errors.id in seen:
            first = seen[envelope_or_errors.id]
            result.rejected.append(
                Rejection(index=index, errors=[FieldError("id", f"duplicates the id of event {first}")])
            )
        else:
            seen[envelope_or_errors.id] = index
            result.accepted.append((index, envelope_or_errors))
    return result


def _to_envelope(item: Any, *, now: datetime, trace: str, limits: Limits) -> Envelope | list[FieldError]:
    if not isinstance(item, dict):
        return [FieldError("", "event must be a JSON object")]
    try:
        event = EventIn.model_validate(item)
    except ValidationError as exc:
        return field_errors(exc)
    try:
        event.time.astimezone(UTC)  # the bus and the stores need the UTC time
    except OverflowError:
        return [FieldError("time", "time must fall within years 1-9999 once converted to UTC")]
    try:
        contract_model(event.type, event.version).model_validate(event.data)
    except UnknownContractError as exc:
        return [FieldError("version" if exc.known_versions else "type", str(exc))]
    except ValidationError as exc:
        return field_errors(exc, prefix="data")
    envelope = Envelope(
        id=event.id or new_event_id(),
        type=event.type,
        version=event.version,
        source=event.source,
        time=event.time,
        ingested_at=now,
        trace=trace,
        data=event.data,
    )
    size = len(envelope.model_dump_json().encode())
    if size > limits.max_event_bytes:
        return [
            FieldError("", f"event is {size} bytes as an envelope; the limit is {limits.max_event_bytes}")
        ]
    return envelope


def field_errors(exc: ValidationError, *, prefix: str = "") -> list[FieldError]:
    """pydantic errors as ``(dotted loc, message)`` pairs."""
    out = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        out.append(FieldError(loc, error["msg"]))
    return out
