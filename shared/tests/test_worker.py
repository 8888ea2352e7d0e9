"""Tests of the worker loop: batching by count and time, heartbeat, and draining on stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from contracts import Envelope
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import envelope, rule_body
from shared.worker import BatchLimits, InFlight, PollSettings, Worker


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
    """Three messages are handled once max_wait passes, without reaching max_events."""
    queue = InMemoryQueue()
    for _ in range(3):
        queue.send(rule_body(envelope()))
    handler = SlowHandler()
    worker = _worker(queue, handler, BatchLimits(max_events=1000, max_wait_ms=50))
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
