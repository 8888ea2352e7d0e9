"""The only place timeseries_writer reads settings and builds clients.

``TRIBUTARY_STORE`` picks the series store: ``duckdb`` (default: a file under ``TRIBUTARY_DATA_DIR``),
``timestream`` (Timestream for LiveAnalytics) or ``influx`` (Timestream for InfluxDB). Every store serves
the read API: DuckDB itself, Timestream through its query API, InfluxDB through InfluxQL (``/query``) with
the reader's own token (``TRIBUTARY_INFLUX_READER_TOKEN``; the writer's token may only write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr

from shared import aws
from shared.observe import traced
from shared.service import Service
from shared.settings import WorkerSettings
from shared.sqs import worker_queue
from timeseries_writer.api import QueryLimits, create_app
from timeseries_writer.domain import TimeWindow
from timeseries_writer.handler import SeriesWriter
from timeseries_writer.manifest import MANIFEST, RETENTION
from timeseries_writer.ports import SeriesReader, SeriesStore

STORE_NAMES = {"duckdb": "DuckDB", "timestream": "Timestream", "influx": "InfluxDB"}  # as traces name them


class SeriesSettings(WorkerSettings):
    """timeseries_writer's settings (``TRIBUTARY_*``).

    Batches of up to 1,000 events make one store write (one DuckDB insert, ~85k points/s at that size and
    half that at 500; ten Timestream calls). ``duckdb_threads`` is DuckDB's worker threads: one keeps the
    process under its 150 MB; more make queries over millions of points faster at ~10 MB each. Points
    older than ``max_past_s`` (the magnetic store's retention) or more than ``max_future_s`` ahead of now
    are rejected as bad input.
    """

    service: str = MANIFEST.name
    visibility_timeout_s: int = MANIFEST.queue.visibility_timeout_s
    batch_max_events: int = 1000
    batch_max_wait_ms: int = 1000
    store: Literal["duckdb", "timestream", "influx"] = "duckdb"
    duckdb_file: str = "series.duckdb"
    duckdb_memory_limit: str = "128MB"
    duckdb_threads: int = Field(default=1, ge=1)
    timestream_database: str = "tributary"
    timestream_table: str = "series"
    influx_url: str = "http://127.0.0.1:8086"
    influx_org: str = "tributary"
    influx_bucket: str = "series"
    influx_token: SecretStr = SecretStr("")
    influx_reader_token: SecretStr = SecretStr("")
    influx_database: str | None = None  # the v1 API's db (DBRP mapping) for reads; default the bucket
    max_past_s: int = Field(default=RETENTION.magnetic_store_days * 86_400, ge=60)
    max_future_s: int = Field(default=15 * 60, ge=0)
    query_max_buckets: int = Field(default=10_000, ge=1, le=1_000_000)

    def lambda_refusal(self) -> str | None:
        if self.store == "duckdb":
            return "under Lambda timeseries_writer needs TRIBUTARY_STORE=timestream or influx"
        return None


@dataclass(frozen=True, kw_only=True)
class BuiltStore:
    """The configured store, the reader the read API queries, and how to release them."""

    store: SeriesStore
    reader: SeriesReader
    close: Callable[[], None]


def build_store(settings: SeriesSettings) -> BuiltStore:
    """The configured series store, its client built here.

    Each store's adapter (and its client library: DuckDB, httpx, tenacity) is imported only when that store
    is configured: every megabyte imported counts against the service's 150 MB.
    """
    if settings.store == "timestream":
        return _timestream(settings)
    if settings.store == "influx":
        return _influx(settings)
    from timeseries_writer.adapters.duckdb import DuckDBSeriesStore  # imported here: see the docstring

    duck = DuckDBSeriesStore(
        settings.data_dir / settings.duckdb_file,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
    )
    return BuiltStore(store=duck, reader=duck, close=duck.close)


def _timestream(settings: SeriesSettings) -> BuiltStore:
    from timeseries_writer.adapters.timestream import TimestreamSeriesStore
    from timeseries_writer.adapters.timestream_reader import TimestreamSeriesReader

    timestream = TimestreamSeriesStore(
        client=aws.client("timestream-write", max_attempts=1),  # the adapter retries with tenacity
        database=settings.timestream_database,
        table=settings.timestream_table,
    )
    reader = TimestreamSeriesReader(
        client=aws.client("timestream-query"),
        database=settings.timestream_database,
        table=settings.timestream_table,
    )
    traced_reader = traced(reader, store="Timestream", aws=True)
    return BuiltStore(store=timestream, reader=traced_reader, close=lambda: None)


def _influx(settings: SeriesSettings) -> BuiltStore:
    import httpx  # imported here: see build_store

    from timeseries_writer.adapters.influx import InfluxSeriesStore
    from timeseries_writer.adapters.influx_reader import InfluxSeriesReader

    client = httpx.Client(
        base_url=settings.influx_url,
        headers={"Authorization": f"Token {settings.influx_token.get_secret_value()}"},
        timeout=httpx.Timeout(30, connect=5),
    )
    influx = InfluxSeriesStore(client=client, org=settings.influx_org, bucket=settings.influx_bucket)
    reading = httpx.Client(  # its own token: the writer's may only write, the reader's only read
        base_url=settings.influx_url,
        headers={"Authorization": f"Token {settings.influx_reader_token.get_secret_value()}"},
        timeout=httpx.Timeout(30, connect=5),
    )
    database = settings.influx_database or settings.influx_bucket
    influx_reader = InfluxSeriesReader(client=reading, database=database)

    def close() -> None:
        client.close()
        reading.close()

    return BuiltStore(store=influx, reader=traced(influx_reader, store="InfluxDB"), close=close)


def build(settings: SeriesSettings) -> Service:
    """The queue, the writer and the read API, wired to SQS and the configured store."""
    # The client first: what botocore parses to build it and then frees, DuckDB's catalog reuses.
    queue = worker_queue(settings)
    built = build_store(settings)
    window = TimeWindow(
        max_past=timedelta(seconds=settings.max_past_s), max_future=timedelta(seconds=settings.max_future_s)
    )
    writer = SeriesWriter(
        store=traced(built.store, store=STORE_NAMES[settings.store], aws=settings.store == "timestream"),
        window=window,
    )
    limits = QueryLimits(max_buckets=settings.query_max_buckets)
    return Service(
        name=MANIFEST.name,
        settings=settings,
        queue=queue,
        handler=writer,
        consumes=MANIFEST.consumes,
        api=create_app(built.reader, limits=limits, store_name=settings.store),
        closers=[built.close],
    )
