"""The SQS worker: pollers, batch accumulation, visibility heartbeat and graceful drain.

Several poller threads long-poll the queue and feed a bounded inbox; the main loop accumulates messages
into a batch until it reaches ``batch_max_events`` or ``batch_max_bytes`` or has waited
``batch_max_wait_ms``, then hands it to the :class:`~shared.processing.BatchProcessor`. A heartbeat keeps
messages that are held for long (waiting in a big batch, or in a slow store write) invisible to other
consumers. On stop, pollers finish their current receive, every message in hand is processed, and the loop
returns.

A store outage is not the messages' fault. Messages whose store was unavailable stay in hand (invisible,
their visibility extended by the heartbeat, no attempt spent) and are handled again; after a few batches in
a row fail so, the :class:`~shared.breaker.CircuitBreaker` opens: pollers stop receiving until a probe
batch of held messages goes through. Whatever happens, no exception leaves :meth:`Worker.run`'s loop
(a poller that fails backs off and polls again).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from shared.breaker import CircuitBreaker
from shared.errors import RetryableError
from shared.messages import Message
from shared.ports import MessageQueue
from shared.processing import BatchProcessor

log = structlog.get_logger()


@dataclass(frozen=True, kw_only=True)
class BatchLimits:
    """When an accumulating batch is handed to the handler: whichever limit is reached first."""

    max_events: int = 100
    max_bytes: int = 4 * 1024 * 1024
    max_wait_ms: int = 500


@dataclass(frozen=True, kw_only=True)
class PollSettings:
    """How the queue is read and how held messages are kept invisible."""

    pollers: int = 2
    wait_s: int = 5
    visibility_timeout_s: int = 60


class InFlight:
    """Messages received and not yet settled, with when their visibility was last set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[Message, float]] = {}

    def add(self, messages: Sequence[Message]) -> None:
        now = time.monotonic()
        with self._lock:
            self._held.update({m.receipt_handle: (m, now) for m in messages})

    def remove(self, messages: Sequence[Message]) -> None:
        with self._lock:
            for m in messages:
                self._held.pop(m.receipt_handle, None)

    def older_than(self, age_s: float) -> list[Message]:
        cutoff = time.monotonic() - age_s
        with self._lock:
            return [m for m, since in self._held.values() if since <= cutoff]

    def touch(self, messages: Sequence[Message]) -> None:
        now = time.monotonic()
        with self._lock:
            for m in messages:
                if m.receipt_handle in self._held:
                    self._held[m.receipt_handle] = (m, now)

    def __len__(self) -> int:
        return len(self._held)


