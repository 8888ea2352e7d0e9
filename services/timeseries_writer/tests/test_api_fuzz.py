"""Fuzzing the series read API: no metric, range, bucket, aggregate, limit or filter gets a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from tests.support.fuzzing import PARAM_VALUE, query, run_fuzz, url
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.api import QueryLimits, create_app
from timeseries_writer.model import BUCKET_WIDTHS, DIMENSIONS, Point
from timeseries_writer.testing import InMemorySeriesStore

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)

_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
_NEAR = st.datetimes(datetime(2025, 5, 30), datetime(2025, 6, 3))
_EXTREMES = st.sampled_from(
    ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-23:59", "2025-06-02T11:00:00Z"]
)
_TIMES = (
    st.builds(lambda at, tz: at.replace(tzinfo=tz).isoformat(), _NEAR | st.datetimes(), _OFFSETS) | _EXTREMES
)
_VALUES = (
    PARAM_VALUE
    | _TIMES
    | st.sampled_from([*BUCKET_WIDTHS, "avg", "min", "max", "sum", "count", "temperature", "dev-1"])
    | st.integers(-5, 20_000).map(str)
)
_NAMES = st.sampled_from(["metric", "from", "to", "bucket", "agg", "limit", *DIMENSIONS])
_PLAUSIBLE = st.builds(
    lambda *pairs: [pair for pair in pairs if pair[1] is not None],
    st.tuples(st.just("from"), st.none() | _TIMES),
    st.tuples(st.just("to"), st.none() | _TIMES),
    st.tuples(st.just("bucket"), st.none() | st.sampled_from(sorted(BUCKET_WIDTHS))),
    st.tuples(st.just("agg"), st.none() | st.sampled_from(["avg", "min", "max", "sum", "count"])),
    st.tuples(st.just("device"), st.none() | st.just("dev-1") | PARAM_VALUE),
)
"""Requests near the valid ones, so the run reaches the range arithmetic and the store."""

_REQUESTS = st.builds(
    lambda metric, params: url("series", params=[("metric", metric), *params] if metric else params),
    st.sampled_from(["temperature", ""]) | PARAM_VALUE,
    query(_NAMES, _VALUES) | _PLAUSIBLE,
)


def _run(store: InMemorySeriesStore | DuckDBSeriesStore) -> None:
    store.write(
        [
            Point(
                event_id=f"e-{i}",
                metric="temperature",
                time=NOW - timedelta(minutes=i),
                value=20.0 + i,
                unit="celsius",
                dimensions={"device": "dev-1", "site": "site-a"},
            )
            for i in range(5)
        ]
    )
    client = TestClient(
        create_app(store, limits=QueryLimits(), clock=lambda: NOW), raise_server_exceptions=False
    )

    def send(target: str) -> httpx.Response:
        return client.get(target)

    statuses = run_fuzz(send, _REQUESTS, examples=600)
    assert set(statuses) <= {200, 422}
    assert statuses[200] and statuses[422], statuses
    print(f"\nseries API fuzz ({type(store).__name__}): {statuses.total()} requests, 0 server errors, "
          f"statuses {dict(sorted(statuses.items()))}")  # fmt: skip


def test_no_request_gets_a_server_error_in_memory() -> None:
    """Times at year 1 and 9999 in any offset, unknown parameters, bad buckets: every answer is 200 or 422."""
    _run(InMemorySeriesStore())


def test_no_request_gets_a_server_error_on_duckdb(tmp_path: Path) -> None:
    """The same requests over DuckDB, whose SQL sees every range the API lets through."""
    store = DuckDBSeriesStore(tmp_path / "series.duckdb")
    try:
        _run(store)
    finally:
        store.close()
