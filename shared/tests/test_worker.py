"""Tests of the worker loop: batching by count and time, heartbeat, and draining on stop."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from contracts import Envelope
from shared.batching import BatchLimits
from shared.breaker import CircuitBreaker
from shared.errors import StoreUnavailable
from shared.messages import Message
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import envelope, rule_body
from shared.worker import InFlight, PollSettings, Worker


class SlowHandler:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.batches: list[int] = []
        self.delay_s = delay_s

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        time.sleep(self.delay_s)
        self.batches.append(len(events))
        return {}


def _worker(queue: InMemoryQueue, handler: SlowHandler, limits: BatchLimits, vt: int = 30) -> Worker:
    processor = BatchProcessor(queue=queue, handler=handler, service="svc", policy=RetryPolicy())
    return Worker(
        queue_=queue,
        processor=processor,
        limits=limits,
        poll=PollSettings(pollers=2, wait_s=0, visibility_timeout_s=vt),
    )


def _run_until(worker: Worker, done: callable, timeout: float = 5.0) -> None:  # type: ignore[valid-type]
    thread = threading.Thread(target=worker.run)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive(), "worker did not drain"


def test_messages_accumulate_into_batches_of_the_configured_size() -> None:
    """250 messages become batches of at most 100, all stored."""
    queue = InMemoryQueue()
    for _ in range(250):
        queue.send(rule_body(envelope()))
    handler = SlowHandler()
    worker = _worker(queue, handler, BatchLimits(max_events=100, max_wait_ms=200))
    _run_until(worker, lambda: queue.depth == 0)
    assert queue.depth == 0
    assert sum(handler.batches) == 250
    assert max(handler.batches) <= 100
    assert handler.batches.count(100) >= 2


def test_a_partial_batch_is_flushed_after_the_wait() -> None:
    """Three messages are handled once max_wait passes, without reaching max_events (the drained rule off:
    with it, they would go at once; see test_batching)."""
    queue = InMemoryQueue()
    for _ in range(3):
        queue.send(rule_body(envelope()))
    handler = SlowHandler()
    worker = _worker(queue, handler, BatchLimits(max_events=1000, max_wait_ms=50, flush_when_drained=False))
    _run_until(worker, lambda: queue.depth == 0)
    assert handler.batches == [3]


def test_stop_drains_messages_already_received() -> None:
    """Messages in hand when stop is requested are still handled and deleted."""
    queue = InMemoryQueue()
    for _ in range(20):
        queue.send(rule_body(envelope()))
    handler = SlowHandler(delay_s=0.2)
    worker = _worker(queue, handler, BatchLimits(max_events=10, max_wait_ms=10))
    _run_until(worker, lambda: bool(handler.batches) or queue.calls["receive"] > 0, timeout=2)
    received_and_kept = queue.depth
    assert sum(handler.batches) + received_and_kept == 20
    assert queue.calls["delete"] >= 1


def test_heartbeat_extends_visibility_of_long_held_messages() -> None:
    """A handler slower than half the visibility timeout gets its messages' visibility extended."""
    queue = InMemoryQueue(visibility_timeout_s=5)
    queue.send(rule_body(envelope()))
    handler = SlowHandler(delay_s=3.5)
    worker = _worker(queue, handler, BatchLimits(max_events=1, max_wait_ms=0), vt=5)
    _run_until(worker, lambda: bool(handler.batches), timeout=8)
    assert queue.calls["change_visibility"] >= 1
    assert queue.depth == 0


def test_in_flight_reports_only_messages_held_long_enough() -> None:
    """older_than lists what was added before the cutoff, touch resets it."""
    from shared.messages import Message

    held = InFlight()
    m = Message(message_id="1", receipt_handle="r1", body="{}")
    held.add([m])
    assert held.older_than(10) == []
    assert held.older_than(0) == [m]
    held.remove([m])
    assert len(held) == 0


class FlakyStore:
    """A handler over a store that can be switched off: then every call raises StoreUnavailable."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.stored: Counter[str] = Counter()
        self.outage_calls = 0

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        if self.down.is_set():
            self.outage_calls += 1
            raise StoreUnavailable("connection refused")
        self.stored.update(e.id for e in events)
        return {}


def test_an_outage_longer_than_the_visibility_timeout_dead_letters_nothing_and_drains_after() -> None:
    """Store down for several visibility timeouts: the breaker opens, receiving stops, held messages stay
    invisible (heartbeat) and unspent; after recovery each event is stored exactly once, none dead-lettered.
    """
    queue = InMemoryQueue(visibility_timeout_s=2)
    store = FlakyStore()
    store.down.set()
    events = [envelope() for _ in range(30)]
    for e in events:
        queue.send(rule_body(e))
    processor = BatchProcessor(
        queue=queue, handler=store, service="svc", policy=RetryPolicy(max_attempts=2, backoff_base_s=0.1)
    )
    worker = Worker(
        queue_=queue,
        processor=processor,
        limits=BatchLimits(max_events=10, max_wait_ms=20),
        poll=PollSettings(pollers=2, wait_s=0, visibility_timeout_s=2),
        breaker=CircuitBreaker(threshold=2, open_s=0.1, max_open_s=0.4),
    )
    thread = threading.Thread(target=worker.run)
    began = time.monotonic()
    thread.start()
    try:
        _wait(lambda: worker.breaker.opened >= 3, "the breaker to open and re-open on failed probes")
        receives = queue.calls["receive"]
        _wait(lambda: worker.breaker.opened >= 6, "more failed probes")
        assert queue.calls["receive"] == receives, "pollers received while the breaker was open"
        assert worker.held > 0 and not queue.dead
        outage_s = 3 * 2  # three visibility timeouts: without the heartbeat held messages would reappear
        _wait(lambda: time.monotonic() - began > outage_s, "the outage to last")
        store.down.clear()
        _wait(lambda: queue.depth == 0, "the backlog to drain after recovery")
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not queue.dead
    assert store.stored == Counter({e.id: 1 for e in events}), "an event was lost or redelivered"


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class BrokenReceive(InMemoryQueue):
    """A queue whose first receives fail with an unexpected error."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        if self.failures > 0:
            self.failures -= 1
            raise ValueError("unexpected")
        return super().receive(max_messages=max_messages, wait_s=wait_s)


def test_no_message_and_no_poller_error_stops_the_worker() -> None:
    """A body nested 100,000 deep, a 5,000-digit number and a failing receive: the worker runs on, the
    poison is dead-lettered and the valid message stored."""
    queue = BrokenReceive(failures=2)
    queue.send("[" * 100_000 + "]" * 100_000)
    queue.send('{"detail-type": "x", "detail": {"n": ' + "9" * 5000 + "}}")
    queue.send(rule_body(envelope()))
    handler = SlowHandler()
    worker = _worker(queue, handler, BatchLimits(max_events=10, max_wait_ms=20))
    _run_until(worker, lambda: queue.depth == 0, timeout=20)
    assert handler.batches == [1]
    assert sorted(d.failure.error_message for d in queue.dead if d.failure) == [
        "JSON nests deeper than 64 levels",
        "a JSON number has more than 100 characters",
    ]
