"""timeseries_writer benchmark: printed, not asserted.

Run: ``.venv/bin/python bench/series_bench.py [--readings 10000] [--duplicates 10000] [--no-stack]``

1. store only: DuckDB points/s for batches of 500 and 1,000 points, primary-key dedupe on;
2. aggregation: latency of a 1-minute-bucket query over 1 M points (whole metric, and one device);
3. whole path on a local stack (LocalStack, ingest + timeseries_writer): points/s from the first publish
   to the last point queryable through ``GET /series``, store calls per event (from the worker's log, plus
   what the Timestream and InfluxDB adapters would make for the same batches), the worker's RSS. The issue
   asks for 50,000 readings; LocalStack on 2 cores moves this path at tens of events/s, so the default
   ``--readings`` is 10,000;
4. idempotency at full size: ``--duplicates`` readings published twice with the same ids give the same
   aggregates.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from benchkit import json_log, publish, rss_mb, wait

from ingest.manifest import MANIFEST as INGEST
from shared.testkit.bulk import readings
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.adapters.timestream import MAX_RECORDS
from timeseries_writer.manifest import MANIFEST as SERIES
from timeseries_writer.model import Point, SeriesQuery
from tributary.client import StackClient
from tributary.stack import Stack

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCE = "bench.series"


def _points(start: int, count: int, *, devices: int = 50) -> list[Point]:
    return [
        Point(
            event_id=f"bench-{i:09d}",
            metric="temperature",
            time=T0 + timedelta(milliseconds=i * 500),
            value=15 + (i * 37 % 200) / 10,
            unit="celsius",
            dimensions={"device": f"dev-{i % devices:03d}", "site": f"site-{i % 5}"},
        )
        for i in range(start, start + count)
    ]


def store_only(folder: Path, batch: int, total: int = 200_000) -> None:
    store = DuckDBSeriesStore(folder / f"store-only-{batch}.duckdb")
    batches = [_points(s, batch) for s in range(0, total, batch)]
    started = time.perf_counter()
    for points in batches:
        store.write(points)
    elapsed = time.perf_counter() - started
    again = time.perf_counter()
    for points in batches[:40]:
        store.write(points)  # redelivered: every key conflicts
    dup_elapsed = time.perf_counter() - again
    store.close()
    print(f"store only (DuckDB, {total:,} points in batches of {batch}): {total / elapsed:,.0f} points/s")
    print(f"  {40 * batch:,} of them again (all duplicates): {40 * batch / dup_elapsed:,.0f} points/s")


def aggregation(folder: Path, total: int = 1_000_000) -> None:
    store = DuckDBSeriesStore(folder / "aggregation.duckdb", memory_limit="1GB")
    for start in range(0, total, 10_000):
        store.write(_points(start, 10_000))
    span_end = T0 + timedelta(milliseconds=total * 500)
    for label, filters in (("all devices", {}), ("one device", {"device": "dev-007"})):
        query = SeriesQuery(
            metric="temperature",
            start=T0,
            end=span_end,
            bucket="1m",
            agg="avg",
            filters=filters,
            limit=100_000,
        )
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            answer = store.query(query)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        print(
            f"aggregation, 1-minute buckets over {total:,} points ({label}, {len(answer.buckets):,} buckets):"
            f" p50 {statistics.median(timings):.1f} ms, p95 {timings[18]:.1f} ms"
        )
    store.close()


def _get(url: str, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/series", params=params, timeout=60)
    response.raise_for_status()
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return buckets


def _series(url: str, site: str, now: datetime, agg: str) -> list[dict[str, Any]]:
    return _get(
        url,
        metric="temperature",
        site=site,
        agg=agg,
        bucket="1h",
        **{"from": (now - timedelta(hours=3)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()},
    )


def stored_points(url: str, site: str, now: datetime) -> int:
    return sum(b["count"] for b in _series(url, site, now, "count"))


def _worker_log(stack: Stack) -> list[dict[str, Any]]:
    path = Path(stack.describe()["services"]["timeseries_writer"]["log"])
    return json_log(path)


def whole_path(folder: Path, count: int, duplicates: int) -> None:
    env = {"timeseries_writer": {"TRIBUTARY_RECEIVE_WAIT_S": "1", "TRIBUTARY_BATCH_MAX_WAIT_MS": "1000"}}
    with Stack(data_dir=folder / "stack", manifests=[INGEST, SERIES], service_env=env) as stack:
        client = StackClient(stack.describe())
        url = client.description["services"]["timeseries_writer"]["url"]
        now = datetime.now(UTC)

        site = f"site-bench-{uuid.uuid4().hex[:6]}"
        events = readings(count, site=site, now=now, source=SOURCE, prefix=f"b-{uuid.uuid4().hex[:6]}")
        started = time.monotonic()
        publish(client, events)
        published_s = time.monotonic() - started
        done = wait(lambda: stored_points(url, site, now) == count, timeout_s=900)
        elapsed = time.monotonic() - started
        log = _worker_log(stack)
        writes = [e for e in log if e.get("event") == "points_written"]
        events_written = sum(e["events"] for e in writes)
        batch_sizes = [e["points"] for e in writes]
        timestream_calls = sum(math.ceil(n / MAX_RECORDS) for n in batch_sizes)
        influx_calls = sum(math.ceil(n / 5000) for n in batch_sizes)
        handled = [e["ms"] for e in log if e.get("event") == "batch_handled"]
        pid = client.description["services"]["timeseries_writer"]["pids"][0]
        print(
            f"whole path (LocalStack, ingest + timeseries_writer): {count:,} readings published in"
            f" {published_s:.1f}s ({count / published_s:,.0f}/s through ingest), all queryable after"
            f" {elapsed:.1f}s: {count / elapsed:,.0f} points/s end to end{'' if done else ' (TIMED OUT)'}"
        )
        print(
            f"  store calls per event: DuckDB {len(writes) / max(events_written, 1):.4f}"
            f" ({len(writes)} writes, mean batch {statistics.mean(batch_sizes or [0]):.0f} points);"
            f" Timestream for the same batches {timestream_calls / max(events_written, 1):.4f};"
            f" InfluxDB {influx_calls / max(events_written, 1):.4f}"
        )
        write_ms = statistics.mean([e["ms"] for e in writes] or [0])
        print(
            f"  worker time per batch: {statistics.mean(handled or [0]):.0f} ms handled (parse, write, settle"
            f" with SQS), of which {write_ms:.0f} ms mapping + store write"
        )
        print(f"  worker RSS after the run: {rss_mb(pid):.0f} MB")

        if duplicates:
            site = f"site-dup-{uuid.uuid4().hex[:6]}"
            events = readings(
                duplicates, site=site, now=now, source=SOURCE, prefix=f"d-{uuid.uuid4().hex[:6]}"
            )
            started = time.monotonic()
            publish(client, events)
            wait(lambda: stored_points(url, site, now) == duplicates, timeout_s=600)
            once = {agg: _series(url, site, now, agg) for agg in ("avg", "min", "max", "sum", "count")}
            publish(client, events)
            queue = client.description["queues"]["timeseries_writer"]
            wait(lambda: client.queue_depth(queue["url"]) == 0, timeout_s=600)
            time.sleep(2)
            wait(lambda: client.queue_depth(queue["url"]) == 0, timeout_s=600)
            twice = {agg: _series(url, site, now, agg) for agg in once}
            verdict = "identical" if twice == once else "DIFFERENT"
            print(
                f"idempotency: {duplicates:,} readings published twice with the same ids in"
                f" {time.monotonic() - started:.1f}s: aggregates {verdict},"
                f" {sum(b['count'] for b in twice['count']):,} points stored,"
                f" DLQ depth {client.queue_depth(queue['dlq_url'])}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000)
    parser.add_argument("--duplicates", type=int, default=10_000)
    parser.add_argument("--no-stack", action="store_true", help="store-only and aggregation numbers only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="series-bench-"))
    try:
        for batch in (500, 1000):
            store_only(folder, batch)
        aggregation(folder)
        if not args.no_stack:
            whole_path(folder, args.readings, args.duplicates)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
