"""Tests of the DuckDB store beyond the port contract: the file, its owner process, crashes and SQL safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from shared.errors import RetryableError
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.model import Point, SeriesQuery

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _p(event_id: str, value: float = 1.0, at: datetime = T0, **dims: str) -> Point:
    return Point(
        event_id=event_id,
        metric="temperature",
        time=at,
        value=value,
        unit="celsius",
        dimensions=dims or {"device": "d"},
    )


def _count(store: DuckDBSeriesStore, **filters: str) -> int:
    query = SeriesQuery(
        metric="temperature",
        start=T0 - timedelta(days=1),
        end=T0 + timedelta(days=1),
        bucket="1d",
        agg="count",
        filters=filters,
    )
    return sum(b.count for b in store.query(query).buckets)


def test_points_survive_closing_and_reopening(tmp_path: Path) -> None:
    """What was written is in the file; writing it again after a reopen adds nothing."""
    store = DuckDBSeriesStore(tmp_path / "s.duckdb")
    store.write([_p("a"), _p("b")])
    store.close()
    again = DuckDBSeriesStore(tmp_path / "s.duckdb")
    again.write([_p("a"), _p("c")])
    assert _count(again) == 3
    again.close()


def test_times_are_stored_as_timestamptz_instants(tmp_path: Path) -> None:
    """A time sent with +09:00 reads back as the same instant (TIMESTAMPTZ, converted with pytz)."""
    store = DuckDBSeriesStore(tmp_path / "s.duckdb")
    jst = datetime(2025, 6, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=9)))
    store.write([_p("a", at=jst)])
    store.close()
    with duckdb.connect(str(tmp_path / "s.duckdb")) as db:
        [(kind,)] = db.execute(
            "SELECT data_type FROM information_schema.columns WHERE column_name = 'time'"
        ).fetchall()
        [(stored,)] = db.execute("SELECT time FROM points").fetchall()
    assert kind == "TIMESTAMP WITH TIME ZONE"
    assert stored == jst


def test_new_dimensions_become_columns_of_an_old_file(tmp_path: Path) -> None:
    """A file made before a dimension existed gets its column on open, and filters on it work."""
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute(
            "CREATE TABLE points (event_id VARCHAR NOT NULL, metric VARCHAR NOT NULL,"
            " time TIMESTAMPTZ NOT NULL, value DOUBLE NOT NULL, unit VARCHAR NOT NULL, device VARCHAR,"
            " PRIMARY KEY (event_id, metric))"
        )
    store = DuckDBSeriesStore(path)
    store.write([_p("a", shop="s1", currency="JPY")])
    assert _count(store, shop="s1") == 1
    store.close()


def test_filter_values_are_parameters_not_sql(tmp_path: Path) -> None:
    """A quote-laden filter value matches nothing and breaks nothing; unknown dimensions are refused."""
    store = DuckDBSeriesStore(tmp_path / "s.duckdb")
    store.write([_p("a", device="d")])
    assert _count(store, device="d' OR '1'='1") == 0
    assert _count(store, device="d") == 1
    with pytest.raises(ValueError, match="unknown dimensions"):
        _count(store, **{"device = device OR 1": "x"})
    store.close()


_HOLDER = """
import sys, time, duckdb
db = duckdb.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""


def test_a_file_held_by_another_process_cannot_be_opened(tmp_path: Path) -> None:
    """DuckDB allows one writing process per file: the second gets RetryableError naming the file."""
    path = tmp_path / "s.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "ready"
        with pytest.raises(RetryableError, match="cannot open the series store"):
            DuckDBSeriesStore(path)
    finally:
        holder.kill()
        holder.wait()
    DuckDBSeriesStore(path).close()  # the lock dies with its process


_WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.model import Point
store = DuckDBSeriesStore(Path(sys.argv[1]))
t0 = datetime(2025, 6, 1, tzinfo=UTC)
for batch in range(10_000):
    store.write([
        Point(event_id=f"e{batch}-{i}", metric="temperature", time=t0 + timedelta(seconds=i), value=1.0,
              unit="celsius", dimensions={"device": "d"})
        for i in range(500)
    ])
    print(batch, flush=True)
"""


def test_sigkill_mid_write_leaves_whole_batches_only(tmp_path: Path) -> None:
    """A writer killed mid-stream leaves every acknowledged batch, whole, and no partial one."""
    path = tmp_path / "s.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert writer.stdout
    acknowledged = -1
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 5:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    store = DuckDBSeriesStore(path)
    stored = _count(store)
    store.close()
    assert stored % 500 == 0
    assert stored >= (acknowledged + 1) * 500
