"""Pipelining: settling a batch (DeleteMessageBatch, DLQ sends, backoffs) overlaps handling the next one.

A scripted queue holds deletes at a gate, so each test catches the worker with a settle in flight and
checks what it does meanwhile and after: no wall-time sleeps decide an outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import pytest

from contracts import Envelope
from shared.batching import BatchLimits
from shared.errors import PermanentError
from shared.observe import QUEUE, BatchObserver, BatchReport, traced
from shared.outcomes import Outcomes, RetryPolicy
from shared.processing import BatchProcessor, Handled
from shared.testkit.envelopes import FakeClock
from shared.testkit.scripted import ScriptedQueue
from shared.testkit.waiting import wait_for
from shared.worker import PollSettings, Settler, Worker

WINDOW_MS = 60_000


class NotingHandler:
    """Stores every event but those it is told to refuse; notes each call in the queue's log."""

    def __init__(self, queue: ScriptedQueue, refuse: frozenset[int] = frozenset()) -> None:
        self.queue = queue
        self.refuse = refuse
        self.calls = 0

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.calls += 1
        self.queue.note("handle", len(events))
        if self.calls in self.refuse:
            return {e.id: PermanentError("refused") for e in events[:1]}
        return {}


@contextmanager
def running(
    queue: ScriptedQueue,
    clock: FakeClock,
    *,
    max_events: int = 10,
    handler: NotingHandler | None = None,
    sinks: Sequence[object] = (),
) -> Iterator[tuple[Worker, threading.Thread]]:
    processor = BatchProcessor(
        queue=traced(queue, store=QUEUE, aws=True),
        handler=handler or NotingHandler(queue),
        service="svc",
        policy=RetryPolicy(),
        observer=BatchObserver(service="svc", sinks=list(sinks)),  # type: ignore[arg-type]
    )
    worker = Worker(
        queue_=queue,
        processor=processor,
        limits=BatchLimits(max_events=max_events, max_wait_ms=WINDOW_MS),
        poll=PollSettings(pollers=1, wait_s=1, visibility_timeout_s=30),
        clock=clock,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        yield worker, thread
    finally:
        queue.open_deletes()
        worker.stop()
        queue.release()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the worker did not drain"


def _whats(queue: ScriptedQueue) -> list[str]:
    return [f"{e.what} {e.count}" for e in queue.log]


def test_the_next_batch_is_handled_while_the_last_one_is_still_being_deleted(clock: FakeClock) -> None:
    """Batch 1's DeleteMessageBatch is held: batch 2 is handled meanwhile; both stay in flight (invisible,
    heartbeat) until their deletes complete, in handling order."""
    queue = ScriptedQueue([10, 10], clock=clock)
    queue.hold_deletes()
    with running(queue, clock) as (worker, _):
        wait_for(lambda: len(queue.entries("handle")) == 2, 30, 0.01, what="both batches handled")
        assert queue.delete_started.wait(30), "batch 1 was not settled"
        assert queue.deleted == [], "a delete completed through the gate"
        assert "delete 10" not in _whats(queue)
        assert worker.in_flight == 20, "a message left the in-flight set before it was settled"
        queue.open_deletes()
        wait_for(lambda: len(queue.deleted) == 20, 30, 0.01, what="both batches deleted")
        assert queue.deleted == [f"m-{i}" for i in range(1, 21)], "deletes out of handling order"
        wait_for(lambda: worker.in_flight == 0, 30, 0.01, what="the in-flight set to empty")


def test_stop_waits_for_settles_in_flight(clock: FakeClock) -> None:
    """SIGTERM's drain with a delete in flight: run() returns only after the delete completed."""
    queue = ScriptedQueue([10], clock=clock)
    queue.hold_deletes()
    with running(queue, clock) as (worker, thread):
        assert queue.delete_started.wait(30), "the batch was not settled"
        worker.stop()
        queue.release()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the worker returned with a settle in flight"
        assert worker.in_flight == 10
        queue.open_deletes()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert queue.deleted == [f"m-{i}" for i in range(1, 11)]
        assert worker.in_flight == 0


def test_stop_handles_and_settles_what_is_in_hand(clock: FakeClock) -> None:
    """Stopping with a batch open (the window a minute away, the queue not drained): it is handled and
    settled before run() returns."""
    queue = ScriptedQueue([10, 10, 10], clock=clock)
    with running(queue, clock, max_events=1000) as (worker, thread):
        wait_for(lambda: len(queue.entries("receive")) == 3, 30, 0.01, what="three receives")
        worker.stop()
        queue.release()
        thread.join(timeout=30)
        assert [e.count for e in queue.entries("handle")] == [30]
        assert len(queue.deleted) == 30


def test_a_dead_letter_is_sent_before_its_message_is_deleted_in_the_settler(clock: FakeClock) -> None:
    """Settling on its own thread keeps the order that makes a message leave only once safe: DLQ first."""
    queue = ScriptedQueue([10], clock=clock)
    handler = NotingHandler(queue, refuse=frozenset({1}))
    with running(queue, clock, handler=handler):
        wait_for(lambda: len(queue.deleted) == 10, 30, 0.01, what="the batch settled")
        assert len(queue.dead) == 1
        assert queue.dead[0].message.message_id in queue.deleted


def test_settling_calls_are_reported_with_their_batch(clock: FakeClock) -> None:
    """The settle runs on another thread, yet its queue calls land in the batch's report (traces,
    metrics), and that batch's only."""
    reports: list[BatchReport] = []
    queue = ScriptedQueue([10, 10], clock=clock)
    with running(queue, clock, sinks=[reports.append]):
        wait_for(lambda: len(reports) == 2, 30, 0.01, what="two batch reports")
    assert [[c.operation for c in r.calls] for r in reports] == [["delete"], ["delete"]]


def test_a_settle_that_raises_past_the_runtime_stops_the_worker_loudly() -> None:
    """A BaseException from settling (a test's DLQ-limit check) is not swallowed by the settler thread: the
    worker raises it, after the batch's messages were let go."""

    class Boom(BaseException):
        pass

    def settle(_: Handled) -> None:
        raise Boom

    after: list[str] = []
    settler = Settler(settle)
    settler.start()
    settler.submit(Handled(messages=[], outcomes=Outcomes(), started=0.0), lambda: after.append("after"))
    with pytest.raises(Boom):
        settler.close()
    assert after == ["after"]
