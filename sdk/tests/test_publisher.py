"""Tests of ``Publisher`` and ``AsyncPublisher`` on the bus, with the SDK's own test doubles of the client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tenacity import wait_none

from shared.putevents import MAX_ENTRIES, PutEventsSender, entry_size
from tributary_sdk import INVALID, AsyncPublisher, Event, Publisher
from tributary_sdk.bus import BusTransport
from tributary_sdk.testing import AsyncFlakyEvents, FlakyEvents, InMemoryEvents

from .conftest import sample_event


class AsyncInMemoryEvents(InMemoryEvents):
    async def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # type: ignore[override]
        return super().put_events(Entries=Entries)


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [json.loads(e["Detail"])["id"] for e in entries]


def test_batches_of_ten_and_one_result_per_event_in_order() -> None:
    """25 events: three PutEvents calls (10, 10, 5); every result ok, in the order given."""
    bus = InMemoryEvents()
    with Publisher.to_bus(client=bus, source="tests.sdk", concurrency=1) as publisher:
        results = publisher.publish([sample_event() for _ in range(25)])
    assert sorted(bus.calls) == [5, MAX_ENTRIES, MAX_ENTRIES]
    assert [r.index for r in results] == list(range(25)) and all(r.ok for r in results)
    assert sorted(_ids(bus.entries)) == sorted(r.id for r in results if r.id)


def test_requests_stay_under_the_byte_limit() -> None:
    """Calls are cut by size as well as by count."""
    bus = InMemoryEvents()
    Publisher.to_bus(client=bus, source="tests.sdk").publish([sample_event()])
    one = entry_size(bus.entries[0])
    sender = PutEventsSender(client=bus, max_request_bytes=one * 3 + 10)
    Publisher(transport=BusTransport(sender), source="tests.sdk").publish([sample_event() for _ in range(10)])
    assert bus.calls[1:] and max(bus.calls[1:]) == 3 and sum(bus.calls[1:]) == 10


def test_only_failed_entries_are_retried_and_every_event_arrives_once() -> None:
    """Injected throttling on every 3rd entry: those are sent again alone; the bus holds each id once."""
    bus = InMemoryEvents()
    flaky = FlakyEvents(bus, every=3, times=2)
    publisher = Publisher.to_bus(client=flaky, source="tests.sdk", wait=wait_none())
    results = publisher.publish([sample_event() for _ in range(100)])
    assert all(r.ok for r in results)
    assert sorted(_ids(bus.entries)) == sorted(r.id for r in results if r.id)
    assert len(flaky.faults.failed) > 20  # faults were really injected


def test_an_entry_that_keeps_failing_is_reported_not_raised() -> None:
    """Past the attempts, the failure is the event's result with the bus's code; the others succeed."""
    bus = InMemoryEvents()
    publisher = Publisher.to_bus(
        client=FlakyEvents(bus, every=5, times=99), source="tests.sdk", max_attempts=3, wait=wait_none()
    )
    results = publisher.publish([sample_event() for _ in range(10)])
    failed = [r for r in results if not r.ok]
    assert failed and {r.code for r in failed} == {"ThrottlingException"}
    assert len(bus.entries) == 10 - len(failed)


def test_invalid_events_are_never_sent() -> None:
    bus = InMemoryEvents()
    bad = Event(type="sensor.reading", version=1, data=sample_event().data)  # v2 data under v1
    results = Publisher.to_bus(client=bus, source="tests.sdk").publish([bad, sample_event()])
    assert [(r.ok, r.code) for r in results] == [(False, INVALID), (True, None)]
    assert len(bus.entries) == 1


def test_a_given_trace_is_continued_in_every_entry() -> None:
    bus = InMemoryEvents()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    Publisher.to_bus(client=bus, source="tests.sdk").publish([sample_event()] * 3, trace=trace)
    assert {e["TraceHeader"] for e in bus.entries} == {trace}
    assert {json.loads(e["Detail"])["trace"] for e in bus.entries} == {trace}


def test_async_publisher_retries_failed_entries_too() -> None:
    """The asyncio publisher: same batching and per-entry retries; each id on the bus once."""
    bus = AsyncInMemoryEvents()
    flaky = AsyncFlakyEvents(bus, every=4, times=2)

    async def run() -> list[Any]:
        async with AsyncPublisher.to_bus(client=flaky, source="tests.sdk", wait=wait_none()) as publisher:
            return await publisher.publish([sample_event() for _ in range(60)])

    results = asyncio.run(run())
    assert all(r.ok for r in results) and len(flaky.faults.failed) > 10
    assert sorted(_ids(bus.entries)) == sorted(r.id for r in results if r.id)
    assert max(bus.calls) <= MAX_ENTRIES
