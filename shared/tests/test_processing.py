"""Tests of the per-batch core: every message settled by its outcome, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from contracts import Envelope
from shared.errors import PermanentError, RetryableError
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import FakeClock, envelope, rule_body


class RecordingHandler:
    """Stores events; fails the ids in ``fail`` with the given error."""

    def __init__(self, fail: Mapping[str, Exception] | None = None, raise_: Exception | None = None) -> None:
        self.batches: list[list[Envelope]] = []
        self.fail = dict(fail or {})
        self.raise_ = raise_

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.batches.append(list(events))
        if self.raise_:
            raise self.raise_
        return {e.id: self.fail[e.id] for e in events if e.id in self.fail}


@pytest.fixture
def queue(clock: FakeClock) -> InMemoryQueue:
    return InMemoryQueue(visibility_timeout_s=30, clock=clock)


def _process(queue: InMemoryQueue, handler: RecordingHandler, policy: RetryPolicy | None = None) -> None:
    processor = BatchProcessor(queue=queue, handler=handler, service="svc", policy=policy or RetryPolicy())
    processor.process(queue.receive(max_messages=10, wait_s=0))


def test_stored_events_are_deleted_in_one_batch(queue: InMemoryQueue) -> None:
    """A fully stored batch leaves the queue empty and the handler saw one batch."""
    for _ in range(5):
        queue.send(rule_body(envelope()))
    handler = RecordingHandler()
    _process(queue, handler)
    assert queue.depth == 0
    assert len(handler.batches) == 1 and len(handler.batches[0]) == 5


def test_duplicate_ids_in_one_batch_reach_the_handler_once(queue: InMemoryQueue) -> None:
    """Two deliveries of one event id are handled once and both deleted."""
    event = envelope()
    queue.send(rule_body(event))
    queue.send(rule_body(event))
    handler = RecordingHandler()
    _process(queue, handler)
    assert [e.id for e in handler.batches[0]] == [event.id]
    assert queue.depth == 0


def test_poison_message_goes_to_the_dlq_and_the_rest_are_stored(queue: InMemoryQueue) -> None:
    """A non-envelope body is dead-lettered with its reason; valid neighbours are stored."""
    queue.send("{not json")
    queue.send(rule_body(envelope()))
    _process(queue, RecordingHandler())
    assert queue.depth == 0
    [letter] = queue.dead
    assert letter.message.body == "{not json"
    assert (failure := letter.failure)
    assert (failure.error_type, failure.reason) == ("ContractError", "permanent")


def test_transient_failure_hides_the_message_then_it_returns(queue: InMemoryQueue, clock: FakeClock) -> None:
    """A retryable failure backs off; after the delay the message is delivered again and stored."""
    event = envelope()
    queue.send(rule_body(event))
    policy = RetryPolicy(backoff_base_s=10, backoff_max_s=10)
    _process(queue, RecordingHandler(fail={event.id: RetryableError("store down")}), policy)
    assert queue.depth == 1 and not queue.dead
    clock.advance(4)
    assert queue.receive(max_messages=10, wait_s=0) == []
    clock.advance(7)
    _process(queue, RecordingHandler(), policy)
    assert queue.depth == 0


def test_last_attempt_goes_to_the_dlq_with_retries_exhausted(queue: InMemoryQueue, clock: FakeClock) -> None:
    """After max_attempts deliveries a still-failing message is dead-lettered, not retried forever."""
    event = envelope()
    queue.send(rule_body(event))
    policy = RetryPolicy(max_attempts=3, backoff_base_s=1, backoff_max_s=1)
    handler = RecordingHandler(fail={event.id: RetryableError("store down")})
    for _ in range(3):
        _process(queue, handler, policy)
        clock.advance(31)
    assert queue.depth == 0
    [letter] = queue.dead
    assert (failure := letter.failure)
    assert (failure.reason, failure.attempts, failure.error_message) == ("retries_exhausted", 3, "store down")


def test_a_handler_refusing_every_event_dead_letters_each(queue: InMemoryQueue) -> None:
    """A handler raising PermanentError on any event dead-letters every message of the batch, each alone."""
    for _ in range(3):
        queue.send(rule_body(envelope()))
    _process(queue, RecordingHandler(raise_=PermanentError("schema drift")))
    assert queue.depth == 0 and len(queue.dead) == 3


def test_a_handler_bug_is_retried_not_lost(queue: InMemoryQueue) -> None:
    """An unexpected exception keeps the message for a retry, with its type as the reason later."""
    queue.send(rule_body(envelope()))
    _process(queue, RecordingHandler(raise_=ZeroDivisionError("oops")))
    assert queue.depth == 1 and not queue.dead


def test_per_event_failures_only_touch_their_messages(queue: InMemoryQueue) -> None:
    """A mixed batch: stored ones deleted, the permanent one dead-lettered, the transient one kept."""
    ok, bad, later = envelope(), envelope(), envelope()
    for e in (ok, bad, later):
        queue.send(rule_body(e))
    handler = RecordingHandler(fail={bad.id: PermanentError("invalid"), later.id: RetryableError("busy")})
    _process(queue, handler)
    assert queue.depth == 1
    assert [d.failure.error_message for d in queue.dead if d.failure] == ["invalid"]


def test_an_out_of_range_time_among_nine_valid_events_goes_alone_to_the_dlq(queue: InMemoryQueue) -> None:
    """An envelope timed year 1 at +01:00 (no UTC time exists) fails at parsing, as a contract error of its
    own: its nine batch-mates reach the handler and are stored."""
    valid = [envelope() for _ in range(9)]
    bad = json.dumps(json.loads(envelope().model_dump_json()) | {"time": "0001-01-01T00:30:00+01:00"})
    queue.send(bad)
    for event in valid:
        queue.send(rule_body(event))
    handler = RecordingHandler()
    _process(queue, handler)
    assert [letter.message.body for letter in queue.dead] == [bad]
    assert sorted(e.id for batch in handler.batches for e in batch) == sorted(e.id for e in valid)
    assert queue.depth == 0
