"""Tests of the batch handler: bad events fail alone, the rest is one store write, redelivery is harmless."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from contracts import Envelope
from shared.errors import PermanentError, RetryableError
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import envelope, rule_body
from shared.testkit.samples import load_sample
from timeseries_writer.domain import TimeWindow
from timeseries_writer.handler import SeriesWriter
from timeseries_writer.model import SeriesQuery
from timeseries_writer.testing import InMemorySeriesStore

from .conftest import NOW


def _writer(store: InMemorySeriesStore) -> SeriesWriter:
    return SeriesWriter(store=store, window=TimeWindow(), clock=lambda: NOW)


def _nan_reading() -> Envelope:
    data = load_sample("sensor.reading", 2)["data"]
    data["quantity"]["value"] = math.nan
    return envelope("sensor.reading", 2, data=data)


def test_a_batch_is_one_store_write() -> None:
    """Readings, sightings and orders of one batch reach the store in a single write."""
    store = InMemorySeriesStore()
    batch = [envelope("sensor.reading", 2), envelope("cat.sighting"), envelope("order.placed")]
    assert _writer(store)(batch) == {}
    assert store.writes == 1
    assert sorted(metric for _, metric in store.points) == [
        "cat.sightings",
        "order.amount",
        "order.items",
        "temperature",
    ]


def test_bad_events_fail_alone_and_store_nothing() -> None:
    """A NaN reading and a far-future one fail with reasons; the good events are stored."""
    store = InMemorySeriesStore()
    good = envelope("sensor.reading", 2)
    nan = _nan_reading()
    future = envelope("sensor.reading", 2, time=(NOW + timedelta(days=30)).isoformat())
    failures = _writer(store)([nan, good, future])
    assert set(failures) == {nan.id, future.id}
    assert all(isinstance(e, PermanentError) for e in failures.values())
    assert "data.quantity.value" in str(failures[nan.id]) and "future" in str(failures[future.id])
    assert {event_id for event_id, _ in store.points} == {good.id}


def test_rejections_are_logged_with_the_event() -> None:
    """Each rejected event is one ``event_rejected`` line carrying its id, type and reason."""
    nan = _nan_reading()
    with capture_logs() as logs:
        _writer(InMemorySeriesStore())([nan])
    [line] = [e for e in logs if e["event"] == "event_rejected"]
    assert (
        line["event_id"] == nan.id
        and line["type"] == "sensor.reading"
        and "data.quantity.value" in line["error"]
    )


def test_a_batch_of_only_bad_events_does_not_call_the_store() -> None:
    """Nothing to write: no store call at all."""
    store = InMemorySeriesStore()
    store.down = True
    assert set(_writer(store)([_nan_reading()])) != set()
    assert store.writes == 0


def test_store_rejections_fail_their_events() -> None:
    """A point the store rejects fails its event with the store's reason; the other events are stored."""
    store = InMemorySeriesStore()
    store.rejected_metrics["order.items"] = "quota exceeded"
    order, reading = envelope("order.placed"), envelope("sensor.reading", 2)
    failures = _writer(store)([order, reading])
    assert list(failures) == [order.id]
    assert "quota exceeded" in str(failures[order.id])
    assert (reading.id, "temperature") in store.points


def test_a_store_outage_fails_the_batch_as_retryable() -> None:
    """The store's RetryableError propagates: the runtime retries the whole batch later."""
    store = InMemorySeriesStore()
    store.down = True
    with pytest.raises(RetryableError):
        _writer(store)([envelope("sensor.reading", 2)])


def test_redelivered_events_give_the_same_aggregates() -> None:
    """The same events handled twice (a redelivery) leave sums and counts as after the first time."""
    store = InMemorySeriesStore()
    writer = _writer(store)
    batch = [
        envelope("sensor.reading", 2, time=(NOW - timedelta(minutes=i + 1)).isoformat()) for i in range(50)
    ]
    query = SeriesQuery(metric="temperature", start=NOW - timedelta(hours=1), end=NOW, bucket="1h", agg="sum")
    writer(batch)
    first = store.query(query)
    writer(batch[::-1])
    assert store.query(query) == first
    assert first.buckets[0].count == 50


def test_under_the_runtime_bad_events_are_dead_lettered_with_their_reason() -> None:
    """Through the shared BatchProcessor: good messages deleted, the NaN one in the DLQ as permanent."""
    queue = InMemoryQueue()
    store = InMemorySeriesStore()
    good, nan = envelope("sensor.reading", 2), _nan_reading()
    for event in (good, nan):
        queue.send(rule_body(event))
    processor = BatchProcessor(
        queue=queue, handler=_writer(store), service="timeseries_writer", policy=RetryPolicy()
    )
    processor.process(queue.receive(max_messages=10, wait_s=0))
    assert queue.depth == 0
    [letter] = queue.dead
    assert (failure := letter.failure)
    assert (failure.reason, failure.error_type) == ("permanent", "PermanentError")
    assert "data.quantity.value" in failure.error_message
    assert {event_id for event_id, _ in store.points} == {good.id}
