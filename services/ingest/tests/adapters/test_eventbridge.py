"""Tests of the EventBridge publisher: exact PutEvents requests (botocore Stubber), chunking and retries.

Retries wait as the adapter's tenacity policy says (exponential from 50 ms plus up to 1 s of jitter), so the
tests that retry keep ``max_attempts`` at 2 or 3; together they take a few seconds.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from contracts import Envelope
from ingest.adapters.eventbridge import EventBridgePublisher
from ingest.domain import Limits, validate_events
from ingest.ports import PublishFailure
from shared.putevents import MAX_ENTRIES, chunks, entry_size
from shared.testkit.envelopes import envelope
from shared.testkit.samples import load_sample

BUS = "tributary"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _client(**config: Any) -> Any:
    return boto3.session.Session().client(
        "events",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def client() -> Any:
    return _client()


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _publisher(client: Any, **options: Any) -> EventBridgePublisher:
    return EventBridgePublisher(client=client, bus_name=BUS, **({"max_attempts": 3} | options))


def _envelopes(n: int, **overrides: Any) -> list[Envelope]:
    return [envelope(id=f"evt-{i:03d}", **overrides) for i in range(n)]


def _entry(event: Envelope) -> dict[str, Any]:
    entry = {
        "EventBusName": BUS,
        "Source": event.source,
        "DetailType": f"{event.type}.v{event.version}",
        "Detail": event.model_dump_json(),
        "Time": event.time,
    }
    if event.trace:
        entry["TraceHeader"] = event.trace
    return entry


def _put(events: list[Envelope]) -> dict[str, Any]:
    return {"Entries": [_entry(e) for e in events]}


def _result(*codes: str | None) -> dict[str, Any]:
    entries = [
        {"EventId": f"eb-{i}"} if code is None else {"ErrorCode": code, "ErrorMessage": f"{code} happened"}
        for i, code in enumerate(codes)
    ]
    return {"FailedEntryCount": sum(code is not None for code in codes), "Entries": entries}


def test_an_entry_carries_bus_source_detail_type_envelope_and_trace(client: Any, stub: Stubber) -> None:
    """The request is exactly: bus, producer as Source, ``<type>.v<version>``, the envelope, TraceHeader."""
    event = envelope("order.placed", id="evt-1", trace=TRACE)
    stub.add_response(
        "put_events",
        _result(None),
        {
            "Entries": [
                {
                    "EventBusName": BUS,
                    "Source": "shop.api",
                    "DetailType": "order.placed.v1",
                    "Detail": event.model_dump_json(),
                    "Time": event.time,
                    "TraceHeader": TRACE,
                }
            ]
        },
    )
    assert _publisher(client).publish([event]) == []


def test_the_detail_is_the_envelope_json(client: Any, stub: Stubber) -> None:
    """``Detail`` parses back to the very envelope, so workers receive what ingest accepted."""
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **_: sent.append(params)
    )
    event = envelope("cat.sighting", trace=TRACE)
    stub.add_response("put_events", _result(None))
    _publisher(client).publish([event])
    detail = sent[0]["Entries"][0]["Detail"]
    assert Envelope.model_validate_json(detail) == event
    assert json.loads(detail)["data"]["municipality_name"] == "新宿区"


def test_no_trace_header_without_a_trace(client: Any, stub: Stubber) -> None:
    """An envelope without a trace sends no TraceHeader (an empty one is invalid)."""
    event = envelope(id="evt-1", trace=None)
    stub.add_response("put_events", _result(None), _put([event]))
    assert "TraceHeader" not in _entry(event)
    assert _publisher(client).publish([event]) == []


def test_throttled_entries_are_retried_alone_until_they_succeed(client: Any, stub: Stubber) -> None:
    """A partial failure resends only the failed entries; once they pass, nothing is reported."""
    events = _envelopes(4)
    stub.add_response(
        "put_events", _result(None, "ThrottlingException", None, "InternalFailure"), _put(events)
    )
    stub.add_response("put_events", _result(None, None), _put([events[1], events[3]]))
    publisher = _publisher(client)
    assert publisher.publish(events) == []
    assert publisher.calls == 2


def test_malformed_detail_is_not_retried(client: Any, stub: Stubber) -> None:
    """An entry refused as malformed comes back as a permanent failure and is never resent."""
    events = _envelopes(3)
    stub.add_response("put_events", _result("MalformedDetail", "ThrottlingException", None), _put(events))
    stub.add_response("put_events", _result(None), _put([events[1]]))
    publisher = _publisher(client)
    [failure] = publisher.publish(events)
    assert failure == PublishFailure(
        index=0, code="MalformedDetail", message="MalformedDetail happened", retryable=False
    )
    assert publisher.calls == 2


def test_entries_still_failing_after_the_last_attempt_are_retryable_failures(
    client: Any, stub: Stubber
) -> None:
    """Entries that fail every attempt are reported with the last code the bus gave, as retryable."""
    events = _envelopes(2)
    stub.add_response("put_events", _result("InternalFailure", None), _put(events))
    stub.add_response("put_events", _result("ThrottlingException"), _put(events[:1]))
    with capture_logs() as logs:
        failures = _publisher(client, max_attempts=2).publish(events)
    assert failures == [
        PublishFailure(
            index=0, code="ThrottlingException", message="ThrottlingException happened", retryable=True
        )
    ]
    assert [(e["event"], e["entries"], e["code"]) for e in logs] == [
        ("put_events_gave_up", 1, "ThrottlingException")
    ]


def test_a_failed_call_is_retried_whole(client: Any, stub: Stubber) -> None:
    """An error on the whole call resends every entry; a later success leaves no failure."""
    events = _envelopes(2)
    stub.add_client_error(
        "put_events", "ThrottlingException", "Rate exceeded", 400, expected_params=_put(events)
    )
    stub.add_response("put_events", _result(None, None), _put(events))
    publisher = _publisher(client)
    assert publisher.publish(events) == []
    assert publisher.calls == 2


def test_a_call_failing_every_attempt_gives_retryable_failures_for_all(client: Any, stub: Stubber) -> None:
    """When every call errors, each envelope comes back as a retryable failure with the error's code."""
    events = _envelopes(3)
    for _ in range(2):
        stub.add_client_error(
            "put_events", "ThrottlingException", "Rate exceeded", 400, expected_params=_put(events)
        )
    publisher = _publisher(client, max_attempts=2)
    failures = publisher.publish(events)
    assert [(f.index, f.code, f.retryable) for f in failures] == [
        (i, "ThrottlingException", True) for i in range(3)
    ]
    assert all("Rate exceeded" in f.message for f in failures)
    assert publisher.calls == 2


