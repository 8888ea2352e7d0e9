"""Provisioning against a real LocalStack: idempotence, pattern routing, redrive to the DLQ."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest

from shared.manifest import QueueSettings, ServiceManifest, Subscription
from tributary.aws import emulator_client
from tributary.localstack import LocalStackEmulator
from tributary.provision import TARGET_ID, Topology, provision

ARCHIVER = ServiceManifest(name="archiver", consumes=(Subscription(type="*"),))
SENSORS = ServiceManifest(
    name="sensors",
    consumes=(Subscription(type="sensor.reading", versions=(1, 2)),),
    queue=QueueSettings(visibility_timeout_s=30, max_receive_count=2, retention_s=3600),
    topics=("alerts",),
)
INGEST = ServiceManifest(name="ingest", http=True)
MANIFESTS = [ARCHIVER, INGEST, SENSORS]


@pytest.fixture(scope="module")
def clients(localstack: LocalStackEmulator) -> dict[str, Any]:
    return {name: emulator_client(name, localstack.endpoint) for name in ("sqs", "events", "s3", "sns")}


def _provision(clients: dict[str, Any], bus: str) -> Topology:
    return provision(**clients, bucket=f"{bus}-archive", bus_name=bus, manifests=MANIFESTS)


@pytest.fixture
def topology(clients: dict[str, Any]) -> Topology:
    return _provision(clients, f"t{secrets.token_hex(4)}")


def _envelope(type_: str, version: int) -> str:
    return json.dumps({"id": secrets.token_hex(8), "type": type_, "version": version, "data": {}})


def _put(clients: dict[str, Any], bus: str, detail_type: str, detail: str) -> None:
    entry = {"EventBusName": bus, "Source": "test", "DetailType": detail_type, "Detail": detail}
    result = clients["events"].put_events(Entries=[entry])
    assert result["FailedEntryCount"] == 0


def _drain(sqs: Any, url: str, *, expect: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Receive (and delete) until ``expect`` messages arrived or the timeout passed."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expect and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for msg in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        got.extend(msgs)
    return got


def _depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_provision_creates_one_queue_per_worker(topology: Topology) -> None:
    """Workers get a queue, a DLQ and a rule; HTTP-only services get none."""
    assert sorted(topology.queues) == ["archiver", "sensors"]
    queue = topology.queues["sensors"]
    assert queue.url.endswith(f"/{topology.bus_name}-sensors")
    assert queue.dlq_url.endswith(f"/{topology.bus_name}-sensors-dlq")
    assert queue.rule_name == f"{topology.bus_name}-sensors"
    assert topology.bus_arn.endswith(f":event-bus/{topology.bus_name}")


def test_provision_is_idempotent(clients: dict[str, Any], topology: Topology) -> None:
    """A second run returns the same topology and leaves exactly one target per rule."""
    again = _provision(clients, topology.bus_name)
    assert again == topology
    for queue in topology.queues.values():
        targets = clients["events"].list_targets_by_rule(Rule=queue.rule_name, EventBusName=topology.bus_name)
        assert [t["Id"] for t in targets["Targets"]] == [TARGET_ID]


def test_queue_settings_come_from_the_manifest(clients: dict[str, Any], topology: Topology) -> None:
    """Visibility, retention, redrive and the rule-scoped send policy are set on the queue."""
    queue = topology.queues["sensors"]
    attrs = clients["sqs"].get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MessageRetentionPeriod"] == "3600"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue.dlq_arn
    assert int(redrive["maxReceiveCount"]) == 2
    statement = json.loads(attrs["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == queue.rule_arn


def test_rule_target_has_retry_policy_and_dlq(clients: dict[str, Any], topology: Topology) -> None:
    """Delivery failures are retried, then dead-lettered to the service's DLQ."""
    queue = topology.queues["archiver"]
    (target,) = clients["events"].list_targets_by_rule(Rule=queue.rule_name, EventBusName=topology.bus_name)[
        "Targets"
    ]
    assert target["Arn"] == queue.arn
    assert target["DeadLetterConfig"] == {"Arn": queue.dlq_arn}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
    rule = clients["events"].describe_rule(Name=queue.rule_name, EventBusName=topology.bus_name)
    assert json.loads(rule["EventPattern"]) == ARCHIVER.event_pattern()


def test_events_are_routed_by_pattern(clients: dict[str, Any], topology: Topology) -> None:
    """The archiver gets every envelope; a detail-type list routes only the listed versions."""
    bus, sqs = topology.bus_name, clients["sqs"]
    _put(clients, bus, "sensor.reading.v1", _envelope("sensor.reading", 1))
    _put(clients, bus, "sensor.reading.v2", _envelope("sensor.reading", 2))
    _put(clients, bus, "sensor.reading.v3", _envelope("sensor.reading", 3))
    _put(clients, bus, "order.placed.v1", _envelope("order.placed", 1))
    _put(clients, bus, "foreign.v1", json.dumps({"no": "id"}))

    archived = _drain(sqs, topology.queues["archiver"].url, expect=4)
    sensors = _drain(sqs, topology.queues["sensors"].url, expect=2)
    assert sorted(json.loads(m["Body"])["detail"]["type"] for m in archived) == [
        "order.placed",
        "sensor.reading",
        "sensor.reading",
        "sensor.reading",
    ]
    assert sorted(json.loads(m["Body"])["detail-type"] for m in sensors) == [
        "sensor.reading.v1",
        "sensor.reading.v2",
    ]
    time.sleep(0.5)  # anything routed wrongly would have arrived by now
    assert _depth(sqs, topology.queues["sensors"].url) == 0
    assert _depth(sqs, topology.queues["archiver"].url) == 0


def test_message_received_too_often_lands_in_the_dlq(clients: dict[str, Any], topology: Topology) -> None:
    """After maxReceiveCount receives without a delete, SQS moves the message to the DLQ."""
    sqs, queue = clients["sqs"], topology.queues["sensors"]
    _put(clients, topology.bus_name, "sensor.reading.v1", _envelope("sensor.reading", 1))
    receives = 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=queue.url, WaitTimeSeconds=1, VisibilityTimeout=0).get(
            "Messages", []
        )
        receives += len(msgs)
        if not msgs and receives >= SENSORS.queue.max_receive_count:
            break
    assert receives == SENSORS.queue.max_receive_count
    (dead,) = _drain(sqs, queue.dlq_url, expect=1)
    assert json.loads(dead["Body"])["detail-type"] == "sensor.reading.v1"


def test_declared_topics_are_created_once(clients: dict[str, Any], topology: Topology) -> None:
    """A manifest's topics exist after provisioning, and provisioning again gives the same ARNs."""
    arn = topology.topics["sensors"]["alerts"]
    assert arn.endswith(f":{topology.bus_name}-sensors-alerts")
    assert clients["sns"].get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    assert _provision(clients, topology.bus_name).topics == topology.topics
    assert set(topology.topics) == {"sensors"}
