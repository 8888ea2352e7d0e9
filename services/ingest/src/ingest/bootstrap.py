"""The only place ingest reads settings and builds clients."""

from __future__ import annotations

from pydantic import Field

from ingest.adapters.eventbridge import EventBridgePublisher
from ingest.app import create_app
from ingest.domain import Limits
from ingest.manifest import MANIFEST
from shared import aws
from shared.metrics import Registry
from shared.service import Service
from shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    """ingest's settings (``TRIBUTARY_*``)."""

    service: str = MANIFEST.name
    bus_name: str = "tributary"
    max_events_per_request: int = Field(default=500, ge=1, le=10_000)
    max_event_bytes: int = Field(default=256 * 1024, ge=1024, le=1024 * 1024)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_put_request_bytes: int = Field(default=256 * 1024, ge=1024, le=1024 * 1024)
    put_attempts: int = Field(default=5, ge=1, le=20)
    put_concurrency: int = Field(default=8, ge=1, le=64)


def build(settings: IngestSettings) -> Service:
    """The ingest API wired to the real bus (an HTTP-only service: no queue)."""
    publisher = EventBridgePublisher(
        client=aws.client("events", max_pool_connections=settings.put_concurrency * 2),
        bus_name=settings.bus_name,
        max_request_bytes=settings.max_put_request_bytes,
        max_attempts=settings.put_attempts,
        concurrency=settings.put_concurrency,
    )
    limits = Limits(max_events=settings.max_events_per_request, max_event_bytes=settings.max_event_bytes)
    app = create_app(
        publisher=publisher,
        limits=limits,
        max_body_bytes=settings.max_body_bytes,
        tracer=settings.tracer(),
        registry=Registry(),
    )
    return Service(name=MANIFEST.name, settings=settings, api=app)
