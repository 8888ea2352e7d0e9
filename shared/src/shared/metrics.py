"""Metrics operators watch: CloudWatch EMF log lines per batch, and a Prometheus ``/metrics`` page.

An EMF line is a structured log line with an ``_aws`` block naming which of its top-level keys are metrics
(namespace ``Tributary``, dimension ``service``); CloudWatch Logs turns it into metrics with no agent or
API call, and locally it is just another JSON line on stdout. The same numbers accumulate in a per-process
Prometheus registry that ``/metrics`` serves beside ``/healthz``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

from contracts import Envelope
from shared.health import PROMETHEUS_CONTENT_TYPE
from shared.observe import QUEUE, BatchReport

__all__ = ["PROMETHEUS_CONTENT_TYPE", "BatchMetrics", "Registry", "emf", "spread"]

log = structlog.get_logger()

NAMESPACE = "Tributary"
EMF_MAX_VALUES = 100  # CloudWatch takes at most 100 values per metric in one EMF line
COUNT, MILLISECONDS = "Count", "Milliseconds"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

Value = float | list[float]


def emf(
    metrics: Mapping[str, tuple[Value, str]],
    *,
    dimensions: Mapping[str, str],
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """The fields of one EMF log line: ``_aws`` plus each metric's value and each dimension at top level.

    Args:
        metrics: name → (value or up to 100 values, CloudWatch unit).
        dimensions: name → value; one dimension set of all of them.
        timestamp_ms: when the values were observed (default: now).
    """
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }


def spread(values: Sequence[float], limit: int = EMF_MAX_VALUES) -> list[float]:
    """At most ``limit`` of ``values``, evenly spaced in sorted order (the minimum and maximum kept)."""
    ordered = sorted(values)
    if len(ordered) <= limit:
        return ordered
    return [ordered[round(i * (len(ordered) - 1) / (limit - 1))] for i in range(limit)]


class Registry:
    """One process's Prometheus registry (with the process collector: CPU, RSS, open files)."""

    def __init__(self) -> None:
        self.prometheus = CollectorRegistry()
        ProcessCollector(registry=self.prometheus)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.prometheus)


class BatchMetrics:
    """A :class:`~shared.observe.BatchSink`: one EMF line per batch, and the Prometheus counters.

    Metrics: ``Processed`` (stored), ``Failed`` (retried + dead-lettered), ``Retried``, ``DeadLettered``,
    ``BatchSize``, ``StoreLatency`` (time in the store calls of traced ports, not the queue's),
    ``EndToEndLag`` (ingest accepted the event, ``ingested_at`` → its batch settled; one value per stored
    event, at most 100). It is the platform's own delay: an event's ``time`` is the producer's, hours or days
    old for a device that buffered or a replay from the archive, and would read as a backlog.
    """

    def __init__(self, registry: Registry, *, service: str) -> None:
        self._service = service
        labels = ["service"]
        self._messages = Counter(
            "tributary_messages",
            "Messages handled, by outcome",
            [*labels, "outcome"],
            registry=registry.prometheus,
        )
        self._batches = Counter("tributary_batches", "Batches handled", labels, registry=registry.prometheus)
        self._size = Histogram(
            "tributary_batch_size",
            "Messages per batch",
            labels,
            buckets=SIZE_BUCKETS,
            registry=registry.prometheus,
        )
        self._store = Histogram(
            "tributary_store_seconds",
            "Time a batch spent in store calls",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry.prometheus,
        )
        self._lag = Histogram(
            "tributary_end_to_end_lag_seconds",
            "From ingest accepting an event to its batch being settled",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry.prometheus,
        )

    def __call__(self, report: BatchReport) -> None:
        outcomes = report.outcomes
        stored_ids = {m.message_id for m in outcomes.done}
        lags = [
            report.ended - e.ingested_at.timestamp()
            for mid, e in report.envelopes.items()
            if mid in stored_ids and isinstance(e, Envelope)
        ]
        store_s = sum(c.end - c.start for c in report.calls if c.name != QUEUE)
        counts = {
            "Processed": len(outcomes.done),
            "Failed": len(outcomes.retry) + len(outcomes.dead),
            "Retried": len(outcomes.retry),
            "DeadLettered": len(outcomes.dead),
            "BatchSize": len(report.messages),
        }
        service = self._service
        for outcome, key in (
            ("stored", "Processed"),
            ("retried", "Retried"),
            ("dead_lettered", "DeadLettered"),
        ):
            self._messages.labels(service, outcome).inc(counts[key])
        self._batches.labels(service).inc()
        self._size.labels(service).observe(len(report.messages))
        self._store.labels(service).observe(store_s)
        for lag in lags:
            self._lag.labels(service).observe(max(lag, 0.0))
        metrics: dict[str, tuple[Value, str]] = {k: (float(v), COUNT) for k, v in counts.items()}
        metrics["StoreLatency"] = (round(store_s * 1000, 3), MILLISECONDS)
        if lags:
            metrics["EndToEndLag"] = ([round(max(v, 0.0) * 1000, 1) for v in spread(lags)], MILLISECONDS)
        log.info(
            "batch_metrics", **emf(metrics, dimensions={"service": service}, timestamp_ms=_ms(report.ended))
        )


def _ms(epoch_s: float) -> int:
    return math.floor(epoch_s * 1000)
