"""In-memory fake of :class:`~ingest.ports.EventPublisher` for tests of the API and of producers, and an
EventBridge bus to publish to and read back from (under moto or an emulator)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import boto3

from contracts import Envelope
from ingest.adapters.eventbridge import EventBridgePublisher
from ingest.ports import EventPublisher, PublishFailure


class InMemoryPublisher:
    """Keeps what it publishes; ``fail`` decides a failure per envelope (``None``: published)."""

    def __init__(self, fail: Callable[[Envelope], PublishFailure | None] | None = None) -> None:
        self.published: list[Envelope] = []
        self._fail = fail

    def publish(self, envelopes: Sequence[Envelope]) -> list[PublishFailure]:
        failures = []
        for index, envelope in enumerate(envelopes):
            failure = self._fail(envelope) if self._fail else None
            if failure:
                failures.append(
                    PublishFailure(
                        index=index, code=failure.code, message=failure.message, retryable=failure.retryable
                    )
                )
            else:
                self.published.append(envelope)
        return failures


@dataclass
class Bus:
    """A publisher and a way to read back, in any order, what reached its bus."""

    publisher: EventPublisher
    delivered: Callable[[], list[Envelope]]


def eventbridge_bus() -> Bus:
    """The EventBridge adapter on a bus named ``tributary`` whose rule delivers every event to a queue.

    Call it inside moto's ``mock_aws`` (or against an emulator): it creates the bus, the queue and the rule.
    """
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
