"""Tests of the Timestream adapter against the exact WriteRecords requests it sends (botocore Stubber)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.stub import Stubber
from tenacity import wait_none

from shared.errors import PermanentError, RetryableError
from timeseries_writer.adapters.keys import id_offset_ns
from timeseries_writer.adapters.timestream import TimestreamSeriesStore, records_request
from timeseries_writer.model import Point

T0 = datetime(2025, 6, 1, 0, 30, tzinfo=UTC)
T0_NS = 1748737800000 * 1_000_000
OK = {"RecordsIngested": {"Total": 1, "MemoryStore": 1, "MagneticStore": 0}}


def _p(
    event_id: str, value: float = 1.5, *, seconds: int = 0, metric: str = "temperature", **dims: str
) -> Point:
    at = T0 + timedelta(seconds=seconds)
    return Point(
        event_id=event_id,
        metric=metric,
        time=at,
        value=value,
        unit="celsius",
        dimensions=dims or {"site": "site-a", "device": "dev-1"},
        version=int(at.timestamp() * 1000),
    )


def _record(point: Point, *, dimensions: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "MeasureName": point.metric,
        "Time": str(int(point.time.timestamp() * 1000) * 1_000_000 + id_offset_ns(point.event_id)),
        "Version": point.version,
        "MeasureValues": [
            {"Name": "value", "Value": repr(point.value), "Type": "DOUBLE"},
            {"Name": "unit", "Value": point.unit, "Type": "VARCHAR"},
            {"Name": "event_id", "Value": point.event_id, "Type": "VARCHAR"},
        ],
    }
    if dimensions:
        record["Dimensions"] = [
            {"Name": k, "Value": v, "DimensionValueType": "VARCHAR"}
            for k, v in sorted(point.dimensions.items())
        ]
    return record


def _client() -> Any:
    return boto3.session.Session().client(
        "timestream-write",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[TimestreamSeriesStore, Stubber]]:
    client = _client()
    with Stubber(client) as stubber:
        yield (
            TimestreamSeriesStore(client=client, database="db", table="series", attempts=3, wait=wait_none()),
            stubber,
        )
        stubber.assert_no_pending_responses()


def test_one_series_goes_out_with_its_dimensions_as_common_attributes(
    stubbed: tuple[TimestreamSeriesStore, Stubber],
) -> None:
    """Shared dimensions, MULTI and NANOSECONDS are common; records carry name, time, version, measures."""
    store, stubber = stubbed
    a, b = _p("a", 20.5), _p("b", 21.0, seconds=60)
    stubber.add_response(
        "write_records",
        OK,
        {
            "DatabaseName": "db",
            "TableName": "series",
            "CommonAttributes": {
                "MeasureValueType": "MULTI",
                "TimeUnit": "NANOSECONDS",
                "Dimensions": [
                    {"Name": "device", "Value": "dev-1", "DimensionValueType": "VARCHAR"},
                    {"Name": "site", "Value": "site-a", "DimensionValueType": "VARCHAR"},
                ],
            },
            "Records": [_record(a), _record(b)],
        },
    )
    assert store.write([b, a]) == {}
    assert store.calls == 1


def test_the_time_is_the_event_ms_plus_the_id_offset_and_the_version_is_the_event_ms() -> None:
    """A record's Time is nanoseconds within the event's millisecond; Version is that millisecond."""
    [record] = records_request([_p("a")], database="db", table="t")["Records"]
    assert T0_NS <= int(record["Time"]) < T0_NS + 1_000_000
    assert record["Version"] == 1748737800000


def test_mixed_series_carry_their_dimensions_per_record(
    stubbed: tuple[TimestreamSeriesStore, Stubber],
) -> None:
    """Records of different series name their own dimensions; the common attributes then hold none."""
    store, stubber = stubbed
    a = _p("a", device="d1", site="s1")
    b = _p("b", metric="cat.sightings", municipality="131041", status="healthy")
    stubber.add_response(
        "write_records",
        OK,
        {
            "DatabaseName": "db",
            "TableName": "series",
            "CommonAttributes": {"MeasureValueType": "MULTI", "TimeUnit": "NANOSECONDS"},
            "Records": [_record(a, dimensions=True), _record(b, dimensions=True)],
        },
    )
    assert store.write([a, b]) == {}


def test_batches_are_split_at_100_records_and_duplicates_dropped(
    stubbed: tuple[TimestreamSeriesStore, Stubber],
) -> None:
    """250 distinct points (plus repeats) make exactly the calls of points 0-99, 100-199 and 200-249."""
    store, stubber = stubbed
    points = [_p(f"e{i:03d}", seconds=i) for i in range(250)]
    for chunk in (points[:100], points[100:200], points[200:]):
        stubber.add_response("write_records", OK, records_request(chunk, database="db", table="series"))
    assert store.write(points[::-1] + points[:10]) == {}
    assert store.calls == 3


def test_rejected_records_fail_only_their_events(stubbed: tuple[TimestreamSeriesStore, Stubber]) -> None:
    """A rejected record is a PermanentError with Timestream's reason for its event; the rest succeed."""
    store, stubber = stubbed
    points = [_p("a"), _p("b", seconds=1), _p("c", seconds=2)]
    stubber.add_client_error(
        "write_records",
        "RejectedRecordsException",
        "One or more records have been rejected.",
        http_status_code=419,
        modeled_fields={"RejectedRecords": [{"RecordIndex": 1, "Reason": "Measure value is out of range."}]},
    )
    failures = store.write(points)
    assert list(failures) == ["b"]
    assert isinstance(failures["b"], PermanentError)
    assert str(failures["b"]) == "Timestream rejected temperature of b: Measure value is out of range."


