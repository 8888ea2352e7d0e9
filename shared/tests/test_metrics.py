"""Tests of the metrics: EMF lines CloudWatch accepts, and Prometheus text a scraper parses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from contracts import Envelope
from shared.errors import RetryableError
from shared.health import HealthServer
from shared.metrics import BatchMetrics, Registry, emf, spread
from shared.observe import BatchObserver, traced
from shared.outcomes import RetryPolicy
from shared.processing import BatchProcessor
from shared.testing import InMemoryQueue
from shared.testkit.emf import check_emf
from shared.testkit.envelopes import envelope, rule_body


class SlowStore:
    def write(self, events: Sequence[Envelope]) -> None:
        """Stores instantly; the traced wrapper still times it."""


def _rendered(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The log line as the JSON renderer writes it to stdout, parsed back."""
    line = structlog.processors.JSONRenderer()(None, "info", dict(entry))
    assert isinstance(line, str) and "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by name and labels (the parser raises on bad syntax)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _run_batch(metrics: BatchMetrics, *, fail: set[int]) -> list[dict[str, Any]]:
    queue = InMemoryQueue()
    now = datetime.now(UTC)
    # Accepted 2-6 s ago, produced hours before that (a buffered device): the lag is the platform's part.
    events = [
        envelope(time=now - timedelta(hours=5), ingested_at=now - timedelta(seconds=2 + i)) for i in range(5)
    ]
    for event in events:
        queue.send(rule_body(event))
    store = traced(SlowStore(), store="DuckDB")
    failing = {events[i].id for i in fail}

    def handler(batch: Sequence[Envelope]) -> Mapping[str, Exception]:
        store.write(batch)
        return {e.id: RetryableError("busy") for e in batch if e.id in failing}

    processor = BatchProcessor(
        queue=queue,
        handler=handler,
        service="svc",
        policy=RetryPolicy(),
        observer=BatchObserver(service="svc", sinks=[metrics]),
    )
    with capture_logs() as logs:
        processor.process(queue.receive(max_messages=10, wait_s=0))
    return [_rendered(entry) for entry in logs if entry["event"] == "batch_metrics"]


def test_a_batch_writes_one_valid_emf_line() -> None:
    """The line is valid EMF (namespace, dimension, units, values at top level) with the batch's numbers."""
    [line] = _run_batch(BatchMetrics(Registry(), service="svc"), fail={0})
    values = check_emf(line)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Tributary" and directive["Dimensions"] == [["service"]]
    assert line["service"] == "svc"
    assert {k: values[k] for k in ("Processed", "Failed", "Retried", "DeadLettered", "BatchSize")} == {
        "Processed": 4,
        "Failed": 1,
        "Retried": 1,
        "DeadLettered": 0,
        "BatchSize": 5,
    }
    lags = values["EndToEndLag"]
    assert isinstance(lags, list) and len(lags) == 4 and all(2000 <= lag < 60_000 for lag in lags)
    assert isinstance(values["StoreLatency"], float) and values["StoreLatency"] >= 0
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units["EndToEndLag"] == units["StoreLatency"] == "Milliseconds" and units["Processed"] == "Count"


def test_the_emf_checker_rejects_a_metric_without_a_value() -> None:
    """A declared metric missing at top level is invalid EMF (the checker can fail)."""
    line = emf({"Processed": (1.0, "Count")}, dimensions={"service": "svc"})
    del line["Processed"]
    with pytest.raises(AssertionError, match="Processed"):
        check_emf(line)


def test_spread_keeps_at_most_100_values_with_the_extremes() -> None:
    """Over 100 values, 100 evenly spaced ones are kept, the minimum and maximum among them."""
    values = [float(v) for v in range(1000, 0, -1)]
    kept = spread(values)
    assert len(kept) == 100 and kept[0] == 1.0 and kept[-1] == 1000.0 and kept == sorted(kept)
    assert spread([3.0, 1.0]) == [1.0, 3.0]


def test_prometheus_page_parses_and_counts_batches() -> None:
    """The exposition parses, and counts messages by outcome across batches."""
    registry = Registry()
    metrics = BatchMetrics(registry, service="svc")
    _run_batch(metrics, fail={0, 1})
    _run_batch(metrics, fail=set())
    samples = _samples(registry.exposition().decode())
    svc = (("service", "svc"),)
    assert samples[("tributary_messages_total", (("outcome", "stored"), *svc))] == 8
    assert samples[("tributary_messages_total", (("outcome", "retried"), *svc))] == 2
    assert samples[("tributary_batches_total", svc)] == 2
    assert samples[("tributary_batch_size_count", svc)] == 2
    assert samples[("tributary_end_to_end_lag_seconds_count", svc)] == 8
    assert any(name == "process_resident_memory_bytes" for name, _ in samples)


def test_the_health_server_serves_metrics_beside_healthz() -> None:
    """/metrics answers Prometheus text on the worker's health port; /healthz is unchanged."""
    registry = Registry()
    _run_batch(BatchMetrics(registry, service="svc"), fail=set())
    server = HealthServer(host="127.0.0.1", port=0, check=lambda: {"ok": True}, metrics=registry.exposition)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        page = httpx.get(base + "/metrics")
        assert page.status_code == 200 and page.headers["content-type"].startswith(
            "text/plain; version=0.0.4"
        )
        assert _samples(page.text)[("tributary_batches_total", (("service", "svc"),))] == 1
        assert httpx.get(base + "/healthz").json() == {"ok": True}
        assert httpx.get(base + "/other").status_code == 404
    finally:
        server.stop()
