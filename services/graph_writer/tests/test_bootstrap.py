"""Tests of graph_writer's wiring: settings from the environment and the store each setting builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_writer.adapters.falkor import FalkorGraphStore
from graph_writer.adapters.neptune import NeptuneGraphStore
from graph_writer.bootstrap import GraphWriterSettings, build_store
from shared.service import StartupError

from .builders import batch_of, trade


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TRIBUTARY_QUEUE_URL", "http://127.0.0.1:1/q")
    monkeypatch.setenv("TRIBUTARY_DLQ_URL", "http://127.0.0.1:1/dlq")
    monkeypatch.setenv("TRIBUTARY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return tmp_path


def test_the_defaults_favour_few_large_writes(env: Path) -> None:
    """Embedded FalkorDB, 200 rows per call, batches of up to 1,000 events, every write fsynced."""
    settings = GraphWriterSettings()  # type: ignore[call-arg]
    assert settings.service == "graph_writer" and settings.graph_store == "falkordb"
    assert (settings.graph_rows_per_call, settings.batch_max_events) == (200, 1000)
    assert settings.falkordb_appendfsync == "always" and settings.visibility_timeout_s == 120


def test_the_local_store_lives_under_the_data_dir_and_closes(env: Path) -> None:
    """``<data_dir>/falkordb`` holds the server's files; closing stops it and frees the folder."""
    store, close = build_store(GraphWriterSettings())  # type: ignore[call-arg]
    try:
        assert isinstance(store, FalkorGraphStore)
        store.write(batch_of([trade("t1", ("p1", "LAL", "BOS"))]))
        assert (env / "falkordb" / "falkordb.sock").exists()
    finally:
        close()
    assert not (env / "falkordb" / "falkordb.sock").exists()
    store, close = build_store(GraphWriterSettings())  # type: ignore[call-arg]
    try:
        assert store.counts().relationships["TRADED_TO"] == 1
    finally:
        close()


def test_neptune_needs_its_endpoint(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neptune without an endpoint is a configuration error; with one, nothing connects yet."""
    monkeypatch.setenv("TRIBUTARY_GRAPH_STORE", "neptune")
    with pytest.raises(StartupError, match="TRIBUTARY_NEPTUNE_ENDPOINT"):
        build_store(GraphWriterSettings())  # type: ignore[call-arg]
    monkeypatch.setenv("TRIBUTARY_NEPTUNE_ENDPOINT", "https://neptune.example:8182")
    store, close = build_store(GraphWriterSettings())  # type: ignore[call-arg]
    assert isinstance(store, NeptuneGraphStore) and store.rows_per_call == 200
    close()


@pytest.mark.parametrize(("name", "value"), [("GRAPH_ROWS_PER_CALL", "500"), ("GRAPH_NAME", "a b")])
def test_out_of_range_settings_are_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Rows per call outside 100..200 and graph names that are not plain words are refused."""
    monkeypatch.setenv(f"TRIBUTARY_{name}", value)
    with pytest.raises(ValueError, match=name.lower()):
        GraphWriterSettings()  # type: ignore[call-arg]
