"""What a producer hands the SDK, and how each event is checked before anything is sent.

:func:`prepare` validates every event against the envelope and its contract, gives it an id (so a retry is
idempotent end to end), stamps the publish call's trace header, and sizes it as PutEvents does. An event
that fails any check gets a failed :class:`PublishResult` and is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from contracts import Envelope, EventIn, UnknownContractError, new_event_id, validate_data
from shared.putevents import MAX_REQUEST_BYTES, entry_size, envelope_entry


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event to publish. ``data`` is the contract's payload, as a mapping or as the contract model;
    ``time`` defaults to now, ``id`` to a fresh sortable id, ``source`` to the publisher's."""

    type: str
    version: int
    data: Mapping[str, Any] | BaseModel
    time: datetime | None = None
    id: str | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    """The fate of one event: ``index`` into the published sequence, its id (``None`` when it had none and
    was refused before one was given), and for a failure the code and message."""

    index: int
    id: str | None
    ok: bool
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """An event ready to send: its envelope and its PutEvents entry."""

    index: int
    envelope: Envelope
    entry: dict[str, Any]


INVALID = "InvalidEvent"
TOO_LARGE = "EventTooLarge"


def prepare(
    events: Sequence[Event],
    *,
    source: str,
    bus_name: str,
    trace: str,
    max_event_bytes: int = MAX_REQUEST_BYTES,
    now: datetime | None = None,
) -> tuple[list[Prepared], list[PublishResult]]:
    """The events that may be sent, and a failed result for each that may not (invalid or too large)."""
    at = now or datetime.now(UTC)
    ready: list[Prepared] = []
    refused: list[PublishResult] = []
    for index, event in enumerate(events):
        checked = _check(event, source=source, at=at)
        if isinstance(checked, str):
            refused.append(PublishResult(index=index, id=event.id, ok=False, code=INVALID, message=checked))
            continue
        assert checked.id is not None  # given above
        envelope = Envelope(**checked.model_dump(), ingested_at=at, trace=trace)
        entry = envelope_entry(envelope, bus_name=bus_name)
        size = entry_size(entry)
        if size > max_event_bytes:
            message = f"event is {size} bytes as a PutEvents entry; the limit is {max_event_bytes}"
            refused.append(
                PublishResult(index=index, id=envelope.id, ok=False, code=TOO_LARGE, message=message)
            )
            continue
        ready.append(Prepared(index=index, envelope=envelope, entry=entry))
    return ready, refused


def _check(event: Event, *, source: str, at: datetime) -> EventIn | str:
    """The event as a valid ``EventIn`` with an id, or why it is not one (each field named)."""
    data = event.data.model_dump(mode="json") if isinstance(event.data, BaseModel) else dict(event.data)
    try:
        checked = EventIn(
            id=event.id or new_event_id(),
            type=event.type,
            version=event.version,
            source=event.source or source,
            time=event.time or at,
            data=data,
        )
    except ValidationError as exc:
        return _summary(exc)
    try:
        validate_data(checked.type, checked.version, checked.data)
    except UnknownContractError as exc:
        return str(exc)
    except ValidationError as exc:
        return _summary(exc, prefix="data.")
    return checked


def _summary(exc: ValidationError, *, prefix: str = "") -> str:
    return "; ".join(f"{prefix}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
