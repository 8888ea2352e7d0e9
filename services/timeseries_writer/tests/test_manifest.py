"""Tests of the manifest: it subscribes to exactly what the handlers map, and names its URL and retention."""

from __future__ import annotations

from timeseries_writer.handlers import MAPPED
from timeseries_writer.manifest import MANIFEST, RETENTION


def test_the_subscription_is_exactly_the_mapped_contracts() -> None:
    """Every mapped (type, version) is consumed, and nothing else is."""
    consumed = {(s.type, v) for s in MANIFEST.consumes for v in s.versions}
    assert consumed == set(MAPPED)
    assert MANIFEST.event_pattern() == {
        "detail-type": ["cat.sighting.v1", "order.placed.v1", "sensor.reading.v1"]
    }


def test_the_read_api_is_published_as_series_url() -> None:
    """The service serves HTTP and its URL goes into stack.json as ``series_url``."""
    assert MANIFEST.http is True and MANIFEST.url_key == "series_url"
    assert MANIFEST.module == "timeseries_writer.main"


def test_retention_is_a_day_in_memory_and_a_year_on_magnetic() -> None:
    """The values the Timestream table is provisioned with."""
    assert (RETENTION.memory_store_hours, RETENTION.magnetic_store_days) == (24, 365)
    assert RETENTION.magnetic_store_writes is True
