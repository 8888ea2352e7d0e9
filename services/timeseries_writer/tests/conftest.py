"""Fixtures for timeseries_writer's tests: a fixed "now" near the samples, and every series store in turn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from timeseries_writer.adapters.duckdb import DuckDBSeriesStore
from timeseries_writer.testing import InMemorySeriesStore

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
"""A day after the sample events' times, so they fall inside the accepted window."""


@pytest.fixture(params=["in-memory", "duckdb"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[InMemorySeriesStore | DuckDBSeriesStore]:
    """Each store that is both SeriesStore and SeriesReader, empty."""
    if request.param == "in-memory":
        yield InMemorySeriesStore()
        return
    duck = DuckDBSeriesStore(tmp_path / "series.duckdb")
    yield duck
    duck.close()
