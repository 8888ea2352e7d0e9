"""EventBridge adapter of :class:`~ingest.ports.EventPublisher`.

Batching (10 entries, ``max_request_bytes`` per call), concurrency and retrying only the failed entries are
:class:`shared.putevents.PutEventsSender`'s, the same code the producer SDK sends with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts import Envelope
from ingest.ports import PublishFailure
from shared.putevents import MAX_REQUEST_BYTES, PutEventsSender, envelope_entry


class EventBridgePublisher:
    """Publishes to one EventBridge bus through an injected boto3 ``events`` client."""

    def __init__(
        self,
        *,
        client: Any,
        bus_name: str,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_attempts: int = 5,
        concurrency: int = 8,
    ) -> None:
        self._bus = bus_name
        self._sender = PutEventsSender(
            client=client,
            max_request_bytes=max_request_bytes,
            max_attempts=max_attempts,
            concurrency=concurrency,
        )

    @property
    def calls(self) -> int:
        """PutEvents calls made so far."""
        return self._sender.calls

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]:
        return self._sender.send([envelope_entry(e, bus_name=self._bus) for e in envelopes])
