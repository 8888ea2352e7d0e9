"""The seed questions answered by the lake equal what the stores and the events themselves say.

Each named query runs on the demo's 800 events archived as the archiver writes them. The expected answers
come from the same events: through timeseries_writer's own mapping and its embedded DuckDB store (last
reading, sales per shop, injured cats), and computed in Python from the events (top products, trades per
team, which the graph store answers only per entity).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from contracts import upcast_envelope
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.domain import TimeWindow, to_points
from timeseries_writer.model import SeriesQuery
from tributary.lake.local import LocalLake
from tributary.lake.named import named_queries, named_query

from .conftest import BUCKET, NOW, Archive

WINDOW_START, WINDOW_END = NOW - timedelta(days=2), NOW + timedelta(days=1)


@pytest.fixture
def lake(archive: Archive) -> LocalLake:
    return LocalLake(archive.s3, BUCKET)


@pytest.fixture
def series(archive: Archive, tmp_path: Path) -> DuckDBSeriesStore:
    """timeseries_writer's embedded store fed the same events, in-process (v1 readings upcast as its
    runtime does)."""
    store = DuckDBSeriesStore(tmp_path / "series.duckdb")
    points = []
    for event in archive.events:
        if event.type == "sensor.reading":
            event = upcast_envelope(event, to=2)
        if event.type in ("sensor.reading", "cat.sighting", "order.placed"):
            points.extend(to_points(event, now=NOW, window=TimeWindow()))
    store.write(points)
    return store


def _records(lake: LocalLake, name: str) -> list[dict[str, Any]]:
    result = lake.query(named_query(name).sql)
    assert result.rows, f"{name} answered nothing"
    return result.records()


def test_every_named_query_runs(lake: LocalLake) -> None:
    names = [q.name for q in named_queries()]
    assert names == ["injured-cats", "last-reading", "sales-per-shop", "top-products", "trades-per-team"]
    for query in named_queries():
        assert query.title.startswith("seed 00")
        assert lake.query(query.sql).rows


def test_last_reading_is_the_series_stores_latest_point(
    archive: Archive, lake: LocalLake, series: DuckDBSeriesStore
) -> None:
    """For each device and metric: the series store holds the lake's value at that minute and no later
    point."""
    rows = _records(lake, "last-reading")
    readings = {(e.data["device_id"], e.data["metric"]) for e in archive.events if e.type == "sensor.reading"}
    assert {(r["device_id"], r["metric"]) for r in rows} == readings
    for row in rows:
        at = row["time"].replace(tzinfo=UTC)
        minute = at.replace(second=0, microsecond=0)
        filters = {"device": row["device_id"]}
        later = series.query(
            SeriesQuery(
                metric=row["metric"], start=at + timedelta(microseconds=1), end=WINDOW_END, filters=filters
            )
        )
        assert later.buckets == [], row
        [bucket] = series.query(
            SeriesQuery(
                metric=row["metric"],
                start=minute,
                end=at + timedelta(microseconds=1),
                agg="max",
                filters=filters,
            )
        ).buckets
        if bucket.count == 1:
            assert bucket.value == pytest.approx(row["value"]), row


def test_sales_per_shop_equal_the_series_stores_daily_sums(
    archive: Archive, lake: LocalLake, series: DuckDBSeriesStore
) -> None:
    rows = _records(lake, "sales-per-shop")
    assert sum(r["orders"] for r in rows) == sum(e.type == "order.placed" for e in archive.events)
    for row in rows:
        day = datetime.fromisoformat(row["day"]).replace(tzinfo=UTC)
        [bucket] = series.query(
            SeriesQuery(
                metric="order.amount",
                start=day,
                end=day + timedelta(days=1),
                bucket="1d",
                agg="sum",
                filters={"shop": row["shop_id"], "currency": row["currency"]},
            )
        ).buckets
        assert (bucket.count, Decimal(str(bucket.value))) == (row["orders"], row["sales"])


def test_injured_cats_equal_the_series_stores_daily_counts(
    archive: Archive, lake: LocalLake, series: DuckDBSeriesStore
) -> None:
    rows = _records(lake, "injured-cats")
    injured = [e for e in archive.events if e.type == "cat.sighting" and e.data["status"] == "injured"]
    assert sum(r["sightings"] for r in rows) == len(injured)
    for row in rows:
        day = datetime.fromisoformat(row["day"]).replace(tzinfo=UTC)
        [bucket] = series.query(
            SeriesQuery(
                metric="cat.sightings",
                start=day,
                end=day + timedelta(days=1),
                bucket="1d",
                agg="count",
                filters={"municipality": row["municipality_code"], "status": "injured"},
            )
        ).buckets
        assert bucket.count == row["sightings"]
        cats = {e.data["cat_id"] for e in injured if e.data["municipality_code"] == row["municipality_code"]}
        assert row["injured_cats"] == len(cats)


def test_top_products_equal_the_order_lines(archive: Archive, lake: LocalLake) -> None:
    units: Counter[str] = Counter()
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for event in archive.events:
        if event.type == "order.placed":
            for item in event.data["items"]:
                units[item["product_id"]] += item["quantity"]
                revenue[item["product_id"]] += item["quantity"] * Decimal(item["unit_price"])
    expected = sorted(revenue, key=lambda p: (-revenue[p], p))[:10]
    rows = _records(lake, "top-products")
    assert [r["product_id"] for r in rows] == expected
    assert {r["product_id"]: (r["units"], r["revenue"]) for r in rows} == {
        p: (units[p], revenue[p]) for p in expected
    }


def test_trades_per_team_equal_the_movements(archive: Archive, lake: LocalLake) -> None:
    trades: Counter[tuple[str, str]] = Counter()
    for event in archive.events:
        if event.type == "trade.completed":
            teams = {m[side] for m in event.data["movements"] for side in ("from_team", "to_team")}
            trades.update((event.data["season"], team) for team in teams)
    rows = _records(lake, "trades-per-team")
    assert {(r["season"], r["team"]): r["trades"] for r in rows} == dict(trades)
    assert [r["trades"] for r in rows] == sorted((r["trades"] for r in rows), reverse=True)
