"""Embedded :class:`~timeseries_writer.ports.SeriesStore`: one DuckDB file owned by this process.

Points go in as one statement per batch: each column is one typed list parameter, zipped back into rows
by ``unnest`` in a single ``SELECT``, with ``INSERT … ON CONFLICT DO NOTHING`` against the primary key
``(event_id, metric)``, so a redelivered event adds nothing. The batch is deduplicated in Python first:
the same key twice inside one statement would silently keep the first row anyway, but relying on that is
relying on an accident. ``executemany`` is about 100x slower and is not used; an Arrow table per batch is
somewhat faster per point but importing pyarrow costs the process ~25 MB of resident memory, which the
service's 150 MB budget cannot spare (docs/bench.md has the numbers).

Memory: the process's budget is 150 MB peak RSS, of which the imports take ~90 MB (the runtime ~60 MB,
DuckDB ~20 MB, an SQS client ~2 MB) and opening the file ~20 MB; one DuckDB thread (a batch of 1,000 rows
gains nothing from two) and a small allocator cache keep the rest near 40 MB for a store of 100,000 points
(docs/bench.md).

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
_TYPES = ("VARCHAR", "VARCHAR", "TIMESTAMPTZ", "DOUBLE", "VARCHAR", *("VARCHAR" for _ in DIMENSIONS))
# One list parameter per column; several unnests in one SELECT zip the lists into rows.
_INSERT = (
    f"INSERT INTO points ({', '.join(_COLUMNS)}) SELECT * FROM (SELECT "  # noqa: S608
    + ", ".join(f"unnest(${i}::{kind}[])" for i, kind in enumerate(_TYPES, start=1))
    + ") ON CONFLICT DO NOTHING"
)
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

    def __init__(self, path: Path, *, memory_limit: str = "128MB", threads: int = 1) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Freed memory goes back to the system past 8 MB of allocator cache (DuckDB keeps up to 128 MB).
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "threads": threads,
            "allocator_flush_threshold": "8MB",
        }
        try:
            self._db = duckdb.connect(str(path), config=config)
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
        try:
            with self._lock:
                self.writes += 1
                self._db.execute(_INSERT, _columns(unique.values()))
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


def _columns(points: Iterable[Point]) -> list[list[object]]:
    """The batch as one list per column of :data:`_COLUMNS`, the parameters of :data:`_INSERT`."""
    rows = list(points)
    columns: list[list[object]] = [
        [p.event_id for p in rows],
        [p.metric for p in rows],
        [p.time for p in rows],
        [p.value for p in rows],
        [p.unit for p in rows],
    ]
    columns.extend([p.dimensions.get(dimension) for p in rows] for dimension in DIMENSIONS)
    return columns
