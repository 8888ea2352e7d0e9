"""archiver's manifest: it consumes every event on the bus; its idempotency ledger is its state table."""

from __future__ import annotations

from shared.manifest import QueueSettings, ServiceManifest, Subscription

MANIFEST = ServiceManifest(
    name="archiver",
    builder="archiver.bootstrap:build",
    settings="archiver.bootstrap:ArchiverSettings",
    consumes=(Subscription(type="*"),),
    queue=QueueSettings(visibility_timeout_s=120),
    state_table=True,
)
