"""Where a redrive delivers letters: the service's own queue, or the bus.

Each destination handles a batch letter by letter (:class:`~tributary.operators.batches.BatchResult`): the
letters in ``ok`` were delivered and may be deleted from the DLQ; the others stay, with the reason.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import ContractError
from shared.messages import parse_envelope
from tributary.operators.batches import BatchResult, put_events, send_messages
from tributary.operators.letters import Letter

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient


class Destination(Protocol):
    """Where redriven letters go. ``deliver`` handles each letter on its own: ``ok`` were delivered."""

    name: str

    def deliver(self, letters: list[Letter]) -> BatchResult[Letter]: ...


def _attributes(letter: Letter) -> dict[str, Any]:
    """The message attributes as received, in the shape SendMessage takes (the reason goes along)."""
    out: dict[str, Any] = {}
    for key, value in letter.attributes.items():
        kept = {k: v for k, v in value.items() if k in {"DataType", "StringValue", "BinaryValue"}}
        if "DataType" in kept and len(kept) > 1:
            out[key] = kept
    return out


class QueueDestination:
    """The service's own queue: the body goes back as it was, with its attributes."""

    def __init__(self, *, sqs: SQSClient, url: str) -> None:
        self._sqs = sqs
        self._url = url
        self.name = "queue " + url.rstrip("/").rsplit("/", 1)[-1]

    def deliver(self, letters: list[Letter]) -> BatchResult[Letter]:
        return send_messages(self._sqs, self._url, letters, body=lambda le: le.body, attributes=_attributes)


def bus_entry(letter: Letter, bus_name: str) -> dict[str, Any] | None:
    """The PutEvents entry that publishes the letter's envelope as its producer did; ``None`` without one."""
    try:
        envelope = parse_envelope(letter.body)
    except ContractError:
        return None
    entry: dict[str, Any] = {
        "EventBusName": bus_name,
        "Source": envelope.source,
        "DetailType": envelope.detail_type,
        "Detail": json.dumps(letter.event, separators=(",", ":")),
        "Time": envelope.time,
    }
    if envelope.trace:
        entry["TraceHeader"] = envelope.trace
    return entry


class BusDestination:
    """The bus: every current rule evaluates the event again, so every subscriber gets it (idempotently)."""

    def __init__(self, *, events: EventBridgeClient, bus_name: str) -> None:
        self._events = events
        self._bus = bus_name
        self.name = f"bus {bus_name}"

    def deliver(self, letters: list[Letter]) -> BatchResult[Letter]:
        entries: dict[str, dict[str, Any]] = {}
        unpublishable: list[tuple[Letter, str]] = []
        for letter in letters:
            entry = bus_entry(letter, self._bus)
            if entry is None:
                unpublishable.append((letter, "NotAnEnvelope: the body holds no valid envelope"))
            else:
                entries[letter.message_id] = entry
        publishable = [le for le in letters if le.message_id in entries]
        result = put_events(self._events, publishable, entry=lambda le: entries[le.message_id])
        result.failed.extend(unpublishable)
        return result