def test_an_unreachable_bus_gives_retryable_failures_and_never_raises() -> None:
    """A connection error (not a ClientError) gives a retryable failure per envelope, as the port says."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.session.Session().client(
        "events",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
    )
    failures = _publisher(client, max_attempts=1).publish(_envelopes(2))
    assert [(f.index, f.code, f.retryable) for f in failures] == [
        (0, "EndpointConnectionError", True),
        (1, "EndpointConnectionError", True),
    ]


def test_many_envelopes_go_in_calls_of_ten_and_failures_keep_their_index(client: Any, stub: Stubber) -> None:
    """25 envelopes make calls of 10, 10 and 5; a failure in the last call keeps its index in the list."""
    events = _envelopes(25)
    stub.add_response("put_events", _result(*[None] * 10), _put(events[:10]))
    stub.add_response("put_events", _result(*[None] * 10), _put(events[10:20]))
    stub.add_response("put_events", _result(None, "MalformedDetail", None, None, None), _put(events[20:]))
    publisher = _publisher(client, concurrency=1)
    assert [(f.index, f.code) for f in publisher.publish(events)] == [(21, "MalformedDetail")]
    assert publisher.calls == 3


def test_calls_stay_within_the_request_byte_limit(client: Any, stub: Stubber) -> None:
    """Entries are grouped so that no call goes over ``max_request_bytes``."""
    events = _envelopes(3)
    size = entry_size(_entry(events[0]))
    stub.add_response("put_events", _result(None, None), _put(events[:2]))
    stub.add_response("put_events", _result(None), _put(events[2:]))
    publisher = _publisher(client, max_request_bytes=2 * size + 1, concurrency=1)
    assert publisher.publish(events) == []


def test_nothing_to_publish_makes_no_call(client: Any, stub: Stubber) -> None:
    """An empty sequence is published without calling the bus."""
    publisher = _publisher(client)
    assert publisher.publish([]) == []
    assert publisher.calls == 0


def test_entry_size_counts_what_aws_counts() -> None:
    """UTF-8 bytes of Source, DetailType, Detail and Resources, plus 14 for Time; not the bus or trace."""
    entry = {
        "EventBusName": "b" * 50,
        "TraceHeader": "t" * 50,
        "Source": "ab",
        "DetailType": "cd",
        "Detail": "é",
    }
    assert entry_size(entry) == 2 + 2 + 2
    assert entry_size(entry | {"Time": datetime.now(UTC)}) == 6 + 14
    assert entry_size(entry | {"Resources": ["arn:x", "ü"]}) == 6 + 5 + 2


_entries = st.lists(
    st.fixed_dictionaries(
        {"Source": st.text(max_size=30), "DetailType": st.text(max_size=30), "Detail": st.text(max_size=200)},
        optional={
            "Time": st.just(datetime(2025, 1, 1, tzinfo=UTC)),
            "Resources": st.lists(st.text(), max_size=3),
        },
    ),
    max_size=40,
)


@given(entries=_entries, max_bytes=st.integers(1, 2000))
def test_chunks_respect_the_entry_and_byte_limits(entries: list[dict[str, Any]], max_bytes: int) -> None:
    """Chunks keep order, hold 1..10 entries, and exceed max_bytes only as a lone oversized entry."""
    indexed = list(enumerate(entries))
    out = list(chunks(indexed, max_bytes))
    assert [item for chunk in out for item in chunk] == indexed
    for chunk in out:
        assert 1 <= len(chunk) <= MAX_ENTRIES
        size = sum(entry_size(entry) for _, entry in chunk)
        assert size <= max_bytes or len(chunk) == 1


@given(entries=_entries)
def test_chunks_are_as_few_as_the_entry_limit_allows_when_bytes_do_not_bind(
    entries: list[dict[str, Any]],
) -> None:
    """With a byte limit that never binds, entries go ten to a call."""
    out = list(chunks(list(enumerate(entries)), max_bytes=10**9))
    assert [len(c) for c in out] == [
        min(MAX_ENTRIES, len(entries) - i) for i in range(0, len(entries), MAX_ENTRIES)
    ]


@pytest.fixture(scope="module")
def stubbed() -> Iterator[tuple[EventBridgePublisher, Stubber]]:
    client = _client()
    with Stubber(client) as stubber:
        yield EventBridgePublisher(client=client, bus_name=BUS, max_attempts=1), stubber


_OFFSETS = [timezone(timedelta(minutes=m)) for m in (-23 * 60 - 59, -5 * 60, 0, 9 * 60, 23 * 60 + 59)]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.datetimes(timezones=st.sampled_from(_OFFSETS)))
@example(at=datetime(9999, 12, 31, 23, 59, tzinfo=_OFFSETS[0]))
@example(at=datetime(1, 1, 1, 0, 0, tzinfo=_OFFSETS[-1]))
def test_every_time_ingest_accepts_can_be_put_on_the_bus(
    stubbed: tuple[EventBridgePublisher, Stubber], at: datetime
) -> None:
    """Whatever event time validation lets through, botocore can serialize it into a PutEvents request."""
    publisher, stubber = stubbed
    event = load_sample("sensor.reading", 1) | {"time": at.isoformat()}
    validated = validate_events([event], now=datetime.now(UTC), trace=TRACE, limits=Limits())
    if not validated.accepted:
        assert [e.loc for r in validated.rejected for e in r.errors] == ["time"]
        return
    stubber.add_response("put_events", _result(None))
    assert publisher.publish([validated.accepted[0][1]]) == []
    stubber.assert_no_pending_responses()
