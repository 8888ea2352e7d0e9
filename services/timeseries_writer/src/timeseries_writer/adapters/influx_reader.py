"""InfluxDB adapter of :class:`~timeseries_writer.ports.SeriesReader`: InfluxQL over ``GET /query``.

InfluxQL is the query language every InfluxDB serves: 1.x natively, 2.x (and so Timestream for InfluxDB)
through its v1 compatibility API, which maps the ``db`` parameter to a bucket by a DBRP mapping (created
once per bucket after deployment; see docs/deploy.md). One statement answers a query::

    SELECT sum("value"), count("value"), min("value"), max("value") FROM "<metric>"
    WHERE time >= <start ns> AND time < <end ns> [AND "<dimension>" = '<value>' …]
    GROUP BY time(<bucket>), "unit" fill(none)

InfluxDB aligns ``time()`` buckets to the Unix epoch, as the embedded store does; empty buckets are left
out (``fill(none)``). ``unit`` is a tag (see :mod:`~timeseries_writer.adapters.influx`), so the answer comes
per unit and is merged here: ``avg`` is the merged sum over the merged count. Errors: an unreachable or
failing server, a refused token and a missing database all raise :class:`~shared.errors.RetryableError`
(the API's 503): none of them is the caller's fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.errors import RetryableError
from timeseries_writer.model import DIMENSIONS, Bucket, SeriesAnswer, SeriesQuery, epoch_us

QUERY_PATH = "/query"
_EPOCH = datetime.fromtimestamp(0, UTC)


def _identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def influxql(query: SeriesQuery) -> str:
    """The InfluxQL statement of ``query`` (names quoted as identifiers, values as string literals)."""
    unknown = set(query.filters) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions: {sorted(unknown)}")
    where = f"time >= {epoch_us(query.start) * 1000} AND time < {epoch_us(query.end) * 1000}" + "".join(
        f" AND {_identifier(name)} = {_literal(query.filters[name])}" for name in sorted(query.filters)
    )
    return (
        'SELECT sum("value"), count("value"), min("value"), max("value")'  # noqa: S608 - names and values quoted above
        f" FROM {_identifier(query.metric)} WHERE {where}"
        f' GROUP BY time({query.bucket}), "unit" fill(none)'
    )


@dataclass
class _Merged:
    sum: float = 0.0
    count: int = 0
    min: float = float("inf")
    max: float = float("-inf")

    def add(self, total: float, count: int, low: float, high: float) -> None:
        self.sum += total
        self.count += count
        self.min = min(self.min, low)
        self.max = max(self.max, high)

    def value(self, agg: str) -> float:
        if agg == "avg":
            return self.sum / self.count
        return float({"sum": self.sum, "count": self.count, "min": self.min, "max": self.max}[agg])


class InfluxSeriesReader:
    """Reads one database (2.x: the bucket its DBRP mapping names), through an injected ``httpx.Client``.

    Args:
        client: an ``httpx.Client`` whose ``base_url`` is the InfluxDB endpoint; on 2.x its headers carry
            ``Authorization: Token <reader token>`` (a token that may read the bucket and nothing else).
        database: the ``db`` of the v1 API (2.x: the bucket's DBRP database name).
        retention_policy: the ``rp`` (default: the database's default).
    """

    def __init__(self, *, client: httpx.Client, database: str, retention_policy: str | None = None) -> None:
        self._client = client
        self._params = {"db": database, "epoch": "u"} | ({"rp": retention_policy} if retention_policy else {})

    def query(self, query: SeriesQuery) -> SeriesAnswer:
        statement = influxql(query)
        try:
            response = self._client.get(QUERY_PATH, params=self._params | {"q": statement})
        except httpx.HTTPError as exc:
            raise RetryableError(f"InfluxDB query failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RetryableError(f"InfluxDB answered {response.status_code} to a query: {_message(response)}")
        body: dict[str, Any] = response.json()
        results = body.get("results") or [{}]
        if "error" in body or "error" in results[0]:
            raise RetryableError(f"InfluxDB refused the query: {body.get('error') or results[0]['error']}")
        merged: dict[int, _Merged] = {}
        units: set[str] = set()
        for series in results[0].get("series", []):
            units.add(str(series.get("tags", {}).get("unit", "")))
            for us, total, count, low, high in series["values"]:
                merged.setdefault(int(us), _Merged()).add(float(total), int(count), float(low), float(high))
        buckets = [
            Bucket(start=_EPOCH + timedelta(microseconds=us), value=m.value(query.agg), count=m.count)
            for us, m in sorted(merged.items())[: query.limit]
        ]
        return SeriesAnswer(buckets=buckets, units=sorted(units))


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or response.json().get("message") or "")[:200]
    except ValueError:
        return response.text[:200]
