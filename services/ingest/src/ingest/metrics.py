"""ingest's metrics: per request, an EMF block on the ``events_received`` log line and Prometheus counters."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from shared.metrics import COUNT, LATENCY_BUCKETS, MILLISECONDS, Registry, emf


class IngestMetrics:
    """Requests by status, events by outcome, and request latency."""

    def __init__(self, registry: Registry, *, service: str = "ingest") -> None:
        self._service = service
        self._requests = Counter(
            "tributary_ingest_requests",
            "POST /v1/events requests, by status",
            ["service", "status"],
            registry=registry.prometheus,
        )
        self._events = Counter(
            "tributary_ingest_events",
            "Events received, by outcome",
            ["service", "outcome"],
            registry=registry.prometheus,
        )
        self._latency = Histogram(
            "tributary_ingest_request_seconds",
            "Time to answer POST /v1/events",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=registry.prometheus,
        )

    def request(
        self, *, status: int, accepted: int, rejected: int, bus_failures: int, seconds: float
    ) -> dict[str, Any]:
        """Count one answered request; returns the EMF fields for its log line."""
        self._requests.labels(self._service, str(status)).inc()
        for outcome, n in (
            ("accepted", accepted),
            ("rejected", rejected - bus_failures),
            ("bus_failed", bus_failures),
        ):
            self._events.labels(self._service, outcome).inc(n)
        self._latency.labels(self._service).observe(seconds)
        return emf(
            {
                "Accepted": (float(accepted), COUNT),
                "Rejected": (float(rejected), COUNT),
                "BusFailures": (float(bus_failures), COUNT),
                "RequestLatency": (round(seconds * 1000, 3), MILLISECONDS),
            },
            dimensions={"service": self._service},
        )
