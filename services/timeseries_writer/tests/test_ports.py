"""The SeriesStore and SeriesReader contract, run against the in-memory fake and the DuckDB store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

import pytest

from shared.errors import PermanentError
from timeseries_writer.model import Point, SeriesQuery
from timeseries_writer.ports import SeriesReader, SeriesStore

T0 = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)


class Store(SeriesStore, SeriesReader, Protocol):
    """Both ports at once, for annotations."""


def _p(
    event_id: str,
    value: float,
    *,
    at: datetime = T0,
    metric: str = "temperature",
    unit: str = "celsius",
    **dimensions: str,
) -> Point:
    dims = dimensions or {"device": "dev-1", "site": "site-a"}
    return Point(
        event_id=event_id, metric=metric, time=at, value=value, unit=unit, dimensions=dims, version=1
    )


def _q(**overrides: object) -> SeriesQuery:
    fields: dict[str, object] = {
        "metric": "temperature",
        "start": T0 - timedelta(days=1),
        "end": T0 + timedelta(days=1),
        "bucket": "1m",
        "agg": "sum",
    }
    return SeriesQuery(**(fields | overrides))  # type: ignore[arg-type]


def _series(store: Store, **overrides: object) -> list[tuple[datetime, float, int]]:
    return [(b.start, b.value, b.count) for b in store.query(_q(**overrides)).buckets]


def test_points_written_are_read_back_in_minute_buckets(store: Store) -> None:
    """Points in the same minute share a bucket; buckets come back in time order."""
    assert (
        store.write(
            [
                _p("a", 1.0),
                _p("b", 2.0, at=T0 + timedelta(seconds=59)),
                _p("c", 4.0, at=T0 + timedelta(minutes=3)),
            ]
        )
        == {}
    )
    assert _series(store) == [(T0, 3.0, 2), (T0 + timedelta(minutes=3), 4.0, 1)]


def test_writing_the_same_points_again_changes_nothing(store: Store) -> None:
    """A redelivered batch, even with changed values, leaves the first write in place."""
    store.write([_p("a", 1.0), _p("b", 2.0)])
    assert store.write([_p("a", 1.0), _p("b", 20.0)]) == {}
    assert _series(store) == [(T0, 3.0, 2)]


def test_the_same_point_twice_in_one_batch_is_stored_once_first_wins(store: Store) -> None:
    """Duplicates inside one write keep the first; the same id with another metric is another point."""
    store.write([_p("a", 1.0), _p("a", 9.0), _p("a", 5.0, metric="humidity", unit="percent")])
    assert _series(store) == [(T0, 1.0, 1)]
    assert _series(store, metric="humidity") == [(T0, 5.0, 1)]


@pytest.mark.parametrize(
    ("agg", "value"), [("avg", 2.5), ("min", -1.0), ("max", 6.0), ("sum", 10.0), ("count", 4.0)]
)
def test_each_aggregate(store: Store, agg: str, value: float) -> None:
    """avg, min, max, sum and count over one bucket."""
    store.write([_p("a", 1.0), _p("b", -1.0), _p("c", 6.0), _p("d", 4.0)])
    assert _series(store, agg=agg) == [(T0, pytest.approx(value), 4)]


@pytest.mark.parametrize(
    ("bucket", "starts"),
    [
        ("1m", ["2025-06-01T23:59:00+00:00", "2025-06-02T00:00:00+00:00", "2025-06-02T00:59:00+00:00"]),
        ("1h", ["2025-06-01T23:00:00+00:00", "2025-06-02T00:00:00+00:00"]),
        ("1d", ["2025-06-01T00:00:00+00:00", "2025-06-02T00:00:00+00:00"]),
    ],
)
def test_buckets_are_aligned_to_utc(store: Store, bucket: str, starts: list[str]) -> None:
    """Bucket starts are whole minutes, hours and UTC midnights, whatever offset the points were sent in."""
    jst = timezone(timedelta(hours=9))
    store.write(
        [
            _p("a", 1.0, at=datetime(2025, 6, 2, 8, 59, 59, 999999, tzinfo=jst)),  # 23:59:59.999999 UTC
            _p("b", 1.0, at=datetime(2025, 6, 2, 0, 0, tzinfo=UTC)),
            _p("c", 1.0, at=datetime(2025, 6, 2, 0, 59, 30, tzinfo=UTC)),
        ]
    )
    answer = store.query(_q(bucket=bucket, end=T0 + timedelta(days=2)))
    assert [b.start.isoformat() for b in answer.buckets] == starts
    assert all(b.start.utcoffset() == timedelta(0) for b in answer.buckets)


def test_the_range_is_half_open(store: Store) -> None:
    """``start`` is included, ``end`` is not."""
    store.write([_p("a", 1.0, at=T0), _p("b", 2.0, at=T0 + timedelta(minutes=1))])
    assert _series(store, start=T0, end=T0 + timedelta(minutes=1)) == [(T0, 1.0, 1)]


def test_filters_select_series_by_dimension(store: Store) -> None:
    """Each filter narrows to points with that dimension value; several filters all apply."""
    store.write(
        [
            _p("a", 1.0, device="d1", site="s1"),
            _p("b", 2.0, device="d2", site="s1"),
            _p("c", 4.0, device="d1", site="s2"),
        ]
    )
    assert _series(store, filters={"site": "s1"}) == [(T0, 3.0, 2)]
    assert _series(store, filters={"device": "d1", "site": "s2"}) == [(T0, 4.0, 1)]
    assert _series(store, filters={"device": "nope"}) == []


def test_other_metrics_are_not_mixed_in(store: Store) -> None:
    """A query reads one metric only."""
    store.write([_p("a", 1.0), _p("b", 5.0, metric="co2", unit="ppm")])
    assert _series(store) == [(T0, 1.0, 1)]


def test_units_of_the_points_read_are_reported(store: Store) -> None:
    """The answer lists the distinct units of the points it aggregated, and none when empty."""
    store.write([_p("a", 1.0, metric="order.amount", unit="JPY", shop="s1", currency="JPY")])
    store.write([_p("b", 2.0, metric="order.amount", unit="USD", shop="s1", currency="USD")])
    assert store.query(_q(metric="order.amount")).units == ["JPY", "USD"]
    assert store.query(_q(metric="order.amount", filters={"currency": "USD"})).units == ["USD"]
    assert store.query(_q(metric="nothing")).units == []


def test_every_unit_of_a_mixed_bucket_is_reported(store: Store) -> None:
    """Three currencies in one bucket: all three are listed, not just the first and last."""
    store.write(
        [
            _p(f"e{unit}", 1.0, metric="order.amount", unit=unit, shop="s1", currency=unit)
            for unit in ("USD", "EUR", "JPY")
        ]
    )
    assert store.query(_q(metric="order.amount")).units == ["EUR", "JPY", "USD"]


def test_the_limit_caps_the_buckets(store: Store) -> None:
    """At most ``limit`` buckets, the earliest ones."""
    store.write([_p(f"e{i}", 1.0, at=T0 + timedelta(minutes=i)) for i in range(5)])
    assert [b.start for b in store.query(_q(limit=2)).buckets] == [T0, T0 + timedelta(minutes=1)]


def test_a_write_returns_no_failures_for_good_points(store: Store) -> None:
    """Failures are a mapping by event id of PermanentError; none for storable points."""
    failures = store.write([_p("a", 1.0)])
    assert dict(failures) == {}
    assert all(isinstance(e, PermanentError) for e in failures.values())


def test_a_big_batch_is_one_write_and_reads_back_whole(store: Store) -> None:
    """5,000 points in one write sum and count exactly."""
    points = [_p(f"e{i}", float(i % 7), at=T0 + timedelta(seconds=i % 600)) for i in range(5000)]
    store.write(points)
    buckets = store.query(_q(bucket="1h")).buckets
    assert [(b.count, b.value) for b in buckets] == [(5000, float(sum(i % 7 for i in range(5000))))]
