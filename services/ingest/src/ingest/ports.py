"""ingest's one port: the bus it publishes to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from contracts import Envelope


@dataclass(frozen=True, kw_only=True)
class PublishFailure:
    """An envelope the bus did not take: ``index`` into the published sequence, the bus's code and message."""

    index: int
    code: str
    message: str
    retryable: bool


class EventPublisher(Protocol):
    """Puts envelopes on the event bus.

    Retries transient failures itself (bounded); returns what still failed, entry by entry. Never raises
    for a bus failure: an unreachable bus yields a retryable failure for every envelope.
    """

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]: ...