class Worker:
    """Runs a :class:`BatchProcessor` over a queue until stopped."""

    def __init__(
        self,
        *,
        queue_: MessageQueue,
        processor: BatchProcessor,
        limits: BatchLimits,
        poll: PollSettings,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._queue = queue_
        self._processor = processor
        self._limits = limits
        self._poll = poll
        self.breaker = breaker or CircuitBreaker()
        self._held: list[Message] = []  # their store was unavailable: handled again, attempts unspent
        self._inbox: queue.Queue[list[Message]] = queue.Queue(maxsize=max(2, limits.max_events // 10 * 2))
        self._in_flight = InFlight()
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self.last_poll = time.monotonic()

    def stop(self) -> None:
        """Ask the worker to drain: stop receiving, finish what is in hand, return from :meth:`run`."""
        self._stopping.set()

    @property
    def healthy(self) -> bool:
        """Pollers have completed a receive recently (or are deliberately paused by an open breaker)."""
        return time.monotonic() - self.last_poll < self._poll.wait_s + 30

    @property
    def held(self) -> int:
        """Messages in hand because their store was unavailable."""
        return len(self._held)

    def run(self) -> None:
        """Poll, batch and process until :meth:`stop` is called; then drain and return."""
        pollers = [
            threading.Thread(target=self._poll_loop, name=f"poller-{i}", daemon=True)
            for i in range(self._poll.pollers)
        ]
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        for t in [*pollers, heartbeat]:
            t.start()
        log.info("worker_started", pollers=len(pollers), **vars(self._limits))
        batch: list[Message] = []
        size = 0
        opened = 0.0
        while True:
            if self._held and (self.breaker.receiving or self.breaker.probe_due):
                cut = self._limits.max_events
                probe, self._held = self._held[:cut], self._held[cut:]
                self._handle(probe)
                continue
            if not self.breaker.receiving:  # open: nothing is received or handled until the probe is due
                if self._stopping.is_set():
                    self._release_held()
                    continue
                self._stopping.wait(0.2)
                continue
            pollers_alive = any(t.is_alive() for t in pollers)
            timeout = (
                0.2 if not batch else max(0.0, opened + self._limits.max_wait_ms / 1000 - time.monotonic())
            )
            try:
                received = self._inbox.get(timeout=timeout if pollers_alive else 0)
            except queue.Empty:
                received = []
            if received and not batch:
                opened = time.monotonic()
            batch.extend(received)
            size += sum(m.size for m in received)
            due = (
                len(batch) >= self._limits.max_events
                or size >= self._limits.max_bytes
                or time.monotonic() - opened >= self._limits.max_wait_ms / 1000
                or not pollers_alive
            )
            if batch and due:
                self._handle(batch)
                batch, size = [], 0
            elif not batch and not pollers_alive and self._inbox.empty() and not self._held:
                break
        self._finished.set()
        heartbeat.join(timeout=5)
        log.info("worker_stopped", **self._processor.stats.counts)

    def _handle(self, batch: list[Message]) -> None:
        """Process ``batch``; hold what met an unavailable store, let the rest go from the in-flight set."""
        outcomes = self._processor.process(batch)
        unavailable = {m.receipt_handle for m, _ in outcomes.unavailable}
        self.breaker.record(outage=bool(unavailable))
        self._held.extend(m for m in batch if m.receipt_handle in unavailable)
        self._in_flight.remove([m for m in batch if m.receipt_handle not in unavailable])

    def _release_held(self) -> None:
        """Stopping during an outage: hand the held messages (and any received since) back to the queue now,
        for another replica or a later start, instead of keeping them invisible until their timeout."""
        inbox: list[Message] = []
        while not self._inbox.empty():
            inbox.extend(self._inbox.get_nowait())
        back = self._held + inbox
        self._held = []
        try:
            failed = self._queue.change_visibility(back, 0)
        except RetryableError as exc:
            log.warning("release_failed", messages=len(back), error=str(exc)[:300])
            failed = back
        self._in_flight.remove(back)
        log.info("held_released", messages=len(back) - len(failed))
        self.breaker.record(outage=False)  # nothing is held any more: let the drain finish

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            if not self.breaker.receiving:
                self.last_poll = time.monotonic()  # paused on purpose, not stuck
                self._stopping.wait(0.5)
                continue
            try:
                messages = self._queue.receive(max_messages=10, wait_s=self._poll.wait_s)
            except RetryableError as exc:
                log.warning("receive_failed", error=str(exc))
                self._stopping.wait(1.0)
                continue
            except Exception:  # a poller must outlive any error: the worker stops only when asked
                log.exception("poller_failed")
                self._stopping.wait(1.0)
                continue
            self.last_poll = time.monotonic()
            if messages:
                self._in_flight.add(messages)
                self._inbox.put(messages)  # blocks while the inbox is full: backpressure on receiving

    def _heartbeat_loop(self) -> None:
        """Extend the visibility of messages held past half their timeout."""
        timeout = self._poll.visibility_timeout_s
        while not self._finished.wait(max(1.0, timeout / 4)):
            stale = self._in_flight.older_than(timeout / 2)
            if not stale:
                continue
            try:
                failed = self._queue.change_visibility(stale, timeout)
            except RetryableError as exc:
                log.warning("heartbeat_failed", error=str(exc))
                continue
            self._in_flight.touch([m for m in stale if m not in failed])
            log.info("visibility_extended", messages=len(stale) - len(failed))