def test_a_rejection_for_an_existing_version_means_already_stored(
    stubbed: tuple[TimestreamSeriesStore, Stubber],
) -> None:
    """A record refused because an equal or newer version exists is a duplicate, not a failure."""
    store, stubber = stubbed
    a, b = _p("a"), _p("b", seconds=1)
    stubber.add_client_error(
        "write_records",
        "RejectedRecordsException",
        http_status_code=419,
        modeled_fields={
            "RejectedRecords": [
                {
                    "RecordIndex": 0,
                    "Reason": "A record with a higher version exists.",
                    "ExistingVersion": a.version,
                },
                {"RecordIndex": 1, "Reason": "older", "ExistingVersion": b.version - 1},
            ]
        },
    )
    failures = store.write([a, b])
    assert list(failures) == ["b"]


def test_throttling_is_retried_then_succeeds(stubbed: tuple[TimestreamSeriesStore, Stubber]) -> None:
    """ThrottlingException twice, then success: the same request three times, no failure."""
    store, stubber = stubbed
    point = _p("a")
    expected = records_request([point], database="db", table="series")
    stubber.add_client_error(
        "write_records", "ThrottlingException", http_status_code=400, expected_params=expected
    )
    stubber.add_client_error(
        "write_records", "InternalServerException", http_status_code=500, expected_params=expected
    )
    stubber.add_response("write_records", OK, expected)
    assert store.write([point]) == {}
    assert store.calls == 3


def test_throttling_past_the_attempts_is_retryable(stubbed: tuple[TimestreamSeriesStore, Stubber]) -> None:
    """Still throttled after 3 attempts: RetryableError, chained to the ClientError."""
    store, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error("write_records", "ThrottlingException", http_status_code=400)
    with pytest.raises(RetryableError, match="ThrottlingException") as caught:
        store.write([_p("a")])
    assert isinstance(caught.value.__cause__, ClientError)
    assert store.calls == 3


@pytest.mark.parametrize(
    "code", ["ResourceNotFoundException", "AccessDeniedException", "ServiceQuotaExceededException"]
)
def test_configuration_errors_are_retryable_at_once(
    stubbed: tuple[TimestreamSeriesStore, Stubber], code: str
) -> None:
    """A missing table or a denied call is not the events' fault: RetryableError without local retries."""
    store, stubber = stubbed
    stubber.add_client_error("write_records", code, http_status_code=400)
    with pytest.raises(RetryableError, match=code):
        store.write([_p("a")])
    assert store.calls == 1


def test_a_validation_error_fails_every_event_of_the_call(
    stubbed: tuple[TimestreamSeriesStore, Stubber],
) -> None:
    """ValidationException for a whole call: every event in it gets a PermanentError with the reason."""
    store, stubber = stubbed
    stubber.add_client_error("write_records", "ValidationException", "bad dimension", http_status_code=400)
    failures = store.write([_p("a"), _p("b", seconds=1)])
    assert set(failures) == {"a", "b"}
    assert all(isinstance(e, PermanentError) and "bad dimension" in str(e) for e in failures.values())


def test_an_unreachable_endpoint_is_retried_then_retryable() -> None:
    """Connection errors are retried, then raised as RetryableError chained to the BotoCoreError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.session.Session().client(
        "timestream-write",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
    )
    store = TimestreamSeriesStore(client=client, database="db", table="t", attempts=2, wait=wait_none())
    with pytest.raises(RetryableError) as caught:
        store.write([_p("a")])
    assert isinstance(caught.value.__cause__, BotoCoreError)
    assert store.calls == 2
