"""When a worker hands an accumulating batch over: full, window ended, or the queue looks drained.

Latency-aware batching: under light load a lone event should not wait out the batching window, and under
heavy load batches should be as big as the limits allow (fewer store writes and queue calls per event). A
receive says which load it met: SQS returns as many messages as it has, up to the most asked for (10), so a
receive that returns fewer found the queue drained for the moment. :class:`Batcher` hands its batch over
as soon as the first of these holds:

- it holds ``max_events`` messages or ``max_bytes`` bytes;
- ``max_wait_ms`` has passed since its first message was received (the window: a bound on waiting,
  whatever the load), and no other receive's messages are in hand: under a backlog, receives wait in the
  worker's inbox while it handles a batch, and a batch whose window ended meanwhile still takes what is in
  hand, up to its limits, rather than going with one receive's ten messages;
- the receive just added returned fewer than the most and no other receive's messages are in hand
  (``flush_when_drained``; a service whose point is big batches, the archiver, turns it off).

Pure logic on a clock: the worker feeds it what its pollers receive; tests feed it receipts and a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.messages import Message

RECEIVE_MAX = 10  # messages one receive asks for (SQS's most); a receive that returns fewer looks drained


@dataclass(frozen=True, kw_only=True)
class BatchLimits:
    """When an accumulating batch is handed to the handler: whichever rule holds first (module docstring)."""

    max_events: int = 100
    max_bytes: int = 4 * 1024 * 1024
    max_wait_ms: int = 500
    flush_when_drained: bool = True


@dataclass(frozen=True)
class Receipt:
    """What one receive returned and when (the batcher's clock); ``short``: fewer messages than it asked
    for (the queue looked drained)."""

    messages: list[Message]
    at: float
    short: bool

    @classmethod
    def of(cls, messages: list[Message], *, at: float, asked: int = RECEIVE_MAX) -> Receipt:
        return cls(messages, at, short=len(messages) < asked)


class Batcher:
    """One accumulating batch and the rules that hand it over."""

    def __init__(self, limits: BatchLimits, *, clock: Callable[[], float]) -> None:
        self._limits = limits
        self._clock = clock
        self._window_s = limits.max_wait_ms / 1000
        self._batch: list[Message] = []
        self._size = 0
        self._opened = 0.0

    def __len__(self) -> int:
        return len(self._batch)

    def add(self, receipt: Receipt, *, more_in_hand: bool) -> list[Message] | None:
        """Add a receive's messages; the batch if it is now due (a new one opens), else ``None``.

        ``more_in_hand``: other receives' messages are waiting to be added (the queue is not drained).
        """
        if receipt.messages and not self._batch:
            self._opened = receipt.at  # the window counts from the receive, not from when it is taken
        self._batch.extend(receipt.messages)
        self._size += sum(m.size for m in receipt.messages)
        if not self._batch:
            return None
        if self._full():
            return self.take()
        if more_in_hand:  # taking those costs no waiting: a late batch still goes as full as it can
            return None
        if (receipt.short and self._limits.flush_when_drained) or self._expired():
            return self.take()
        return None

    def expired(self) -> list[Message] | None:
        """The batch if its window has ended (nothing was received meanwhile), else ``None``."""
        return self.take() if self._batch and self._expired() else None

    def take(self) -> list[Message]:
        """The batch as it is (possibly empty); a new one opens."""
        batch, self._batch, self._size = self._batch, [], 0
        return batch

    def wait_s(self) -> float | None:
        """Seconds until the open batch's window ends (0 if it has), or ``None`` when nothing is open."""
        if not self._batch:
            return None
        return max(0.0, self._opened + self._window_s - self._clock())

    def _full(self) -> bool:
        return len(self._batch) >= self._limits.max_events or self._size >= self._limits.max_bytes

    def _expired(self) -> bool:
        return self._clock() - self._opened >= self._window_s
