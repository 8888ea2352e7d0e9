"""Settings from the environment (``TRIBUTARY_*``), read only in a service's bootstrap."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.batching import BatchLimits
from shared.breaker import CircuitBreaker
from shared.httpserver import ServerLimits
from shared.outcomes import RetryPolicy
from shared.tracing import Tracer, udp_emitter
from shared.worker import PollSettings


class ServiceSettings(BaseSettings):
    """What every service process reads: its name, where it keeps files, where it serves HTTP."""

    model_config = SettingsConfigDict(env_prefix="TRIBUTARY_", extra="ignore", frozen=True)

    service: str
    data_dir: Path = Path(".tributary/services")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="0: no HTTP server (workers)")
    log_level: str = "INFO"
    trace_enabled: bool = True
    trace_sample_rate: float = Field(default=0.05, ge=0, le=1, description="share of new traces recorded")
    trace_fixed_target_per_s: int = Field(default=1, ge=0, description="traces recorded each second first")
    xray_daemon_address: str = Field(
        default="127.0.0.1:2000",
        validation_alias=AliasChoices("AWS_XRAY_DAEMON_ADDRESS", "TRIBUTARY_XRAY_DAEMON_ADDRESS"),
    )
    header_timeout_s: float = Field(default=10.0, gt=0, le=300, description="to send a request's headers")
    keep_alive_s: float = Field(default=5.0, gt=0, le=3600)
    max_connections: int = Field(default=1000, ge=1, description="beyond it, new requests get a 503")
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    aws_lean_calls: bool = Field(
        default=True,
        description="the per-event AWS calls (SQS, PutEvents, DynamoDB claims) through shared.awsjson; "
        "false: through boto3, as every other call",
    )

    def server_limits(self) -> ServerLimits:
        """The bounds of this service's HTTP server (:mod:`shared.httpserver`)."""
        return ServerLimits(
            header_timeout_s=self.header_timeout_s,
            keep_alive_s=self.keep_alive_s,
            max_connections=self.max_connections,
            max_header_bytes=self.max_header_bytes,
        )

    def tracer(self) -> Tracer:
        """This service's tracer: UDP to the X-Ray daemon, or off (``TRIBUTARY_TRACE_ENABLED=false``)."""
        return Tracer(
            service=self.service,
            emitter=udp_emitter(self.xray_daemon_address) if self.trace_enabled else None,
            sample_rate=self.trace_sample_rate,
            fixed_target_per_s=self.trace_fixed_target_per_s,
        )


class WorkerSettings(ServiceSettings):
    """A queue worker's settings; services subclass it to add their store's and to change defaults."""

    queue_url: str
    dlq_url: str
    pollers: int = Field(default=2, ge=1, le=32)
    receive_wait_s: int = Field(default=5, ge=0, le=20)
    visibility_timeout_s: int = Field(default=60, ge=5, le=43200)
    batch_max_events: int = Field(default=100, ge=1, le=10000)
    batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    batch_max_wait_ms: int = Field(default=500, ge=0, le=900_000)
    batch_flush_when_drained: bool = Field(
        default=True, description="hand a batch over as soon as a receive finds the queue drained"
    )
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_base_s: float = Field(default=2.0, ge=0)
    backoff_max_s: float = Field(default=300.0, ge=1, le=43200)
    breaker_threshold: int = Field(default=3, ge=1, le=100, description="outage batches in a row to open")
    breaker_open_s: float = Field(default=5.0, gt=0, le=3600, description="first cooldown before a probe")
    breaker_open_max_s: float = Field(default=60.0, gt=0, le=3600, description="longest cooldown")

    def lambda_refusal(self) -> str | None:
        """Why these settings cannot run under AWS Lambda (an embedded store would live in one execution
        environment's ``/tmp`` and vanish with it), or ``None``; checked before anything is built."""
        return None

    def limits(self) -> BatchLimits:
        return BatchLimits(
            max_events=self.batch_max_events,
            max_bytes=self.batch_max_bytes,
            max_wait_ms=self.batch_max_wait_ms,
            flush_when_drained=self.batch_flush_when_drained,
        )

    def poll(self) -> PollSettings:
        return PollSettings(
            pollers=self.pollers, wait_s=self.receive_wait_s, visibility_timeout_s=self.visibility_timeout_s
        )

    def breaker(self) -> CircuitBreaker:
        """A fresh circuit breaker for the worker (see :mod:`shared.breaker`)."""
        return CircuitBreaker(
            threshold=self.breaker_threshold,
            open_s=self.breaker_open_s,
            max_open_s=max(self.breaker_open_max_s, self.breaker_open_s),
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
        )
