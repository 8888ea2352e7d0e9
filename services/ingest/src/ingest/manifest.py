"""ingest's manifest: an HTTP service that consumes no queue."""

from __future__ import annotations

from shared.manifest import ServiceManifest

MANIFEST = ServiceManifest(name="ingest", module="ingest.main", http=True, url_key="ingest_url")
