"""Tests of the SNS channel: what subscribers receive (moto, through an SQS subscription) and how SNS
errors become Retryable/PermanentError (Stubber)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from notifier.adapters.sns import SnsChannel, subject_of, text_of
from notifier.model import Alert, EventRef, Notification
from shared.errors import PermanentError, RetryableError


def _notification(*, subject: str = "dev-1", rule: str = "hot") -> Notification:
    alert = Alert(
        rule=rule,
        key="e-1",
        subject=subject,
        severity="critical",
        message="dev-1 reads 81 °C",
        channels=("sns",),
        cooldown_s=60,
        event=EventRef(
            id="e-1", type="sensor.reading", version=1, source="iot", time="2025-06-01T00:00:00+00:00"
        ),
    )
    return Notification(alert=alert, channel="sns", raised_at="2025-06-01T00:00:01.000+00:00")


def _subscribed_queue(aws_sns: Any, sqs: Any, topic_arn: str, name: str) -> str:
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if name.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws_sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_machines_get_the_json_document_people_get_text(aws: None) -> None:
    """An SQS subscriber receives the notification's JSON, with severity, rule and delivery id attributes."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="tributary-notifier-alerts")["TopicArn"]
    url = _subscribed_queue(sns, sqs, topic, "alerts-inbox")
    note = _notification()
    SnsChannel(client=sns, topic_arn=topic).send(note)
    [envelope] = _received(sqs, url)
    assert envelope["Subject"] == "[critical] hot: dev-1"
    document = json.loads(envelope["Message"])
    assert document == note.document()
    attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    assert attributes == {"severity": "critical", "rule": "hot", "delivery_id": note.delivery_id}


def test_a_fifo_topic_dedupes_on_the_delivery_id(aws: None) -> None:
    """On a FIFO topic a resend with the same delivery id is dropped by SNS itself."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(
        Name="alerts.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"}
    )["TopicArn"]
    url = _subscribed_queue(sns, sqs, topic, "inbox.fifo")
    channel = SnsChannel(client=sns, topic_arn=topic)
    channel.send(_notification())
    channel.send(_notification())
    assert len(_received(sqs, url)) == 1


def test_text_and_subject_for_people() -> None:
    """One line of text; the subject is printable ASCII under 100 characters, as SNS requires."""
    assert text_of(_notification()) == "[critical] hot (dev-1): dev-1 reads 81 °C"
    assert subject_of(_notification(subject="猫\nx")) == "[critical] hot: ?x"
    long = subject_of(_notification(subject="d" * 200))
    assert len(long) < 100 and long.endswith("...")


@pytest.fixture
def stubbed() -> Iterator[tuple[SnsChannel, Stubber]]:
    client = boto3.session.Session().client(
        "sns", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield SnsChannel(client=client, topic_arn="arn:aws:sns:us-east-1:000000000000:alerts"), stubber


@pytest.mark.parametrize("code", ["InvalidParameter", "AuthorizationError", "NotFound"])
def test_refusals_are_permanent(stubbed: tuple[SnsChannel, Stubber], code: str) -> None:
    """A message SNS will never accept (or a topic that is not there) goes to the DLQ at once."""
    channel, stubber = stubbed
    stubber.add_client_error("publish", code, http_status_code=400)
    with pytest.raises(PermanentError, match="SNS publish to") as caught:
        channel.send(_notification())
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("code", "status"), [("Throttling", 400), ("InternalError", 500), ("KMSThrottling", 400)]
)
def test_transient_errors_are_retryable(stubbed: tuple[SnsChannel, Stubber], code: str, status: int) -> None:
    """Throttling and service errors are retried."""
    channel, stubber = stubbed
    stubber.add_client_error("publish", code, http_status_code=status)
    with pytest.raises(RetryableError):
        channel.send(_notification())
