"""The envelope every event travels in, from ingest to every store.

On the bus an event is an EventBridge entry with ``DetailType = "<type>.v<version>"``, ``Source`` = the
producer and ``Detail`` = the envelope's JSON. ``data`` holds the contract's payload, validated against the
model registered for ``(type, version)``.

Both models bound their times (:data:`contracts.fields.EventTime`: RFC 3339, years 1970-2099 in UTC), so
an out-of-range time is a field error wherever an envelope is parsed: at ingest, in the SDK, and in the
worker runtime for an event from the bus, a redrive or a replay.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from contracts.fields import EventTime, Text
from contracts.ids import EVENT_ID_PATTERN

TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,127}$"


class EventIn(BaseModel):
    """An event as a producer submits it (to ingest or through the SDK).

    ``id`` is optional: ingest assigns a sortable one where the producer does not.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, pattern=EVENT_ID_PATTERN)
    type: str = Field(pattern=TYPE_PATTERN, max_length=128)
    version: StrictInt = Field(ge=1, le=1000)
    source: str = Field(pattern=SOURCE_PATTERN)
    time: EventTime
    data: dict[str, Any]


class Envelope(BaseModel):
    """An accepted event: what goes on the bus as ``Detail`` and what workers receive.

    ``trace`` is the X-Ray trace header carried in-band, because emulators drop ``AWSTraceHeader``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=EVENT_ID_PATTERN)
    type: str = Field(pattern=TYPE_PATTERN, max_length=128)
    version: StrictInt = Field(ge=1, le=1000)
    source: str = Field(pattern=SOURCE_PATTERN)
    time: EventTime
    ingested_at: EventTime
    trace: Text | None = None
    data: dict[str, Any]

    @property
    def detail_type(self) -> str:
        """The EventBridge ``DetailType`` of this event, e.g. ``sensor.reading.v1``."""
        return detail_type(self.type, self.version)


def detail_type(type_: str, version: int) -> str:
    """``DetailType`` for a contract: ``<type>.v<version>``."""
    return f"{type_}.v{version}"
