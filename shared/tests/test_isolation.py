"""Tests of failure isolation: no message escapes the processor, only culprits fail, outages spend nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import Envelope
from shared.errors import PermanentError, RetryableError, StoreUnavailable
from shared.messages import DeadLetter, Message
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import FakeClock, envelope, rule_body

POLICY = RetryPolicy(max_attempts=3, backoff_base_s=1, backoff_max_s=1)


class PoisonHandler:
    """Stores every event unless the call holds a poison one: then the whole call fails with ``error``."""

    def __init__(self, poison: set[str], error: Exception) -> None:
        self.poison = poison
        self.error = error
        self.calls: list[list[str]] = []
        self.stored: set[str] = set()

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.calls.append([e.id for e in events])
        if any(e.id in self.poison for e in events):
            raise self.error
        self.stored.update(e.id for e in events)
        return {}


class SettleLog:
    """A queue recording what was done to each message, over an :class:`InMemoryQueue`."""

    def __init__(self, inner: InMemoryQueue) -> None:
        self.inner = inner
        self.actions: dict[str, list[str]] = defaultdict(list)

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        return self.inner.receive(max_messages=max_messages, wait_s=wait_s)

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        for m in messages:
            self.actions[m.message_id].append("delete")
        return self.inner.delete(messages)

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        for m in messages:
            self.actions[m.message_id].append("backoff")
        return self.inner.change_visibility(messages, timeout_s)

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        for d in letters:
            self.actions[d.message.message_id].append("dead_letter")
        return self.inner.dead_letter(letters)


def _batch(queue: InMemoryQueue, bodies: Sequence[str], receives: int = 1) -> list[Message]:
    """Send ``bodies`` (at most 10) and receive them all ``receives`` times; the last delivery."""
    for body in bodies:
        queue.send(body)
    messages = queue.receive(max_messages=10, wait_s=0)
    for _ in range(receives - 1):
        queue.change_visibility(messages, 0)
        messages = queue.receive(max_messages=10, wait_s=0)
    return messages


def _processor(queue: InMemoryQueue | SettleLog, handler: PoisonHandler) -> BatchProcessor:
    return BatchProcessor(queue=queue, handler=handler, service="svc", policy=POLICY)


def test_a_permanent_poison_among_nine_goes_alone_to_the_dlq() -> None:
    """One event that makes the handler raise: it alone is dead-lettered, the nine others are stored."""
    queue = InMemoryQueue(clock=FakeClock())
    events = [envelope() for _ in range(10)]
    poison = events[6]
    handler = PoisonHandler({poison.id}, PermanentError("store refused the batch"))
    outcomes = _processor(queue, handler).process(_batch(queue, [rule_body(e) for e in events]))
    assert handler.stored == {e.id for e in events} - {poison.id}
    assert [json.loads(d.body)["detail"]["id"] for d in queue.dead] == [poison.id]
    assert (failure := queue.dead[0].failure) and failure.error_message == "store refused the batch"
    assert len(outcomes.done) == 9 and queue.depth == 0
    assert len(handler.calls) <= 1 + 2 * 4  # a bisection, not one call per event


def test_a_handler_bug_on_one_event_retries_that_event_alone_then_dead_letters_it() -> None:
    """An unexpected exception (OverflowError) isolates the culprit; on its last attempt it is dead-lettered
    with its own reason while fresh batch-mates are stored."""
    clock = FakeClock()
    queue = InMemoryQueue(clock=clock)
    poison = envelope()
    handler = PoisonHandler({poison.id}, OverflowError("date value out of range"))
    processor = _processor(queue, handler)
    first = [envelope() for _ in range(9)]
    outcomes = processor.process(_batch(queue, [rule_body(e) for e in [*first, poison]]))
    assert [m.message_id for m, _ in outcomes.retry] == ["m-10"]
    assert handler.stored == {e.id for e in first}
    for _ in range(POLICY.max_attempts - 1):
        clock.advance(2)
        later = [envelope() for _ in range(3)]
        for e in later:
            queue.send(rule_body(e))
        processor.process(queue.receive(max_messages=10, wait_s=0))
        assert {e.id for e in later} <= handler.stored
    [letter] = queue.dead
    assert (failure := letter.failure)
    assert (failure.reason, failure.error_type, failure.attempts) == ("retries_exhausted", "OverflowError", 3)
    assert queue.depth == 0


def test_shared_returned_failures_are_isolated_too() -> None:
    """A handler returning one PermanentError instance for a whole group failed it together: isolated."""
    queue = InMemoryQueue(clock=FakeClock())
    events = [envelope() for _ in range(10)]
    poison = events[3]

    def handler(batch: Sequence[Envelope]) -> Mapping[str, Exception]:
        if any(e.id == poison.id for e in batch):
            error = PermanentError("group write refused")
            return {e.id: error for e in batch}
        return {}

    processor = BatchProcessor(queue=queue, handler=handler, service="svc", policy=POLICY)
    outcomes = processor.process(_batch(queue, [rule_body(e) for e in events]))
    assert len(outcomes.done) == 9 and len(queue.dead) == 1


def test_a_transient_batch_error_is_retried_whole_until_an_event_would_dead_letter() -> None:
    """A plain RetryableError is retried as a batch (one call); on a last attempt it is isolated."""
    clock = FakeClock()
    queue = InMemoryQueue(clock=clock)
    events = [envelope() for _ in range(4)]
    handler = PoisonHandler({events[0].id}, RetryableError("lock timeout"))
    outcomes = _processor(queue, handler).process(_batch(queue, [rule_body(e) for e in events]))
    assert len(handler.calls) == 1 and len(outcomes.retry) == 4
    clock.advance(2)
    queue.change_visibility(_batch(queue, [], receives=POLICY.max_attempts - 2), 0)
    last = queue.receive(max_messages=10, wait_s=0)
    assert all(m.receive_count == POLICY.max_attempts for m in last)
    outcomes = _processor(queue, handler).process(last)
    assert len(outcomes.done) == 3 and len(queue.dead) == 1


def test_a_store_outage_spends_no_attempt_and_is_never_dead_lettered() -> None:
    """StoreUnavailable: one call (no bisection), nothing settled, even on the last attempt."""
    queue = InMemoryQueue(clock=FakeClock())
    events = [envelope() for _ in range(5)]
    handler = PoisonHandler({e.id for e in events}, StoreUnavailable("connection refused"))
    log = SettleLog(queue)
    batch = _batch(queue, [rule_body(e) for e in events], receives=POLICY.max_attempts + 2)
    assert all(m.receive_count > POLICY.max_attempts for m in batch)
    outcomes = _processor(log, handler).process(batch)
    assert len(handler.calls) == 1
    assert len(outcomes.unavailable) == 5 and not outcomes.dead and not outcomes.retry
    assert not log.actions and not queue.dead


# -- the property: any input, every message settled exactly once -------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[str, str]:
    """A queue body and its kind (``valid``; ``poison``: a valid envelope that makes the handler fail)."""
    kind = draw(st.sampled_from(["valid", "poison", "json", "bytes", "deep", "huge", "shape"]))
    if kind in ("valid", "poison"):
        return rule_body(envelope()), kind
    if kind == "json":
        return json.dumps(draw(_json)), kind
    if kind == "bytes":
        return draw(st.binary(max_size=200)).decode("utf-8", "surrogateescape"), kind
    if kind == "deep":
        depth = draw(st.integers(65, 100_000))
        return "[" * depth + "]" * depth, kind
    if kind == "huge":
        return '{"detail-type": "x", "detail": {"id": ' + "7" * draw(st.integers(101, 10_000)) + "}}", kind
    body = json.loads(rule_body(envelope()))
    body["detail"]["data"] = draw(_json)  # valid JSON, wrong shape (or, rarely, a valid sensor reading)
    return json.dumps(body), kind


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_bodies(), min_size=1, max_size=10), st.sampled_from(["permanent", "bug", "retryable"]))
def test_any_batch_returns_and_settles_every_message_exactly_once(
    bodies: list[tuple[str, str]], failure: str
) -> None:
    """Arbitrary bytes, arbitrary JSON and poison events: process returns, each message gets exactly one
    fate (deleted, backed off, or dead-lettered then deleted), and no valid batch-mate of a poison fails."""
    queue = InMemoryQueue(clock=FakeClock())
    errors = {"permanent": PermanentError("no"), "bug": KeyError("bug"), "retryable": RetryableError("x")}
    poison = set()
    kinds = {}
    for body, kind in bodies:
        kinds[queue.send(body)] = kind
        if kind == "poison":
            poison.add(json.loads(body)["detail"]["id"])
    handler = PoisonHandler(poison, errors[failure])
    log = SettleLog(queue)
    messages = queue.receive(max_messages=10, wait_s=0)
    outcomes = _processor(log, handler).process(messages)
    fates = sorted(tuple(log.actions[m.message_id]) for m in messages)
    assert all(f in {("delete",), ("backoff",), ("dead_letter", "delete")} for f in fates), fates
    assert len(fates) == len(messages)
    assert len(outcomes.done) + len(outcomes.retry) + len(outcomes.dead) == len(messages)
    valid = {json.loads(b)["detail"]["id"] for b, kind in bodies if kind == "valid"}
    assert not handler.stored & poison
    assert not [d for d in queue.dead if kinds[d.message.message_id] == "valid"]
    if failure != "retryable":  # a transient batch error is retried whole: isolated on the last attempt only
        assert valid <= handler.stored
