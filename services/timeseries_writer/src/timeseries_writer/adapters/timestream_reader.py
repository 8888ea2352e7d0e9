"""Timestream for LiveAnalytics adapter of :class:`~timeseries_writer.ports.SeriesReader`: its query API.

One SQL statement per query, over the multi-measure records :mod:`~timeseries_writer.adapters.timestream`
writes (``measure_name`` = metric, measures ``value`` and ``unit``, the dimensions as columns)::

    SELECT bin(time, <bucket>) AS bucket, <agg>(value), count(value), min(unit), max(unit)
    FROM "<database>"."<table>"
    WHERE measure_name = '<metric>' AND time >= from_nanoseconds(<start>) AND time < from_nanoseconds(<end>)
          [AND "<dimension>" = '<value>' …]
    GROUP BY bin(time, <bucket>) ORDER BY bucket LIMIT <limit>

``bin`` aligns buckets to the Unix epoch, as the embedded store does. Pages (``NextToken``) are followed.
Where a bucket mixes units a second statement lists them (``SELECT DISTINCT unit``). A dimension no record
has ever carried is no column of the table, which Timestream reports as a ValidationException: that answer
holds no points. Throttling, server errors, denied access and a missing table raise
:class:`~shared.errors.RetryableError` (the API's 503).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import RetryableError
from timeseries_writer.model import DIMENSIONS, Bucket, SeriesAnswer, SeriesQuery, epoch_us

_AGGREGATES = {"avg": "avg(value)", "min": "min(value)", "max": "max(value)", "sum": "sum(value)"}
_AGGREGATES["count"] = "count(value)"
_BIN = {"1m": "1m", "1h": "1h", "1d": "1d"}


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def where_clause(query: SeriesQuery) -> str:
    """The WHERE of ``query``: metric, ``[start, end)`` in nanoseconds, the dimension filters."""
    unknown = set(query.filters) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions: {sorted(unknown)}")
    return (
        f"measure_name = {_literal(query.metric)}"
        f" AND time >= from_nanoseconds({epoch_us(query.start) * 1000})"
        f" AND time < from_nanoseconds({epoch_us(query.end) * 1000})"
        + "".join(f" AND {_identifier(n)} = {_literal(query.filters[n])}" for n in sorted(query.filters))
    )


def parse_timestamp(text: str) -> datetime:
    """A Timestream TIMESTAMP (``2025-06-01 00:10:00.000000000``, UTC) at microsecond precision."""
    day, _, clock = text.partition(" ")
    whole, _, fraction = clock.partition(".")
    return datetime.fromisoformat(f"{day}T{whole}.{(fraction + '000000')[:6]}+00:00").astimezone(UTC)


class TimestreamSeriesReader:
    """Reads one Timestream table through an injected boto3 ``timestream-query`` client."""

    def __init__(self, *, client: Any, database: str, table: str) -> None:
        self._client = client
        self._source = f"{_identifier(database)}.{_identifier(table)}"

    def sql(self, query: SeriesQuery) -> str:
        """The statement that answers ``query``."""
        bin_ = f"bin(time, {_BIN[query.bucket]})"
        return (
            f"SELECT {bin_} AS bucket, {_AGGREGATES[query.agg]}, count(value), min(unit), max(unit)"  # noqa: S608
            f" FROM {self._source} WHERE {where_clause(query)}"
            f" GROUP BY {bin_} ORDER BY bucket LIMIT {int(query.limit)}"
        )

    def _rows(self, statement: str) -> Iterator[list[str | None]]:
        kwargs: dict[str, Any] = {"QueryString": statement}
        while True:
            page = self._client.query(**kwargs)
            for row in page.get("Rows", []):
                yield [None if d.get("NullValue") else d.get("ScalarValue") for d in row["Data"]]
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    def query(self, query: SeriesQuery) -> SeriesAnswer:
        statement = self.sql(query)
        try:
            rows = list(self._rows(statement))
            units = {unit for *_, low, high in rows for unit in (low, high) if unit is not None}
            if any(low != high for *_, low, high in rows):  # mixed units may hide a third between them
                distinct = f"SELECT DISTINCT unit FROM {self._source} WHERE {where_clause(query)}"  # noqa: S608
                units = {unit for (unit,) in self._rows(distinct) if unit is not None}
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ValidationException" and "does not exist" in str(error.get("Message")):
                return SeriesAnswer(buckets=[], units=[])  # a dimension no record carries: no points
            raise RetryableError(f"Timestream query failed: {error.get('Code')}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"Timestream query failed: {type(exc).__name__}") from exc
        buckets = [
            Bucket(start=parse_timestamp(str(start)), value=float(str(value)), count=int(str(count)))
            for start, value, count, _, _ in rows
        ]
        return SeriesAnswer(buckets=buckets, units=sorted(units))
