"""Tests of the manifest: it subscribes to what the handlers map (and the older versions upcast to it), and
names its URL and retention."""

from __future__ import annotations

from timeseries_writer.domain import MAPPED
from timeseries_writer.manifest import MANIFEST, RETENTION


def test_the_newest_subscribed_versions_are_exactly_the_mapped_contracts() -> None:
    """The handlers map the newest subscribed version of each type; the rule routes every version."""
    newest = {(s.type, max(s.versions)) for s in MANIFEST.consumes}
    assert newest == set(MAPPED)
    assert MANIFEST.event_pattern() == {
        "detail-type": ["cat.sighting.v1", "order.placed.v1", "sensor.reading.v1", "sensor.reading.v2"]
    }


def test_the_read_api_is_published_as_series_url() -> None:
    """The service serves HTTP and its URL goes into stack.json as ``series_url``."""
    assert MANIFEST.http is True and MANIFEST.url_key == "series_url"
    assert MANIFEST.builder == "timeseries_writer.bootstrap:build"


def test_retention_is_a_day_in_memory_and_a_year_on_magnetic() -> None:
    """The values the Timestream table is provisioned with."""
    assert (RETENTION.memory_store_hours, RETENTION.magnetic_store_days) == (24, 365)
    assert RETENTION.magnetic_store_writes is True
