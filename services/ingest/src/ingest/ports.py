"""ingest's one port: the bus it publishes to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from contracts import Envelope
from shared.putevents import EntryFailure

PublishFailure = EntryFailure
"""An envelope the bus did not take: ``index`` into the published sequence, the bus's code and message."""


class EventPublisher(Protocol):
    """Puts envelopes on the event bus.

    Retries transient failures itself (bounded); returns what still failed, entry by entry. Never raises
    for a bus failure: an unreachable bus yields a retryable failure for every envelope.
    """

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]: ...
