"""The read API's contract on every store: the same readings and queries against DuckDB, a real InfluxDB
server (``influxd`` started here on 127.0.0.1, its data in a temporary folder) and Timestream (botocore
Stubber: the exact SQL sent, answered with the query API's real response shape, rows as Timestream
formats them). Every store must give the same buckets, aggregates, counts and units as DuckDB.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

from shared.errors import RetryableError
from shared.testkit.waiting import wait_for
from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.adapters.influx import line
from timeseries_writer.adapters.influx_reader import InfluxSeriesReader
from timeseries_writer.adapters.timestream_reader import TimestreamSeriesReader
from timeseries_writer.model import Point, SeriesAnswer, SeriesQuery
from timeseries_writer.ports import SeriesReader
from tributary.processes import free_port

T0 = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
DATABASE = "tributary"


def _point(n: int, minutes: float, value: float, **dims: str) -> Point:
    metric = dims.pop("metric", "temperature")
    unit = dims.pop("unit", "celsius")
    return Point(
        event_id=f"ev-{n:04d}",
        metric=metric,
        time=T0 + timedelta(minutes=minutes),
        value=value,
        unit=unit,
        dimensions=dims or {"device": "dev-1", "site": "site-a"},
        version=1,
    )


READINGS = [
    _point(1, 0, 1.5),
    _point(2, 0.5, 2.5, device="dev-2", site="site-a"),
    _point(3, 0.99, -4.0, device="dev-3", site="site-b"),
    _point(4, 3, 10.0),
    _point(5, 61, 7.25, device="dev-2", site="site-a"),
    _point(6, 62, 8.0, device="dev-3", site="site-b"),
    _point(7, 60 * 25, 3.0),
    _point(8, 60 * 25 + 1, 5.0, device="dev-2", site="site-a"),
    _point(9, 2, 70.0, device="dev-1", site="site-a", unit="fahrenheit"),
    _point(10, 0, 40.0, metric="humidity", unit="percent"),
    _point(11, 30, 41.0, device="it's", site='a "quoted" site', metric="humidity", unit="percent"),
]


def _q(**fields: Any) -> SeriesQuery:
    base: dict[str, Any] = {
        "metric": "temperature",
        "start": T0 - timedelta(hours=1),
        "end": T0 + timedelta(days=2),
    }
    return SeriesQuery(**(base | fields))


QUERIES = {
    "avg-1m": _q(),
    "sum-1m": _q(agg="sum"),
    "min-1h": _q(bucket="1h", agg="min"),
    "max-1h": _q(bucket="1h", agg="max"),
    "count-1d": _q(bucket="1d", agg="count"),
    "avg-1d-site-a": _q(bucket="1d", filters={"site": "site-a"}),
    "sum-1h-device-and-site": _q(bucket="1h", agg="sum", filters={"device": "dev-2", "site": "site-a"}),
    "range-cuts-edges": _q(start=T0 + timedelta(minutes=0.5), end=T0 + timedelta(minutes=61)),
    "limit-2": _q(limit=2),
    "no-match": _q(filters={"site": "nowhere"}),
    "other-metric": _q(metric="humidity", bucket="1h", agg="max"),
    "quoted-values": _q(metric="humidity", filters={"device": "it's", "site": 'a "quoted" site'}),
    "unknown-metric": _q(metric="pressure"),
}


# -- DuckDB: the reference ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBSeriesStore]:
    store = DuckDBSeriesStore(tmp_path_factory.mktemp("duck") / "series.duckdb")
    store.write(READINGS)
    yield store
    store.close()


# -- InfluxDB: a real server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``influxd`` (Debian's influxdb, which ``make install`` installs) on 127.0.0.1; its base URL."""
    binary = shutil.which("influxd")
    assert binary, "influxd is missing: `make install` installs it (apt-get install influxdb)"
    folder = tmp_path_factory.mktemp("influxdb")
    port = free_port()
    config = folder / "influxdb.conf"
    config.write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n'
        f'[meta]\n  dir = "{folder}/meta"\n'
        f'[data]\n  dir = "{folder}/data"\n  wal-dir = "{folder}/wal"\n  query-log-enabled = false\n'
        f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
        "[monitor]\n  store-enabled = false\n"
        "[continuous_queries]\n  enabled = false\n",
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{port}"
    with (folder / "influxd.log").open("wb") as log:
        proc = subprocess.Popen([binary, "run", "-config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/ping", timeout=2, trust_env=False).status_code == 204
            except httpx.HTTPError:
                return False

        assert wait_for(ready, timeout_s=60), (folder / "influxd.log").read_text()[-2000:]
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def influx_reader(influxd: str) -> Iterator[InfluxSeriesReader]:
    """The readings written as the writer's line protocol (v1 ``/write``: 1.x has no ``/api/v2/write``)."""
    with httpx.Client(base_url=influxd, timeout=httpx.Timeout(30, connect=5), trust_env=False) as client:
        assert client.post("/query", params={"q": f"CREATE DATABASE {DATABASE}"}).status_code == 200
        body = "\n".join(line(p) for p in READINGS)
        written = client.post("/write", params={"db": DATABASE, "precision": "ns"}, content=body)
        assert written.status_code == 204, written.text
        yield InfluxSeriesReader(client=client, database=DATABASE)


# -- Timestream: Stubber with the query API's response shape ---------------------------------------------


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "000"


def _scalar(value: object) -> dict[str, Any]:
    return {"NullValue": True} if value is None else {"ScalarValue": str(value)}


def timestream_response(rows: list[list[object]], *, next_token: str | None = None) -> dict[str, Any]:
    """A ``Query`` response as Timestream sends it: ColumnInfo, Rows of ScalarValue strings, QueryStatus."""
    columns = [
        ("bucket", "TIMESTAMP"),
        ("_col1", "DOUBLE"),
        ("_col2", "BIGINT"),
        ("_col3", "VARCHAR"),
        ("_col4", "VARCHAR"),
    ]
    response: dict[str, Any] = {
        "QueryId": "AEDQCANMXYZ",
        "Rows": [{"Data": [_scalar(v) for v in row]} for row in rows],
        "ColumnInfo": [
            {"Name": n, "Type": {"ScalarType": t}} for n, t in columns[: len(rows[0]) if rows else 5]
        ],
        "QueryStatus": {
            "ProgressPercentage": 100.0,
            "CumulativeBytesScanned": 1024,
            "CumulativeBytesMetered": 10_000_000,
        },
    }
    if next_token:
        response["NextToken"] = next_token
    return response


def _timestream_rows(query: SeriesQuery) -> tuple[list[list[object]], list[str]]:
    """What Timestream computes for ``query`` over the readings: aggregate, count, min/max unit per bucket."""
    groups: dict[datetime, list[Point]] = {}
    for p in READINGS:
        if (
            p.metric == query.metric
            and query.start <= p.time < query.end
            and all(p.dimensions.get(k) == v for k, v in query.filters.items())
        ):
            start = T0 + ((p.time - T0) // query.width) * query.width
            groups.setdefault(start, []).append(p)
    aggregate = {"avg": lambda v: sum(v) / len(v), "sum": sum, "min": min, "max": max, "count": len}[
        query.agg
    ]
    rows: list[list[object]] = []
    for start, points in sorted(groups.items())[: query.limit]:
        values = [p.value for p in points]
        units = sorted(p.unit for p in points)
        rows.append([_ts(start), repr(float(aggregate(values))), len(values), units[0], units[-1]])
    mixed = sorted({p.unit for ps in groups.values() for p in ps})
    return rows, mixed


@pytest.fixture
def timestream() -> Iterator[tuple[TimestreamSeriesReader, Stubber]]:
    client = boto3.session.Session().client(
        "timestream-query", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield TimestreamSeriesReader(client=client, database="tributary", table="series"), stubber
        stubber.assert_no_pending_responses()


def _timestream_reader(
    timestream: tuple[TimestreamSeriesReader, Stubber], query: SeriesQuery
) -> SeriesReader:
    reader, stubber = timestream
    rows, units = _timestream_rows(query)
    half = len(rows) // 2
    if half:  # a paginated answer, as Timestream pages large results
        stubber.add_response(
            "query", timestream_response(rows[:half], next_token="t1"), {"QueryString": reader.sql(query)}
        )
        stubber.add_response(
            "query", timestream_response(rows[half:]), {"QueryString": reader.sql(query), "NextToken": "t1"}
        )
    else:
        stubber.add_response("query", timestream_response(rows), {"QueryString": reader.sql(query)})
    if any(r[3] != r[4] for r in rows):
        stubber.add_response(
            "query",
            {
                **timestream_response([[u] for u in units]),
                "ColumnInfo": [{"Name": "unit", "Type": {"ScalarType": "VARCHAR"}}],
            },
        )
    return reader


# -- the contract ---------------------------------------------------------------------------------------


def _comparable(answer: SeriesAnswer) -> tuple[list[tuple[datetime, float, int]], list[str]]:
    return [(b.start, pytest.approx(b.value), b.count) for b in answer.buckets], answer.units  # type: ignore[misc]


@pytest.fixture(params=["influxdb", "timestream"])
def store_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_store_answers_as_duckdb(
    request: pytest.FixtureRequest, store_name: str, name: str, duckdb_reader: DuckDBSeriesStore
) -> None:
    """The same readings and query give DuckDB's buckets, aggregates, counts and units."""
    query = QUERIES[name]
    expected = duckdb_reader.query(query)
    if store_name == "influxdb":
        reader: SeriesReader = request.getfixturevalue("influx_reader")
    else:
        reader = _timestream_reader(request.getfixturevalue("timestream"), query)
    got = reader.query(query)
    assert [b.start for b in got.buckets] == [b.start for b in expected.buckets]
    assert _comparable(got) == _comparable(expected)


def test_duckdb_reference_is_not_empty(duckdb_reader: DuckDBSeriesStore) -> None:
    """The suite compares something: the reference answers hold buckets, mixed units and filters."""
    assert len(duckdb_reader.query(QUERIES["avg-1m"]).buckets) == 7
    assert duckdb_reader.query(QUERIES["avg-1m"]).units == ["celsius", "fahrenheit"]
    assert [b.count for b in duckdb_reader.query(QUERIES["quoted-values"]).buckets] == [1]


@pytest.mark.parametrize("store", ["duckdb", "influxdb", "timestream"])
def test_an_unknown_dimension_is_refused_before_any_call(
    request: pytest.FixtureRequest, store: str, duckdb_reader: DuckDBSeriesStore
) -> None:
    """Every reader raises ValueError for a filter outside DIMENSIONS (the API has refused it with a 422)."""
    readers: dict[str, Any] = {
        "duckdb": lambda: duckdb_reader,
        "influxdb": lambda: request.getfixturevalue("influx_reader"),
        "timestream": lambda: request.getfixturevalue("timestream")[0],
    }
    with pytest.raises(ValueError, match="unknown dimensions"):
        readers[store]().query(_q(filters={"colour": "red"}))


def test_an_unreachable_influxdb_is_retryable() -> None:
    """Nothing listening: RetryableError (the API's 503)."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{free_port()}", timeout=2, trust_env=False)
    with client, pytest.raises(RetryableError, match="InfluxDB query failed"):
        InfluxSeriesReader(client=client, database=DATABASE).query(_q())


def test_a_missing_influx_database_is_retryable(influxd: str) -> None:
    """A database (2.x: DBRP mapping) that does not exist is a deployment to fix: RetryableError."""
    client = httpx.Client(base_url=influxd, timeout=10, trust_env=False)
    with client, pytest.raises(RetryableError, match="database not found"):
        InfluxSeriesReader(client=client, database="nope").query(_q())


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerException", "AccessDeniedException"])
def test_timestream_failures_are_retryable(
    timestream: tuple[TimestreamSeriesReader, Stubber], code: str
) -> None:
    reader, stubber = timestream
    stubber.add_client_error(
        "query", code, http_status_code=400 if code != "InternalServerException" else 500
    )
    with pytest.raises(RetryableError, match=code):
        reader.query(_q())


def test_a_dimension_no_timestream_record_carries_answers_no_points(
    timestream: tuple[TimestreamSeriesReader, Stubber],
) -> None:
    """Timestream knows no column for a dimension never written: that is an empty answer, not an error."""
    reader, stubber = timestream
    stubber.add_client_error(
        "query", "ValidationException", "line 1:220: Column 'shop' does not exist", http_status_code=400
    )
    assert reader.query(_q(filters={"shop": "s1"})) == SeriesAnswer(buckets=[], units=[])
