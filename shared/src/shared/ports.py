"""The runtime's ports: the queue it consumes and the ledger that makes writers idempotent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from contracts import Envelope
from shared.messages import DeadLetter, Message


class MessageQueue(Protocol):
    """A work queue with a dead-letter queue beside it (SQS in production, a fake in tests).

    Batch calls report failures entry by entry instead of raising: each returns the entries that were
    *not* done (an unreachable queue fails them all), so the caller decides their fate. ``receive`` raises
    :class:`~shared.errors.RetryableError` when the queue cannot be read.
    """

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        """Up to ``max_messages`` messages, waiting at most ``wait_s`` for the first."""
        ...

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        """Delete the messages; returns those that could not be deleted."""
        ...

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        """Hide the messages for ``timeout_s`` from now; returns those that could not be changed."""
        ...

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Send the messages to the DLQ with their reason attributes; returns those not sent."""
        ...


class BatchHandler(Protocol):
    """A service's handler: stores a whole batch with one write where the store allows.

    Returns the failures by event id (an empty mapping: every event is stored). Exceptions are
    :class:`~shared.errors.RetryableError` or :class:`~shared.errors.PermanentError`; raising one fails the
    whole batch with it. Must be idempotent on the event id: the runtime may hand the same event again.
    """

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]: ...
