"""The archiver's batching rule: big objects under load, at most its window of waiting under light load.

Unlike the other workers, it does not hand a batch over when the queue looks drained (see
``ArchiverSettings``): a lone event waits for the window, a backlog fills batches of 1,000.
"""

from __future__ import annotations

import pytest

from archiver.bootstrap import ArchiverSettings
from shared.batching import RECEIVE_MAX, Batcher, BatchLimits, Receipt
from shared.messages import Message
from shared.testkit.envelopes import FakeClock


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> BatchLimits:
    monkeypatch.setenv("TRIBUTARY_QUEUE_URL", "http://127.0.0.1:1/queue")
    monkeypatch.setenv("TRIBUTARY_DLQ_URL", "http://127.0.0.1:1/dlq")
    monkeypatch.setenv("TRIBUTARY_BUCKET", "archive")
    monkeypatch.delenv("TRIBUTARY_BATCH_FLUSH_WHEN_DRAINED", raising=False)
    return ArchiverSettings().limits()  # type: ignore[call-arg]


def _receipt(clock: FakeClock, n: int, start: int = 0) -> Receipt:
    messages = [
        Message(message_id=f"m{i}", receipt_handle=f"r{i}", body="{}") for i in range(start, start + n)
    ]
    return Receipt.of(messages, at=clock())


def test_the_archiver_keeps_the_window_and_opts_out_of_the_drained_rule(limits: BatchLimits) -> None:
    assert (limits.flush_when_drained, limits.max_wait_ms, limits.max_events) == (False, 5000, 1000)


def test_a_lone_event_waits_for_the_window_not_longer(limits: BatchLimits) -> None:
    clock = FakeClock()
    batcher = Batcher(limits, clock=clock)
    assert batcher.add(_receipt(clock, 1), more_in_hand=False) is None
    for _ in range(4):  # quiet receives: the queue is drained, the batch still waits
        clock.advance(1.0)
        assert batcher.add(_receipt(clock, 0), more_in_hand=False) is None
    clock.advance(0.999)
    assert batcher.expired() is None
    clock.advance(0.001)
    assert len(batcher.expired() or []) == 1


def test_under_load_batches_fill_to_a_thousand_events_before_the_window(limits: BatchLimits) -> None:
    """A backlog of 3,000 events in full receives, 1 ms apart: three objects of 1,000 events each."""
    clock = FakeClock()
    batcher = Batcher(limits, clock=clock)
    sizes = []
    for i in range(3000 // RECEIVE_MAX):
        clock.advance(0.001)
        if batch := batcher.add(_receipt(clock, RECEIVE_MAX, i * RECEIVE_MAX), more_in_hand=False):
            sizes.append(len(batch))
    assert sizes == [1000, 1000, 1000]


def test_the_drained_rule_can_be_turned_back_on(monkeypatch: pytest.MonkeyPatch, limits: BatchLimits) -> None:
    monkeypatch.setenv("TRIBUTARY_BATCH_FLUSH_WHEN_DRAINED", "true")
    assert ArchiverSettings().limits().flush_when_drained  # type: ignore[call-arg]
