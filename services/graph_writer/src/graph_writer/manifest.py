"""graph_writer's manifest: the events that carry relationships, and its read API's URL (``graph_url``)."""

from __future__ import annotations

from shared.manifest import QueueSettings, ServiceManifest, Subscription

MANIFEST = ServiceManifest(
    name="graph_writer",
    builder="graph_writer.bootstrap:build",
    settings="graph_writer.bootstrap:GraphWriterSettings",
    consumes=(
        Subscription(type="device.registered", versions=(1,)),
        Subscription(type="sensor.reading", versions=(1, 2)),
        Subscription(type="cat.sighting", versions=(1,)),
        Subscription(type="trade.completed", versions=(1,)),
        Subscription(type="order.placed", versions=(1,)),
    ),
    http=True,
    url_key="graph_url",
    queue=QueueSettings(visibility_timeout_s=120),
)
