"""The SQS worker: pollers, latency-aware batching, pipelined settling, visibility heartbeat, graceful drain.

Several poller threads long-poll the queue and feed a bounded inbox with each receive's result. The main
loop accumulates messages into a batch and hands it to the :class:`~shared.processing.BatchProcessor` when
it is full, when its window ends, or as soon as the queue looks drained (a receive returned fewer than the
most it asked for and no other receive's messages are in hand): see :mod:`shared.batching`.

Handling and settling are pipelined: the main loop handles a batch (parse, store write) and passes its
outcomes to the :class:`Settler` thread, which tells the queue (DeleteMessageBatch, DLQ sends, visibility
backoffs) while the main loop handles the next batch, and the pollers receive the one after. Settles run
one at a time in handling order, and a few at most wait (backpressure). A message stays in the in-flight
set (its visibility extended by the heartbeat) until it is settled, so pipelining changes no delivery
guarantee: a message leaves the queue only once stored or dead-lettered. On stop, pollers finish their
current receive, every message in hand is handled, every handled batch is settled, and :meth:`Worker.run`
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from shared.batching import RECEIVE_MAX, Batcher, BatchLimits, Receipt
from shared.breaker import CircuitBreaker
from shared.errors import RetryableError
from shared.messages import Message
from shared.ports import MessageQueue
from shared.processing import BatchProcessor, Handled

log = structlog.get_logger()

SETTLE_BACKLOG = 2  # handled batches that may wait for the settler before handling blocks


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


class Settler:
    """Settles handled batches on its own thread, in handling order, while the worker handles the next.

    At most ``backlog`` batches wait to be settled; :meth:`submit` blocks beyond that, so a slow queue
    slows handling instead of piling up messages held invisible. After each batch, ``after`` (given with
    it) runs: the worker lets the batch's messages go from its in-flight set there, which ends their
    heartbeat only once the queue knows their fate.
    """

    def __init__(self, settle: Callable[[Handled], None], *, backlog: int = SETTLE_BACKLOG) -> None:
        self._settle = settle
        self._pending: queue.Queue[tuple[Handled, Callable[[], None]] | None] = queue.Queue(maxsize=backlog)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="settler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, handled: Handled, after: Callable[[], None]) -> None:
        """Queue ``handled`` to be settled, then ``after`` to run; blocks while the backlog is full."""
        self._reraise()
        self._pending.put((handled, after))

    def close(self) -> None:
        """Return once every submitted batch is settled; the thread ends."""
        if self._thread.is_alive():
            self._pending.put(None)
            self._thread.join()
        self._reraise()

    def _reraise(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _loop(self) -> None:
        while (item := self._pending.get()) is not None:
            handled, after = item
            try:
                self._settle(handled)  # never raises an Exception (BatchProcessor.settle)
            except BaseException as exc:  # noqa: BLE001 - not ours to swallow: raised again in the worker
                self._failure = exc
            finally:
                after()


class Worker:
    """Runs a :class:`BatchProcessor` over a queue until stopped.

    ``clock`` times the batching window (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        queue_: MessageQueue,
        processor: BatchProcessor,
        limits: BatchLimits,
        poll: PollSettings,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue = queue_
        self._processor = processor
        self._limits = limits
        self._poll = poll
        self.breaker = breaker or CircuitBreaker()
        self._held: list[Message] = []  # their store was unavailable: handled again, attempts unspent
        self._inbox: queue.Queue[Receipt] = queue.Queue(maxsize=max(2, limits.max_events // RECEIVE_MAX * 2))
        self._settler = Settler(processor.settle)
        self._batcher = Batcher(limits, clock=clock)
        self._clock = clock
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

    @property
    def in_flight(self) -> int:
        """Messages received and not yet settled (kept invisible by the heartbeat)."""
        return len(self._in_flight)

    def run(self) -> None:
        """Poll, batch and process until :meth:`stop` is called; then drain and return."""
        pollers = [
            threading.Thread(target=self._poll_loop, name=f"poller-{i}", daemon=True)
            for i in range(self._poll.pollers)
        ]
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        self._settler.start()
        for t in [*pollers, heartbeat]:
            t.start()
        log.info("worker_started", pollers=len(pollers), **vars(self._limits))
        try:
            self._accumulate(pollers)
        finally:
            self._settler.close()  # every handled batch is settled before the worker returns
            self._finished.set()
        heartbeat.join(timeout=5)
        log.info("worker_stopped", **self._processor.stats.counts)

    def _accumulate(self, pollers: list[threading.Thread]) -> None:
        """The main loop: batch what the pollers receive and hand each batch over when it is due."""
        batcher = self._batcher
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
            wait_s = batcher.wait_s()
            try:
                receipt = self._inbox.get(timeout=(0.2 if wait_s is None else wait_s) if pollers_alive else 0)
            except queue.Empty:
                receipt = None
            if receipt is not None:
                due = batcher.add(receipt, more_in_hand=not self._inbox.empty())
            else:
                due = batcher.expired()
            if not due and not pollers_alive:  # stopping: what is in hand goes now
                due = batcher.take()
            if due:
                self._handle(due)
            elif not batcher and not pollers_alive and self._inbox.empty() and not self._held:
                return

    def _handle(self, batch: list[Message]) -> None:
        """Handle ``batch`` and pass it to the settler; hold what met an unavailable store (unsettled)."""
        handled = self._processor.handle(batch)
        unavailable = {m.receipt_handle for m, _ in handled.outcomes.unavailable}
        self.breaker.record(outage=bool(unavailable))
        self._held.extend(m for m in batch if m.receipt_handle in unavailable)
        settled = [m for m in batch if m.receipt_handle not in unavailable]
        self._settler.submit(handled, lambda: self._in_flight.remove(settled))

    def _release_held(self) -> None:
        """Stopping during an outage: hand the held messages (and any received since) back to the queue now,
        for another replica or a later start, instead of keeping them invisible until their timeout."""
        inbox: list[Message] = []
        while not self._inbox.empty():
            inbox.extend(self._inbox.get_nowait().messages)
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
                messages = self._queue.receive(max_messages=RECEIVE_MAX, wait_s=self._poll.wait_s)
            except RetryableError as exc:
                log.warning("receive_failed", error=str(exc))
                self._stopping.wait(1.0)
                continue
            except Exception:  # a poller must outlive any error: the worker stops only when asked
                log.exception("poller_failed")
                self._stopping.wait(1.0)
                continue
            self.last_poll = time.monotonic()
            self._in_flight.add(messages)
            # even an empty receipt: it tells the main loop the queue looks drained. Blocks while the inbox
            # is full: backpressure on receiving.
            self._inbox.put(Receipt.of(messages, at=self._clock(), asked=RECEIVE_MAX))

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
