"""Validation of submitted events into envelopes: pure, no I/O.

Every rejection names the field it is about (``loc``, dotted: ``data.items.0.quantity``) and why (``msg``),
so a producer can fix its event without reading our code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts import Envelope, EventIn, UnknownContractError, new_event_id, validate_data


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Request limits; all configurable through ingest's settings."""

    max_events: int = 500
    max_event_bytes: int = 256 * 1024
    max_errors_per_event: int = 10
    max_errors: int = 1000
    max_text_chars: int = 200


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
    """A request's events split into envelopes to publish (with their request index), rejections, and
    repeats: ``{index: index of the first event}`` for an event identical to an earlier one of the request,
    which shares that event's outcome and is published once."""

    accepted: list[tuple[int, Envelope]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repeats: dict[int, int] = field(default_factory=dict)


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
    """Validate each event against the envelope and its contract; assign ids where producers did not.

    An id used twice in the request is an ``id_conflict`` (rejected at ``id``) when the two events differ,
    and a repeat (one publish, one outcome) when they are the same event sent twice.
    """
    result = Validated()
    seen: dict[str, tuple[int, Envelope]] = {}
    for index, item in enumerate(raw):
        envelope = _to_envelope(item, now=now, trace=trace, limits=limits)
        if isinstance(envelope, list):
            result.rejected.append(Rejection(index=index, errors=envelope))
        elif envelope.id in seen:
            first, earlier = seen[envelope.id]
            if envelope == earlier:
                result.repeats[index] = first
            else:
                why = f"id_conflict: event {first} has this id with different content"
                result.rejected.append(Rejection(index=index, id=envelope.id, errors=[FieldError("id", why)]))
        else:
            seen[envelope.id] = (index, envelope)
            result.accepted.append((index, envelope))
    return result


def _to_envelope(item: Any, *, now: datetime, trace: str, limits: Limits) -> Envelope | list[FieldError]:
    if not isinstance(item, dict):
        return [FieldError("", "event must be a JSON object")]
    try:
        event = EventIn.model_validate(item)
    except ValidationError as exc:
        return field_errors(exc)
    try:
        validate_data(event.type, event.version, event.data)
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
    """pydantic errors as ``(dotted loc, message)`` pairs; never the input value."""
    out = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        out.append(FieldError(loc, error["msg"]))
    return out


def capped(rejected: Sequence[Rejection], limits: Limits) -> list[Rejection]:
    """``rejected`` with at most ``max_errors_per_event`` errors each and ``max_errors`` in all (the rest
    summarised by count), every location and message cut to ``max_text_chars``."""
    budget = limits.max_errors
    out = []
    for rejection in rejected:
        keep = min(len(rejection.errors), limits.max_errors_per_event, budget)
        budget -= keep
        errors = [_cut(e, limits.max_text_chars) for e in rejection.errors[:keep]]
        if left := len(rejection.errors) - keep:
            errors.append(FieldError("", f"{left} more errors not listed"))
        out.append(replace(rejection, errors=errors))
    return out


def _cut(error: FieldError, chars: int) -> FieldError:
    def cut(text: str) -> str:
        return text if len(text) <= chars else text[: chars - 1] + "…"

    return FieldError(cut(error.loc), cut(error.msg))
