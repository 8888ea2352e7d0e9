"""The :class:`~ingest.ports.EventPublisher` contract, run against every implementation.

The in-memory fake and the EventBridge adapter (on moto's in-process AWS, with a rule delivering the bus's
events to an SQS queue) must behave alike, so tests written against the fake hold for the real bus.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import boto3
import pytest

from contracts import Envelope
from ingest.adapters.eventbridge import EventBridgePublisher
from ingest.ports import EventPublisher
from ingest.testing import InMemoryPublisher
from tests.support.envelopes import envelope

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"


@dataclass
class Bus:
    """A publisher and a way to read back, in any order, what reached its bus."""

    publisher: EventPublisher
    delivered: Callable[[], list[Envelope]]


def _in_memory() -> Bus:
    publisher = InMemoryPublisher()
    return Bus(publisher, lambda: list(publisher.published))


def _eventbridge() -> Bus:
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name="tributary")
    queue = sqs.create_queue(QueueName="everything")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="everything", EventBusName="tributary", EventPattern=json.dumps({"source": [{"prefix": ""}]})
    )
    events.put_targets(Rule="everything", EventBusName="tributary", Targets=[{"Id": "queue", "Arn": arn}])

    def delivered() -> list[Envelope]:
        out = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                body = json.loads(message["Body"])
                assert body["detail-type"] == f"{body['detail']['type']}.v{body['detail']['version']}"
                out.append(Envelope.model_validate(body["detail"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return out

    return Bus(EventBridgePublisher(client=events, bus_name="tributary", max_attempts=1), delivered)


@pytest.fixture(params=["in-memory", "eventbridge"])
def bus(request: pytest.FixtureRequest, aws: None) -> Bus:
    return _in_memory() if request.param == "in-memory" else _eventbridge()


def test_published_envelopes_arrive_once_and_unchanged(bus: Bus) -> None:
    """Every envelope of a successful publish reaches the bus exactly once, as it was."""
    events = [envelope(t, trace=TRACE) for t in ("sensor.reading", "order.placed", "trade.completed")]
    events += [envelope() for _ in range(12)]
    assert bus.publisher.publish(events) == []
    delivered = bus.delivered()
    assert sorted(delivered, key=lambda e: e.id) == sorted(events, key=lambda e: e.id)


def test_publishing_nothing_publishes_nothing(bus: Bus) -> None:
    """An empty publish returns no failures and puts nothing on the bus."""
    assert bus.publisher.publish([]) == []
    assert bus.delivered() == []
