"""Tributary's producer SDK: publish contract events, validated before they leave the process.

    from tributary_sdk import Event, Publisher

    with Publisher.to_ingest("http://127.0.0.1:8080", source="iot.gateway") as publisher:
        results = publisher.publish([Event(type="sensor.reading", version=2, data={...})])

See docs/sdk.md.
"""

from __future__ import annotations

from tributary_sdk.events import INVALID, TOO_LARGE, Event, PublishResult
from tributary_sdk.publisher import AsyncPublisher, Publisher

__all__ = ["INVALID", "TOO_LARGE", "AsyncPublisher", "Event", "PublishResult", "Publisher"]
