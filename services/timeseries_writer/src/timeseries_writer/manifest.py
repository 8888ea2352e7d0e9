"""timeseries_writer's manifest: the events that carry measurements, and its store's retention.

``RETENTION`` is what the Timestream table is provisioned with (the CDK stack reads it from here): the
memory store keeps 24 hours for fast recent queries, the magnetic store one year, with magnetic store writes
enabled so late points within the year are accepted. The handlers reject points older than the magnetic
retention (they could not be stored) by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.manifest import QueueSettings, ServiceManifest, Subscription


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long the time-series store keeps points, per tier."""

    memory_store_hours: int = 24
    magnetic_store_days: int = 365
    magnetic_store_writes: bool = True


RETENTION = Retention()

MANIFEST = ServiceManifest(
    name="timeseries_writer",
    builder="timeseries_writer.bootstrap:build",
    settings="timeseries_writer.bootstrap:SeriesSettings",
    consumes=(
        Subscription(type="sensor.reading", versions=(1, 2)),
        Subscription(type="cat.sighting", versions=(1,)),
        Subscription(type="order.placed", versions=(1,)),
    ),
    http=True,
    url_key="series_url",
    queue=QueueSettings(visibility_timeout_s=30),
)
