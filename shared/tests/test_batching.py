"""Latency-aware batching: a batch goes when full, when its window ends, or once the queue looks drained.

The rules are checked on :class:`Batcher` with a hand-moved clock, and through a running :class:`Worker` over
a scripted queue whose clock moves only when the script says: each handover is asserted on that clock and on
the order of the queue's log, never on wall time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from contracts import Envelope
from shared.batching import Batcher, BatchLimits, Receipt
from shared.messages import Message
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testkit.envelopes import FakeClock
from shared.testkit.scripted import Quiet, ScriptedQueue
from shared.testkit.waiting import wait_for
from shared.worker import PollSettings, Worker

WINDOW_MS = 60_000  # far longer than any test waits: a handover before it is not the window's doing


def _messages(n: int, start: int = 0, body: str = "{}") -> list[Message]:
    return [Message(message_id=f"m{i}", receipt_handle=f"r{i}", body=body) for i in range(start, start + n)]


def full(clock: FakeClock, start: int = 0) -> Receipt:
    return Receipt.of(_messages(10, start), at=clock())


# --- the rules, on Batcher ------------------------------------------------------------------------------


def test_a_lone_message_from_a_short_receive_goes_at_once(clock: FakeClock) -> None:
    batcher = Batcher(BatchLimits(max_events=1000, max_wait_ms=WINDOW_MS), clock=clock)
    assert batcher.add(Receipt.of(_messages(1), at=clock()), more_in_hand=False) == _messages(1)
    assert len(batcher) == 0 and batcher.wait_s() is None


def test_a_short_receive_waits_while_other_receives_are_in_hand(clock: FakeClock) -> None:
    """Receives already in hand are more of the same load: they join the batch before it goes."""
    batcher = Batcher(BatchLimits(max_events=1000, max_wait_ms=WINDOW_MS), clock=clock)
    assert batcher.add(Receipt.of(_messages(3), at=clock()), more_in_hand=True) is None
    assert batcher.add(Receipt.of(_messages(4, 3), at=clock()), more_in_hand=False) == _messages(7)


def test_an_empty_receive_hands_over_what_a_full_one_left_open(clock: FakeClock) -> None:
    """The last receive was full (10), the next finds nothing: the queue is drained, the batch goes."""
    batcher = Batcher(BatchLimits(max_events=1000, max_wait_ms=WINDOW_MS), clock=clock)
    assert batcher.add(full(clock), more_in_hand=False) is None
    clock.advance(1.0)
    assert batcher.add(Receipt.of([], at=clock()), more_in_hand=False) == _messages(10)


def test_an_empty_receive_with_nothing_open_hands_over_nothing(clock: FakeClock) -> None:
    batcher = Batcher(BatchLimits(), clock=clock)
    assert batcher.add(Receipt.of([], at=clock()), more_in_hand=False) is None
    assert batcher.expired() is None and batcher.wait_s() is None


def test_a_full_batch_goes_at_once_without_waiting_for_the_window(clock: FakeClock) -> None:
    batcher = Batcher(BatchLimits(max_events=20, max_wait_ms=WINDOW_MS), clock=clock)
    assert batcher.add(full(clock, 0), more_in_hand=True) is None
    assert batcher.add(full(clock, 10), more_in_hand=True) == _messages(20)


def test_a_batch_over_its_byte_limit_goes_at_once(clock: FakeClock) -> None:
    batcher = Batcher(BatchLimits(max_events=1000, max_bytes=2048, max_wait_ms=WINDOW_MS), clock=clock)
    assert batcher.add(Receipt.of(_messages(10, body="x" * 100), at=clock()), more_in_hand=True) is None
    assert (
        len(batcher.add(Receipt.of(_messages(10, 10, body="x" * 150), at=clock()), more_in_hand=True) or [])
        == 20
    )


def test_a_steady_stream_of_full_receives_yields_full_batches(clock: FakeClock) -> None:
    """A backlog: every receive returns the most (10); batches fill to the limit, whatever is in hand."""
    batcher = Batcher(BatchLimits(max_events=50, max_wait_ms=WINDOW_MS), clock=clock)
    batches = []
    for i in range(100):
        clock.advance(0.001)
        if (batch := batcher.add(full(clock, 10 * i), more_in_hand=i % 3 == 0)) is not None:
            batches.append(len(batch))
    assert batches == [50] * 20


def test_without_the_drained_rule_a_lone_message_waits_for_the_window(clock: FakeClock) -> None:
    """The archiver's rule: count, bytes or window only; a short receive does not end the batch."""
    batcher = Batcher(BatchLimits(max_events=1000, max_wait_ms=5000, flush_when_drained=False), clock=clock)
    assert batcher.add(Receipt.of(_messages(1), at=clock()), more_in_hand=False) is None
    assert batcher.wait_s() == 5.0
    clock.advance(4.999)
    assert batcher.add(Receipt.of([], at=clock()), more_in_hand=False) is None
    assert batcher.expired() is None
    clock.advance(0.001)
    assert batcher.expired() == _messages(1)


def test_the_window_counts_from_the_batch_first_message(clock: FakeClock) -> None:
    batcher = Batcher(BatchLimits(max_events=1000, max_wait_ms=1000, flush_when_drained=False), clock=clock)
    clock.advance(30)  # idle time before the first message does not count
    batcher.add(Receipt.of(_messages(1), at=clock()), more_in_hand=False)
    clock.advance(0.5)
    assert batcher.add(Receipt.of(_messages(1, 1), at=clock()), more_in_hand=False) is None
    assert batcher.wait_s() == 0.5
    clock.advance(0.5)
    assert batcher.add(Receipt.of(_messages(1, 2), at=clock()), more_in_hand=False) == _messages(3)


