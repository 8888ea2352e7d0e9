"""The only place ingest reads settings and builds clients."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from ingest.adapters.eventbridge import EventBridgePublisher
from ingest.app import create_app
from ingest.auth import Authenticator
from ingest.domain import Limits
from ingest.manifest import MANIFEST
from ingest.ratelimit import RateLimit, RateLimiter
from shared import aws
from shared.boundedjson import JsonLimits
from shared.credential_stores import SECRETS_MANAGER, credential_store
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
    auth_enabled: bool = Field(default=True, description="false only behind something that authenticates")
    auth_store: str = Field(
        default="", description="credential store: a file path or secretsmanager:<name or ARN>"
    )
    auth_refresh_s: float = Field(default=5.0, gt=0, le=300)
    rate_limit_events_per_s: float = Field(default=5000.0, gt=0, description="per producer and process")
    rate_limit_burst: int = Field(default=50_000, ge=1)
    json_max_depth: int = Field(default=32, ge=4, le=512)
    json_max_keys: int = Field(default=1000, ge=16)
    json_max_number_digits: int = Field(default=40, ge=20, le=4000)
    body_timeout_s: float = Field(default=30.0, gt=0, le=900)

    @model_validator(mode="after")
    def _burst_holds_a_request(self) -> IngestSettings:
        if self.rate_limit_burst < self.max_events_per_request:
            raise ValueError("rate_limit_burst must be at least max_events_per_request")
        return self

    def credential_location(self) -> str:
        """Where the credentials are: ``auth_store``, else ``producers.json`` in the data folder."""
        return self.auth_store or str(Path(self.data_dir) / "producers.json")


def build_authenticator(settings: IngestSettings) -> Authenticator | None:
    """The authenticator over the configured credential store (``None`` with auth disabled)."""
    if not settings.auth_enabled:
        return None
    location = settings.credential_location()
    client = aws.client("secretsmanager") if location.startswith(SECRETS_MANAGER) else None
    return Authenticator(credential_store(location, client=client), refresh_s=settings.auth_refresh_s)


def build(settings: IngestSettings) -> Service:
    """The ingest API wired to the real bus (an HTTP-only service: no queue)."""
    pool = settings.put_concurrency * 2
    lean = aws.lean_api("events", enabled=settings.aws_lean_calls, max_pool_connections=pool)
    publisher = EventBridgePublisher(
        client=lean or aws.client("events", max_pool_connections=pool),
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
        authenticator=build_authenticator(settings),
        rate_limiter=RateLimiter(
            RateLimit(rate=settings.rate_limit_events_per_s, burst=settings.rate_limit_burst)
        ),
        json_limits=JsonLimits(
            max_depth=settings.json_max_depth,
            max_keys=settings.json_max_keys,
            max_number_chars=settings.json_max_number_digits,
        ),
        body_timeout_s=settings.body_timeout_s,
    )
    return Service(name=MANIFEST.name, settings=settings, api=app)
