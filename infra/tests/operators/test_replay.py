"""Replay from the archive: which partitions are listed, which events are kept, where they go."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from archiver.domain import encode, object_key, partition_events
from contracts import Envelope
from shared.manifest import ServiceManifest, Subscription
from shared.messages import parse_envelope
from shared.testkit.envelopes import envelope
from tributary.operators.ratelimit import TokenBucket
from tributary.operators.replay import (
    ArchiveQuery,
    BusPublisher,
    QueuePublisher,
    archive_keys,
    consumed_by,
    replay,
)

BUCKET = "archive"
T0 = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)


def archive(s3: Any, events: list[Envelope], flush: str = "F1") -> None:
    """Write ``events`` as the archiver does: one object per partition per flush."""
    for partition, group in partition_events(events).items():
        s3.put_object(Bucket=BUCKET, Key=object_key(partition, flush), Body=encode(group))


@pytest.fixture
def history(s3: Any) -> list[Envelope]:
    """Readings every 30 minutes over 6 hours across midnight, plus devices; one object holds a duplicate."""
    s3.create_bucket(Bucket=BUCKET)
    readings = [envelope("sensor.reading", time=T0 + timedelta(minutes=30 * i)) for i in range(12)]
    devices = [envelope("device.registered", time=T0 + timedelta(minutes=45 * i)) for i in range(8)]
    archive(s3, readings + devices)
    archive(s3, readings[:2], flush="F2")  # a duplicate of two events in a later flush
    return readings + devices


def query(hours_from: float, hours_to: float, *types: str) -> ArchiveQuery:
    return ArchiveQuery(
        since=T0 + timedelta(hours=hours_from), until=T0 + timedelta(hours=hours_to), types=tuple(types)
    )


def test_only_partitions_in_range_are_listed(s3: Any, history: list[Envelope]) -> None:
    """Types, days and hours outside the range are skipped by key, across midnight."""
    keys = archive_keys(s3, BUCKET, query(1.5, 3, "sensor.reading"))
    assert keys and all("type=sensor.reading/" in k for k in keys)
    hours = {(k.split("dt=")[1][:10], k.split("hour=")[1][:2]) for k in keys}
    assert hours == {("2026-11-20", "23"), ("2026-11-21", "00")}
    assert archive_keys(s3, BUCKET, query(0, 6, "sensor.reading.v2")) == []
    assert len(archive_keys(s3, BUCKET, query(0, 6))) > len(
        archive_keys(s3, BUCKET, query(0, 6, "sensor.reading"))
    )


def test_replay_to_a_queue_sends_rule_shaped_bodies_in_range_once_each(
    sqs: Any, s3: Any, history: list[Envelope], drain: Any
) -> None:
    """Events in [since, until), each id once, as the EventBridge event a rule would deliver."""
    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    publisher = QueuePublisher(sqs=sqs, url=url, queue_arn=arn, replay_name="r1")
    report = replay(s3=s3, bucket=BUCKET, query=query(0, 3, "sensor.reading"), publisher=publisher)

    wanted = {e.id for e in history if e.type == "sensor.reading" and e.time < T0 + timedelta(hours=3)}
    bodies = [json.loads(m["Body"]) for m in drain(url)]
    assert sorted(b["detail"]["id"] for b in bodies) == sorted(wanted)
    assert (report.selected, report.published, report.duplicates) == (6, 6, 2)
    first = bodies[0]
    assert first["detail-type"] == "sensor.reading.v1" and first["replay-name"] == "r1"
    assert first["account"] == "123456789012" and first["region"] == "us-east-1"
    assert parse_envelope(json.dumps(first)).id == first["detail"]["id"]  # the runtime reads it as delivered


def test_a_service_gets_only_what_its_manifest_consumes(sqs: Any, s3: Any, history: list[Envelope]) -> None:
    """A manifest that takes readings only: devices are counted as not consumed, not sent."""
    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    manifest = ServiceManifest(name="probe", consumes=(Subscription(type="sensor.reading", versions=(1,)),))
    report = replay(
        s3=s3,
        bucket=BUCKET,
        query=query(0, 24),
        publisher=QueuePublisher(sqs=sqs, url=url, queue_arn=arn, replay_name="r"),
        consumes=consumed_by(manifest),
    )
    assert (report.published, report.not_consumed) == (12, 8)


def test_replay_to_the_bus_reaches_the_rules(
    sqs: Any, s3: Any, events: Any, history: list[Envelope], drain: Any
) -> None:
    """PutEvents as the producer did: a rule on the detail-type delivers them."""
    events.create_event_bus(Name="tributary")
    url = sqs.create_queue(QueueName="devices")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="devices",
        EventBusName="tributary",
        EventPattern=json.dumps({"detail-type": ["device.registered.v1"]}),
    )
    events.put_targets(Rule="devices", EventBusName="tributary", Targets=[{"Id": "q", "Arn": arn}])
    report = replay(
        s3=s3, bucket=BUCKET, query=query(0, 24), publisher=BusPublisher(events=events, bus_name="tributary")
    )
    assert report.published == 20
    got = [json.loads(m["Body"]) for m in drain(url)]
    assert sorted(b["detail"]["id"] for b in got) == sorted(
        e.id for e in history if e.type == "device.registered"
    )


def test_a_dry_run_counts_and_sends_nothing(s3: Any, history: list[Envelope]) -> None:
    """No publisher: selected is what would go."""
    report = replay(s3=s3, bucket=BUCKET, query=query(0, 24), publisher=None)
    assert (report.selected, report.published, report.types["device.registered.v1"]) == (20, 0, 8)


def test_the_rate_limits_the_replay(sqs: Any, s3: Any, history: list[Envelope]) -> None:
    """Every published batch takes its tokens first."""
    taken: list[float] = []

    class Recording(TokenBucket):
        def acquire(self, units: float = 1.0) -> float:
            taken.append(units)
            return 0.0

    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    replay(
        s3=s3,
        bucket=BUCKET,
        query=query(0, 24),
        publisher=QueuePublisher(sqs=sqs, url=url, queue_arn=arn, replay_name="r"),
        limiter=Recording(100),
    )
    assert sum(taken) == 20 and max(taken) <= 10
