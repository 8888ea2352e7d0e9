"""Tests of the wiring: settings from the environment pick and configure the store."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.adapters.influx import InfluxSeriesStore
from timeseries_writer.adapters.influx_reader import InfluxSeriesReader
from timeseries_writer.adapters.timestream import TimestreamSeriesStore
from timeseries_writer.adapters.timestream_reader import TimestreamSeriesReader
from timeseries_writer.bootstrap import SeriesSettings, build, build_store
from timeseries_writer.handler import SeriesWriter


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A worker's environment without AWS endpoints, its data under tmp_path."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("TRIBUTARY_QUEUE_URL", "http://127.0.0.1:1/queue")
    monkeypatch.setenv("TRIBUTARY_DLQ_URL", "http://127.0.0.1:1/dlq")
    monkeypatch.setenv("TRIBUTARY_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_defaults_are_the_embedded_store_and_the_retention_window(env: Path) -> None:
    """DuckDB under the data folder; points up to a year old and 15 minutes ahead; batches of 1,000."""
    settings = SeriesSettings()  # type: ignore[call-arg]
    assert settings.service == "timeseries_writer"
    assert (settings.store, settings.max_past_s, settings.max_future_s) == ("duckdb", 365 * 86_400, 900)
    assert (settings.batch_max_events, settings.visibility_timeout_s) == (1000, 30)
    built = build_store(settings)
    assert isinstance(built.store, DuckDBSeriesStore) and built.reader is built.store
    assert (env / "series.duckdb").exists()
    built.close()
    service = build(settings)
    assert service.api is not None and service.name == "timeseries_writer"
    service.close()


def test_timestream_is_chosen_by_the_environment(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRIBUTARY_STORE=timestream`` writes to Timestream and reads through its query API."""
    monkeypatch.setenv("TRIBUTARY_STORE", "timestream")
    built = build_store(SeriesSettings())  # type: ignore[call-arg]
    assert isinstance(built.store, TimestreamSeriesStore)
    reader = vars(built.reader)["_port"]  # inside its tracing wrapper
    assert isinstance(reader, TimestreamSeriesReader)
    assert reader._client.meta.service_model.service_name == "timestream-query"
    assert not (env / "series.duckdb").exists()


def test_influx_gets_its_token_as_a_header(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRIBUTARY_STORE=influx``: the token is a secret setting, sent as ``Authorization: Token``."""
    monkeypatch.setenv("TRIBUTARY_STORE", "influx")
    monkeypatch.setenv("TRIBUTARY_INFLUX_TOKEN", "s3cret")
    settings = SeriesSettings()  # type: ignore[call-arg]
    assert "s3cret" not in repr(settings)
    built = build_store(settings)
    assert isinstance(built.store, InfluxSeriesStore)
    assert built.store._client.headers["Authorization"] == "Token s3cret"
    built.close()


def test_influx_reads_with_the_reader_token_from_the_bucket_database(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader has its own token (read-only), and queries the bucket's DBRP database by default."""
    monkeypatch.setenv("TRIBUTARY_STORE", "influx")
    monkeypatch.setenv("TRIBUTARY_INFLUX_TOKEN", "writer")
    monkeypatch.setenv("TRIBUTARY_INFLUX_READER_TOKEN", "reader")
    built = build_store(SeriesSettings())  # type: ignore[call-arg]
    reader = vars(built.reader)["_port"]  # inside its tracing wrapper
    assert isinstance(reader, InfluxSeriesReader)
    assert reader._client.headers["Authorization"] == "Token reader"
    assert reader._params["db"] == "series"
    built.close()


def test_the_window_is_configurable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRIBUTARY_MAX_PAST_S`` and ``TRIBUTARY_MAX_FUTURE_S`` set the handler's window."""
    monkeypatch.setenv("TRIBUTARY_MAX_PAST_S", "3600")
    monkeypatch.setenv("TRIBUTARY_MAX_FUTURE_S", "60")
    service = build(SeriesSettings())  # type: ignore[call-arg]
    assert isinstance(service.handler, SeriesWriter)
    assert service.handler._window.max_past == timedelta(hours=1)
    assert service.handler._window.max_future == timedelta(minutes=1)
    service.close()


def test_the_service_imports_only_its_configured_store_client() -> None:
    """Importing the service (as ``tributary-service`` does) pulls in no store's client library: DuckDB,
    httpx (InfluxDB) and tenacity (Timestream) come with the store that is built; each counts against the
    150 MB budget."""
    code = (
        "import sys, shared.run, timeseries_writer.bootstrap\n"
        "print(sorted(m for m in ('duckdb', 'httpx', 'tenacity') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