# --- the same rules in a running worker -------------------------------------------------------------------


class NotingHandler:
    """Stores everything; notes each call in the scripted queue's log, at the queue's clock."""

    def __init__(self, queue: ScriptedQueue) -> None:
        self.queue = queue
        self.batches: list[int] = []

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.queue.note("handle", len(events))
        self.batches.append(len(events))
        return {}


@contextmanager
def running(queue: ScriptedQueue, limits: BatchLimits, clock: FakeClock) -> Iterator[Worker]:
    processor = BatchProcessor(queue=queue, handler=NotingHandler(queue), service="svc", policy=RetryPolicy())
    worker = Worker(
        queue_=queue,
        processor=processor,
        limits=limits,
        poll=PollSettings(pollers=1, wait_s=1, visibility_timeout_s=30),
        clock=clock,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        queue.release()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the worker did not drain"


def _handles(queue: ScriptedQueue) -> list[int]:
    return [e.count for e in queue.entries("handle")]


def test_worker_hands_a_lone_message_over_before_its_window(clock: FakeClock) -> None:
    """Light load: one message, then the queue is quiet. It is handled at once: the clock has not moved and
    the window is a minute long."""
    queue = ScriptedQueue([1], clock=clock)
    began = clock()
    with running(queue, BatchLimits(max_events=100, max_wait_ms=WINDOW_MS), clock):
        wait_for(lambda: _handles(queue), 30, 0.01, what="the lone message to be handled")
        [handle] = queue.entries("handle")
        assert handle.count == 1 and handle.at - began < WINDOW_MS / 1000 / 100
        assert [e.what for e in queue.log[:2]] == ["receive", "handle"]


def test_worker_hands_a_full_batch_over_at_once(clock: FakeClock) -> None:
    """Two full receives fill a batch of 20: it goes without the window passing or the queue draining."""
    queue = ScriptedQueue([10, 10], clock=clock)
    began = clock()
    with running(queue, BatchLimits(max_events=20, max_wait_ms=WINDOW_MS), clock):
        wait_for(lambda: _handles(queue), 30, 0.01, what="the full batch to be handled")
        assert _handles(queue) == [20]
        assert queue.entries("handle")[0].at == began


def test_worker_turns_a_steady_stream_into_full_batches(clock: FakeClock) -> None:
    """A backlog of 100 (ten full receives) with batches of 50: two batches of 50, nothing smaller."""
    queue = ScriptedQueue([10] * 10, clock=clock)
    with running(queue, BatchLimits(max_events=50, max_wait_ms=WINDOW_MS), clock):
        wait_for(lambda: sum(_handles(queue)) == 100, 30, 0.01, what="100 messages handled")
        assert _handles(queue) == [50, 50]
        wait_for(lambda: len(queue.deleted) == 100, 30, 0.01, what="100 messages deleted")


def test_worker_without_the_drained_rule_waits_for_the_window(clock: FakeClock) -> None:
    """flush_when_drained off (the archiver): a lone message and then quiet receives of 1 s each; it is
    handled only once the 5 s window has passed on the queue's clock, never at the first quiet receive."""
    queue = ScriptedQueue([1, *[Quiet(1.0)] * 10], clock=clock)
    began = clock()
    limits = BatchLimits(max_events=1000, max_wait_ms=5000, flush_when_drained=False)
    with running(queue, limits, clock):
        wait_for(lambda: _handles(queue), 30, 0.01, what="the message to be handled at its window")
        [handle] = queue.entries("handle")
        assert handle.count == 1 and handle.at - began >= 5.0
        quiet_before = [
            e for e in queue.log[: queue.log.index(handle)] if e.what == "receive" and not e.count
        ]
        assert len(quiet_before) >= 5, "handled before the window's quiet receives came in"


def test_worker_counts_the_window_from_the_receive_not_from_when_it_is_taken(clock: FakeClock) -> None:
    """A message that waited in the inbox has spent part of its window there: the window starts when it
    was received (here the clock moves 6 s between its receive and a quiet one, longer than the window)."""
    queue = ScriptedQueue([1, Quiet(6.0)], clock=clock)
    limits = BatchLimits(max_events=1000, max_wait_ms=5000, flush_when_drained=False)
    with running(queue, limits, clock):
        wait_for(lambda: _handles(queue), 30, 0.01, what="the message to be handled")
        assert queue.entries("handle")[0].at == queue.entries("receive")[1].at


def test_a_late_batch_still_takes_what_is_in_hand(clock: FakeClock) -> None:
    """A backlog while the worker handled a long batch: receives waited in its inbox past the window. The
    batch does not go with the first receive's ten messages; it takes the receives in hand up to its limit
    (a batch of ten at a time would make each store write carry ten events)."""
    batcher = Batcher(BatchLimits(max_events=50, max_wait_ms=5000, flush_when_drained=False), clock=clock)
    received_at = clock()
    clock.advance(8.0)  # the previous batch took 8 s to handle
    late = [Receipt.of(_messages(10, 10 * i), at=received_at) for i in range(7)]
    sizes = [len(b) for i, r in enumerate(late) if (b := batcher.add(r, more_in_hand=i < 6))]
    assert sizes == [50, 20], "the rest goes once nothing more is in hand (its window has ended)"
