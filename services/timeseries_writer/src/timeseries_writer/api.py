"""The read API: ``GET /series`` answers bucketed aggregates of one metric, filtered by dimensions.

``GET /series?metric=temperature&site=site-tokyo-01&from=…&to=…&bucket=1m|1h|1d&agg=avg|min|max|sum|count``

- ``metric`` is required; every dimension of :data:`~timeseries_writer.model.DIMENSIONS` may be given once
  as a filter; any other parameter is a 422 naming it.
- ``from``/``to`` are ISO 8601 times with an offset, ``[from, to)``, within years 1-9999 in UTC; default the
  24 hours up to now.
- The range may hold at most ``max_buckets`` buckets of the chosen width (a 422 says how many it holds);
  ``limit`` caps the buckets returned.

Every 422 has FastAPI's shape (``{"detail": [{"loc": ["query", <param>], "msg": …}]}``). A store that cannot
answer now is a 503. Every store has a reader (DuckDB, InfluxDB, Timestream: ``tests/test_readers.py``
holds them to the same answers); an app built without one answers 501.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime

from shared.errors import RetryableError
from timeseries_writer.model import BUCKET_WIDTHS, DIMENSIONS, Aggregate, BucketWidth, SeriesQuery
from timeseries_writer.ports import SeriesReader

METRIC_PATTERN = r"^[a-z][a-z0-9_.]{0,127}$"
DIMENSION_VALUE_MAX = 128
_PARAMETERS = {"metric", "from", "to", "bucket", "agg", "limit"}


@dataclass(frozen=True, kw_only=True)
class QueryLimits:
    """How much one request may ask for."""

    max_buckets: int = 10_000
    default_span: timedelta = timedelta(hours=24)


def _invalid(param: str, msg: str, value: Any) -> RequestValidationError:
    error = {"type": "value_error", "loc": ("query", param), "msg": msg, "input": value}
    return RequestValidationError([error])


def _utc(param: str, at: datetime) -> datetime:
    try:
        return at.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time
        raise _invalid(param, f"{param} must fall within years 1-9999 once converted to UTC", None) from None


def _filters(request: Request) -> dict[str, str]:
    filters: dict[str, str] = {}
    for name in request.query_params:
        if name in _PARAMETERS:
            continue
        values = request.query_params.getlist(name)
        if name not in DIMENSIONS:
            known = ", ".join(DIMENSIONS)
            raise _invalid(name, f"unknown parameter {name!r}; the dimensions are {known}", values[0])
        if len(values) > 1:
            raise _invalid(name, f"give {name} once", values)
        if not values[0] or len(values[0]) > DIMENSION_VALUE_MAX:
            raise _invalid(name, f"a {name} is 1-{DIMENSION_VALUE_MAX} characters", values[0])
        filters[name] = values[0]
    return filters


def create_app(
    reader: SeriesReader | None,
    *,
    limits: QueryLimits | None = None,
    store_name: str = "duckdb",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The read API over ``reader`` (``None``: the store is queried elsewhere, every query is a 501)."""
    limits = limits or QueryLimits()
    app = FastAPI(title="Tributary series", summary="Bucketed aggregates of the time-series store.")

    @app.get("/series")
    def series(
        request: Request,
        metric: Annotated[str, Query(pattern=METRIC_PATTERN, description="e.g. temperature, order.amount")],
        start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
        end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
        bucket: BucketWidth = "1m",
        agg: Aggregate = "avg",
        limit: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        filters = _filters(request)
        if limit is not None and limit > limits.max_buckets:
            raise _invalid("limit", f"Input should be less than or equal to {limits.max_buckets}", limit)
        end = _utc("to", end or clock())
        if start is None:
            try:
                start = end - limits.default_span
            except OverflowError:
                raise _invalid("to", "to leaves no default span before it; give from", None) from None
        start = _utc("from", start)
        if start >= end:
            raise _invalid("from", "from must be before to", start.isoformat())
        buckets = -(-(end - start) // BUCKET_WIDTHS[bucket])
        if buckets > limits.max_buckets:
            raise _invalid(
                "bucket",
                f"from-to holds {buckets} buckets of {bucket}; at most {limits.max_buckets}:"
                " narrow the range or use a wider bucket",
                bucket,
            )
        if reader is None:
            raise HTTPException(501, f"this deployment writes to {store_name}: query it there")
        query = SeriesQuery(
            metric=metric,
            start=start,
            end=end,
            bucket=bucket,
            agg=agg,
            filters=filters,
            limit=limit or limits.max_buckets,
        )
        try:
            answer = reader.query(query)
        except RetryableError as exc:
            raise HTTPException(503, f"the series store cannot answer now: {exc}") from exc
        return {
            "metric": metric,
            "bucket": bucket,
            "agg": agg,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "filters": filters,
            "units": answer.units,
            "buckets": [
                {"start": b.start.isoformat(), "value": b.value, "count": b.count} for b in answer.buckets
            ],
        }

    return app
