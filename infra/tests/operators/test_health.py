"""Topology and status over moto: rules and targets as the endpoint has them, counts, oldest ages, health."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from contracts import Envelope
from shared.manifest import ServiceManifest, Subscription
from tributary.operators.health import cloudwatch_age, queue_status, topology, worker_health
from tributary.operators.target import Target, aws_target
from tributary.provision import provision

MANIFESTS = [
    ServiceManifest(name="archiver", consumes=(Subscription(type="*"),)),
    ServiceManifest(name="ingest", http=True),
    ServiceManifest(name="probe", consumes=(Subscription(type="sensor.reading", versions=(1, 2)),)),
]


@pytest.fixture
def target(aws: None) -> Target:
    """archiver and probe provisioned as the stack does; ghost installed but never provisioned."""
    clients = {name: boto3.client(name, region_name="us-east-1") for name in ("sqs", "events", "s3")}
    provision(**clients, bucket="archive-bucket", bus_name="tributary", manifests=MANIFESTS)
    ghost = ServiceManifest(name="ghost", consumes=(Subscription(type="a.b", versions=(1,)),))
    return aws_target(
        profile=None,
        region="us-east-1",
        bus_name="tributary",
        bucket="archive-bucket",
        manifests=[*MANIFESTS, ghost],
    )


def test_topology_lists_what_each_service_consumes_and_checks_its_rule(target: Target) -> None:
    """Workers with queue, DLQ, rule state and target; HTTP services; what is missing, said."""
    rows = {r.name: r for r in topology(target)}
    assert rows["probe"].consumes == ["sensor.reading v1,2"]
    assert rows["probe"].queue is not None and rows["probe"].queue.dlq_name == "tributary-probe-dlq"
    assert (rows["probe"].rule, rows["probe"].rule_state, rows["probe"].rule_targets) == (
        "tributary-probe",
        "ENABLED",
        ["tributary-probe"],
    )
    assert rows["archiver"].consumes == ["* (every event)"] and rows["archiver"].problems == []
    assert rows["ingest"].http and rows["ingest"].queue is None
    assert rows["ghost"].queue is None
    assert any("no queue 'tributary-ghost'" in p for p in rows["ghost"].problems)


def test_status_counts_and_peeks_the_dlq_age_but_not_the_queue(
    target: Target, fill: Callable[..., list[Envelope]]
) -> None:
    """Moto has no SQS metrics: the DLQ's age comes from a peek; the source queue is not peeked by default."""
    sqs = target.client("sqs")
    queue = target.queue_pair("archiver")
    sqs.send_message(QueueUrl=queue.url, MessageBody="{}")
    for i in range(3):
        sqs.send_message(QueueUrl=queue.dlq_url, MessageBody=json.dumps({"n": i}))
    rows = {(r.service, r.kind): r for r in queue_status(target)}
    dlq = rows["archiver", "dlq"]
    assert dlq.counts is not None and dlq.counts.visible == 3
    assert dlq.age.source == "peek" and dlq.age.seconds is not None and 0 <= dlq.age.seconds < 60
    assert rows["archiver", "queue"].age.source == "peek (skipped)"
    assert rows["probe", "dlq"].age.source == "empty"
    assert rows["ghost", "queue"].error and "no queue" in rows["ghost", "queue"].error
    assert (
        sqs.get_queue_attributes(QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "3"
    )  # peeked and released
    peeked = {(r.service, r.kind): r for r in queue_status(target, peek_queues=True)}
    assert peeked["archiver", "queue"].age.source == "peek"


class Metrics:
    def __init__(self, points: list[dict[str, Any]]) -> None:
        self.points = points
        self.asked: dict[str, Any] = {}

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.asked = kwargs
        return {"Datapoints": self.points}


def test_cloudwatch_age_takes_the_latest_point() -> None:
    """The newest datapoint's Maximum, for the queue's name."""
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    metrics = Metrics(
        [
            {"Timestamp": now - timedelta(minutes=2), "Maximum": 50.0},
            {"Timestamp": now - timedelta(minutes=1), "Maximum": 110.0},
        ]
    )
    assert cloudwatch_age(metrics, "tributary-archiver-dlq", now=now) == 110.0
    assert metrics.asked["Dimensions"] == [{"Name": "QueueName", "Value": "tributary-archiver-dlq"}]
    assert cloudwatch_age(Metrics([]), "q", now=now) is None


def test_worker_health_reads_each_replica() -> None:
    """200 is ok; 503 and a refused connection are reported as such."""
    answers: dict[str, Any] = {
        "http://a/healthz": httpx.Response(200),
        "http://b/healthz": httpx.Response(503),
    }

    def get(url: str) -> httpx.Response:
        if url not in answers:
            raise httpx.ConnectError("refused")
        return answers[url]  # type: ignore[no-any-return]

    health = worker_health(
        {"archiver": ["http://a", "http://b"], "ingest": ["http://c"]},
        restarts={"archiver": [(0, None), (2, "exited with code 1")]},
        get=get,
    )
    assert [(h.service, h.ok, h.detail, h.restarts, h.last_exit) for h in health] == [
        ("archiver", True, "200", 0, None),
        ("archiver", False, "503", 2, "exited with code 1"),
        ("ingest", False, "ConnectError", 0, None),
    ]
