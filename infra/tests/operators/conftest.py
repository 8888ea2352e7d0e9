"""Fixtures for the operator tools: moto's in-process AWS, a worker's queue pair, DLQ letters as the runtime
writes them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import Envelope
from shared.testkit.envelopes import envelope, rule_body
from tributary.operators.target import QueuePair

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "TRIBUTARY_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def events(aws: None) -> Any:
    return boto3.client("events", region_name=REGION)


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3", region_name=REGION)


def make_pair(sqs: Any, service: str = "archiver", bus: str = "tributary") -> QueuePair:
    """``<bus>-<service>`` and its DLQ, wired with a redrive policy as provisioning does."""
    dlq_url = sqs.create_queue(QueueName=f"{bus}-{service}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})
    url = sqs.create_queue(QueueName=f"{bus}-{service}", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return QueuePair(service=service, url=url, dlq_url=dlq_url)


@pytest.fixture
def pair(sqs: Any) -> QueuePair:
    return make_pair(sqs)


REASONS = {
    "contract": {"reason": "permanent", "error_type": "ContractError", "error_message": "data.value: bad"},
    "slowdown": {
        "reason": "retries_exhausted",
        "error_type": "RetryableError",
        "error_message": "S3 put failed: SlowDown",
    },
    "timeout": {
        "reason": "retries_exhausted",
        "error_type": "ReadTimeoutError",
        "error_message": "Read timeout on endpoint URL",
    },
}


def reason_attributes(kind: str, *, service: str = "archiver", attempts: int = 5) -> dict[str, Any]:
    """The message attributes the runtime attaches when it dead-letters (``shared.outcomes``)."""
    values = REASONS[kind] | {
        "service": service,
        "attempts": str(attempts),
        "first_failure_at": "2026-11-20T10:00:00.000+00:00",
    }
    return {f"tributary.{k}": {"DataType": "String", "StringValue": v} for k, v in values.items()}


def _fill_dlq(sqs: Any, url: str, kinds: Sequence[str], **overrides: Any) -> list[Envelope]:
    """One rule-delivered letter per entry of ``kinds`` (a key of :data:`REASONS`); returns the envelopes."""
    events = [envelope(**overrides) for _ in kinds]
    entries = [
        {"Id": str(i), "MessageBody": rule_body(e), "MessageAttributes": reason_attributes(kind)}
        for i, (e, kind) in enumerate(zip(events, kinds, strict=True))
    ]
    for start in range(0, len(entries), 10):
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
        assert not response.get("Failed")
    return events


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete everything visible in ``url``."""
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def fill(sqs: Any, pair: QueuePair) -> Callable[..., list[Envelope]]:
    """``fill(kinds, **envelope overrides)``: letters in the pair's DLQ, one per kind."""
    return lambda kinds, **overrides: _fill_dlq(sqs, pair.dlq_url, kinds, **overrides)


@pytest.fixture
def drain(sqs: Any) -> Callable[[str], list[dict[str, Any]]]:
    """``drain(url)``: receive and delete everything visible."""
    return lambda url: _drain(sqs, url)


@pytest.fixture
def counts(sqs: Any) -> Callable[[str], tuple[int, int]]:
    """``counts(url)``: ``(visible, in flight)``."""
    return lambda url: _counts(sqs, url)
