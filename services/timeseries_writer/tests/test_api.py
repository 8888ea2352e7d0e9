"""Tests of the read API: answers, defaults, limits and the 422s that name the bad parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from timeseries_writer.api import QueryLimits, create_app
from timeseries_writer.model import Point
from timeseries_writer.testing import InMemorySeriesStore

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def _point(event_id: str, value: float, minutes_ago: float, **dims: str) -> Point:
    return Point(
        event_id=event_id,
        metric="temperature",
        time=NOW - timedelta(minutes=minutes_ago),
        value=value,
        unit="celsius",
        dimensions=dims or {"device": "dev-1", "site": "site-a"},
    )


@pytest.fixture
def store() -> InMemorySeriesStore:
    store = InMemorySeriesStore()
    store.write(
        [
            _point("a", 20.0, 30.5),
            _point("b", 22.0, 30.2),
            _point("c", 30.0, 5.5, device="dev-2", site="site-b"),
        ]
    )
    return store


@pytest.fixture
def client(store: InMemorySeriesStore) -> TestClient:
    return TestClient(create_app(store, limits=QueryLimits(max_buckets=1000), clock=lambda: NOW))


def _errors(response: Any) -> list[tuple[list[str], str]]:
    assert response.status_code == 422, response.text
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]


def test_buckets_of_the_last_day_by_default(client: TestClient) -> None:
    """Without from/to: the 24 h up to now, 1-minute buckets, avg; each bucket with its start and count."""
    body = client.get("/series", params={"metric": "temperature", "bucket": "1h"}).json()
    assert body == {
        "metric": "temperature",
        "bucket": "1h",
        "agg": "avg",
        "from": "2025-06-01T12:00:00+00:00",
        "to": "2025-06-02T12:00:00+00:00",
        "filters": {},
        "units": ["celsius"],
        "buckets": [{"start": "2025-06-02T11:00:00+00:00", "value": 24.0, "count": 3}],
    }


def test_dimension_filters_and_an_explicit_range(client: TestClient) -> None:
    """``device=`` filters; ``from``/``to`` with any offset are read as instants."""
    response = client.get(
        "/series",
        params={
            "metric": "temperature",
            "device": "dev-1",
            "from": "2025-06-02T20:00:00+09:00",
            "to": "2025-06-02T21:00:00+09:00",
            "agg": "sum",
        },
    )
    body = response.json()
    assert body["filters"] == {"device": "dev-1"}
    assert body["buckets"] == [{"start": "2025-06-02T11:29:00+00:00", "value": 42.0, "count": 2}]


def test_an_empty_answer_is_200_with_no_buckets(client: TestClient) -> None:
    """A metric nobody wrote answers with empty buckets and units."""
    body = client.get("/series", params={"metric": "co2", "bucket": "1h"}).json()
    assert (body["buckets"], body["units"]) == ([], [])


@pytest.mark.parametrize(
    ("params", "loc", "msg"),
    [
        ({}, ["query", "metric"], "Field required"),
        ({"metric": "Temp"}, ["query", "metric"], "String should match pattern"),
        ({"metric": "t", "bucket": "5m"}, ["query", "bucket"], "Input should be '1m', '1h' or '1d'"),
        ({"metric": "t", "agg": "median"}, ["query", "agg"], "Input should be 'avg', 'min', 'max', 'sum' or"),
        ({"metric": "t", "from": "yesterday"}, ["query", "from"], "Input should be a valid datetime"),
        ({"metric": "t", "to": "2025-06-02T10:00:00"}, ["query", "to"], "Input should have timezone info"),
        ({"metric": "t", "limit": "0"}, ["query", "limit"], "Input should be greater than or equal to 1"),
        ({"metric": "t", "limit": "1001"}, ["query", "limit"], "Input should be less than or equal to 1000"),
        ({"metric": "t", "colour": "red"}, ["query", "colour"], "unknown parameter 'colour'"),
        ({"metric": "t", "device": ""}, ["query", "device"], "a device is 1-128 characters"),
        ({"metric": "t", "site": "x" * 129}, ["query", "site"], "a site is 1-128 characters"),
        (
            {"metric": "t", "from": "2025-06-02T10:00:00Z", "to": "2025-06-02T10:00:00Z"},
            ["query", "from"],
            "from must be before to",
        ),
        (
            {"metric": "t", "from": "2025-05-01T00:00:00Z", "bucket": "1m"},
            ["query", "bucket"],
            "from-to holds 46800 buckets of 1m; at most 1000",
        ),
    ],
    ids=[
        "no-metric",
        "bad-metric",
        "bad-bucket",
        "bad-agg",
        "bad-from",
        "naive-to",
        "zero-limit",
        "limit-too-big",
        "unknown-parameter",
        "empty-dimension",
        "long-dimension",
        "empty-range",
        "too-many-buckets",
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], loc: list[str], msg: str
) -> None:
    """Each bad parameter gives one error whose loc is that parameter and whose message says why."""
    [(got_loc, got_msg)] = _errors(client.get("/series", params=params))
    assert got_loc == loc
    assert got_msg.startswith(msg), got_msg


def test_a_dimension_given_twice_is_422(client: TestClient) -> None:
    """``device=a&device=b`` is ambiguous: the 422 names device."""
    [(loc, msg)] = _errors(client.get("/series?metric=t&device=a&device=b"))
    assert (loc, msg) == (["query", "device"], "give device once")


def test_a_wider_bucket_makes_a_long_range_acceptable(client: TestClient) -> None:
    """The range that is too long in minutes is fine in days."""
    params = {"metric": "temperature", "from": "2025-05-01T00:00:00Z", "bucket": "1d"}
    assert client.get("/series", params=params).status_code == 200


def test_a_store_that_cannot_answer_is_503(client: TestClient, store: InMemorySeriesStore) -> None:
    """The store's RetryableError becomes 503 with the reason."""
    store.down = True
    response = client.get("/series", params={"metric": "temperature", "bucket": "1h"})
    assert response.status_code == 503
    assert "cannot answer now" in response.json()["detail"]


def test_without_a_reader_queries_are_501() -> None:
    """With Timestream or InfluxDB the points are queried there: 501 says so (after validating)."""
    client = TestClient(create_app(None, store_name="timestream", clock=lambda: NOW))
    response = client.get("/series", params={"metric": "temperature"})
    assert response.status_code == 501
    assert response.json()["detail"] == "this deployment writes to timestream: query it there"
    assert client.get("/series", params={"metric": "temperature", "bucket": "2m"}).status_code == 422


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"from": "0001-01-01T00:00:00+01:00"}, "from"),
        ({"to": "9999-12-31T23:00:00-05:00"}, "to"),
        ({"to": "0001-01-01T00:30:00Z"}, "to"),  # no default day before it
    ],
)
def test_a_time_with_no_utc_equivalent_is_a_422(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    """Times that overflow converting to UTC (or defaulting from) name their parameter instead of a 500."""
    response = client.get("/series", params={"metric": "temperature", **params})
    assert [loc for loc, _ in _errors(response)] == [["query", param]]
