"""Embedded :class:`~timeseries_writer.ports.SeriesStore`: one DuckDB file owned by this process.

Points go in as one Arrow table per batch with ``INSERT … ON CONFLICT DO NOTHING`` against the primary key
``(event_id, metric)``, so a redelivered event adds nothing. The batch is deduplicated in Python first:
the same key twice inside one statement would silently keep the first row anyway, but relying on that is
relying on an accident. ``executemany`` is about 100x slower and is not used.

DuckDB allows one writing process per file, so the embedded store runs one replica of the service;
scaling out is for Timestream or InfluxDB. Queries run on their own cursor, so the read API's thread
never shares a connection with the writer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from shared.errors import PermanentError, RetryableError, StoreUnavailable
from timeseries_writer.model import DIMENSIONS, Bucket, Point, SeriesAnswer, SeriesQuery

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    event_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    PRIMARY KEY (event_id, metric)
)
"""
# Aggregates and dimension columns are spliced into SQL only from these fixed names; values are parameters.
_AGGREGATE_SQL = {
    "avg": "avg(value)",
    "min": "min(value)",
    "max": "max(value)",
    "sum": "sum(value)",
    "count": "count(*)",
}
_COLUMNS = ("event_id", "metric", "time", "value", "unit", *DIMENSIONS)
_EPOCH = datetime.fromtimestamp(0, UTC)
# Failures of the store itself (disk, lock, memory, connection), as opposed to the rows of a write.
_UNAVAILABLE = (
    duckdb.IOException,
    duckdb.ConnectionException,
    duckdb.OutOfMemoryException,
    duckdb.TransactionException,
    duckdb.FatalException,
    duckdb.InterruptException,
    duckdb.PermissionException,
    duckdb.ResourceInUseException,
)


class DuckDBSeriesStore:
    """Points in a DuckDB file at ``path``; also the :class:`~timeseries_writer.ports.SeriesReader`.

    Raises:
        StoreUnavailable: the file cannot be opened (another process holds it, or the disk fails).
    """

    def __init__(self, path: Path, *, memory_limit: str = "128MB", threads: int = 2) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = duckdb.connect(str(path), config={"memory_limit": memory_limit, "threads": threads})
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot open the series store {path.name}: {exc}") from exc
        self._lock = threading.Lock()
        self.writes = 0
        self._db.execute(_SCHEMA)
        for dimension in DIMENSIONS:  # new dimensions become new columns of an existing file
            self._db.execute(f"ALTER TABLE points ADD COLUMN IF NOT EXISTS {dimension} VARCHAR")

    def write(self, points: Sequence[Point]) -> Mapping[str, PermanentError]:
        unique: dict[tuple[str, str], Point] = {}
        for point in points:
            unique.setdefault(point.key, point)
        if not unique:
            return {}
        table = _to_arrow(unique.values())
        columns = ", ".join(_COLUMNS)
        try:
            with self._lock:
                self.writes += 1
                self._db.register("batch", table)
                try:
                    self._db.execute(
                        f"INSERT INTO points ({columns}) SELECT {columns} FROM batch"  # noqa: S608
                        " ON CONFLICT DO NOTHING"
                    )
                finally:
                    self._db.unregister("batch")
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"series store unavailable: {exc}") from exc
        except duckdb.Error as exc:  # about the rows: retried, the culprit isolated at the last try
            raise RetryableError(f"series store write failed: {exc}") from exc
        return {}

    def query(self, query: SeriesQuery) -> SeriesAnswer:
        unknown = set(query.filters) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown dimensions: {sorted(unknown)}")
        width_us = int(query.width.total_seconds() * 1_000_000)
        where = "metric = $metric AND time >= $start AND time < $end" + "".join(
            f" AND {name} = $d_{name}" for name in sorted(query.filters)
        )
        params: dict[str, object] = {
            "metric": query.metric,
            "start": query.start,
            "end": query.end,
            **{f"d_{name}": value for name, value in query.filters.items()},
        }
        # Buckets by integer arithmetic on epoch microseconds (floored, so correct before 1970 too);
        # min/max of the unit per bucket is far cheaper than collecting lists of units.
        sql = (
            f"WITH t AS (SELECT epoch_us(time) AS us, value, unit FROM points WHERE {where})"  # noqa: S608
            f" SELECT us - ((us % $width) + $width) % $width AS bucket, {_AGGREGATE_SQL[query.agg]},"
            " count(*), min(unit), max(unit) FROM t GROUP BY bucket ORDER BY bucket LIMIT $limit"
        )
        try:
            with self._db.cursor() as cursor:
                rows = cursor.execute(sql, params | {"width": width_us, "limit": query.limit}).fetchall()
                units = {unit for *_, low, high in rows for unit in (low, high)}
                if any(
                    low != high for *_, low, high in rows
                ):  # mixed units may hide a third between min and max
                    distinct = f"SELECT DISTINCT unit FROM points WHERE {where}"  # noqa: S608
                    units = {unit for (unit,) in cursor.execute(distinct, params).fetchall()}
        except duckdb.Error as exc:
            raise RetryableError(f"series store query failed: {exc}") from exc
        buckets = [
            Bucket(start=_EPOCH + timedelta(microseconds=us), value=float(value), count=int(count))
            for us, value, count, _, _ in rows
        ]
        return SeriesAnswer(buckets=buckets, units=sorted(units))

    def close(self) -> None:
        """Checkpoint and close the file."""
        with self._lock:
            self._db.close()


def _to_arrow(points: Iterable[Point]) -> pa.Table:
    rows = list(points)
    arrays = {
        "event_id": pa.array([p.event_id for p in rows], pa.string()),
        "metric": pa.array([p.metric for p in rows], pa.string()),
        "time": pa.array([p.time for p in rows], pa.timestamp("us", tz="UTC")),
        "value": pa.array([p.value for p in rows], pa.float64()),
        "unit": pa.array([p.unit for p in rows], pa.string()),
    }
    for dimension in DIMENSIONS:
        arrays[dimension] = pa.array([p.dimensions.get(dimension) for p in rows], pa.string())
    return pa.table(arrays)
