"""notifier's manifest: every event type its rules may match, and the SNS topic it publishes alerts to.

A rule in the rules file may only match a type and version listed here: the loader refuses the file
otherwise, since the bus would never deliver those events to the notifier's queue.
"""

from __future__ import annotations

from shared.manifest import QueueSettings, ServiceManifest, Subscription

MANIFEST = ServiceManifest(
    name="notifier",
    builder="notifier.bootstrap:build",
    settings="notifier.bootstrap:NotifierSettings",
    consumes=(
        Subscription(type="sensor.reading", versions=(1, 2)),
        Subscription(type="trade.completed", versions=(1,)),
        Subscription(type="cat.sighting", versions=(1,)),
        Subscription(type="ops.dlq_depth", versions=(1,)),
    ),
    queue=QueueSettings(visibility_timeout_s=60),
    url_key="notifier_url",
    topics=("alerts",),
    state_table=True,
)
