"""ingest's manifest: an HTTP service that consumes no queue."""

from __future__ import annotations

from shared.manifest import ServiceManifest

MANIFEST = ServiceManifest(
    name="ingest",
    builder="ingest.bootstrap:build",
    settings="ingest.bootstrap:IngestSettings",
    http=True,
    url_key="ingest_url",
)
