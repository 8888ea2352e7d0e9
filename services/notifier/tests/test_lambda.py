"""Tests of the notifier under the Lambda entry point (``shared.lambda_entry``): an SQS event in, alerts out,
failures reported per record, absence checks on a schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from contracts import Envelope
from notifier.testing import WebhookReceiver
from shared import lambda_entry
from shared.testkit.envelopes import envelope, rule_body
from shared.testkit.samples import load_sample


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def function_env(
    aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, receiver: WebhookReceiver
) -> Iterator[None]:
    """A function's environment: queues in moto, rules posting to the receiver, state in /tmp-like storage."""
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="tributary-notifier-dlq")["QueueUrl"]
    queue = sqs.create_queue(QueueName="tributary-notifier")["QueueUrl"]
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"defaults: {{channels: [hook]}}\nwebhooks:\n"
        f"  hook: {{url: '{receiver.url('/hook')}', secret: s, allow_private: true}}\n"
        "rules:\n"
        "  - {name: cats, match: {type: cat.sighting}, when: [{path: data.status, eq: injured}],"
        " message: '{data.cat_id}', cooldown: 0s}\n"
        "  - {name: quiet, kind: absence, match: {type: sensor.reading}, subject: '{data.device_id}',"
        " after: 1m, message: '{subject}'}\n",
        encoding="utf-8",
    )
    for name, value in {
        "TRIBUTARY_QUEUE_URL": queue,
        "TRIBUTARY_DLQ_URL": dlq,
        "TRIBUTARY_DATA_DIR": str(tmp_path),
        "TRIBUTARY_RULES_FILE": str(rules),
        "TRIBUTARY_WEBHOOK_ATTEMPTS": "1",
        "TRIBUTARY_SERVICE": "notifier",
    }.items():
        monkeypatch.setenv(name, value)
    lambda_entry.reset()
    yield
    lambda_entry.reset()


def _event(*envelopes: Envelope) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": rule_body(e),
                "attributes": {"ApproximateReceiveCount": "1", "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": {},
            }
            for i, e in enumerate(envelopes)
        ]
    }


def _cat(status: str) -> Envelope:
    return envelope("cat.sighting", data=load_sample("cat.sighting", 1)["data"] | {"status": status})


def test_an_sqs_event_raises_its_alerts(function_env: None, receiver: WebhookReceiver) -> None:
    """Records in, alerts to the webhook, no batch item failures; the same records again send nothing."""
    event = _event(_cat("injured"), _cat("healthy"))
    context = SimpleNamespace(aws_request_id="req-1")
    assert lambda_entry.handler(event, context) == {"batchItemFailures": []}
    assert lambda_entry.handler(event, context) == {"batchItemFailures": []}
    assert [r.json["rule"] for r in receiver.requests("/hook")] == ["cats"]


def test_a_failing_channel_is_a_batch_item_failure(function_env: None, receiver: WebhookReceiver) -> None:
    """A receiver answering 503: the record is reported failed, so Lambda retries it."""
    receiver.always_fail("/hook", status=503)
    result = lambda_entry.handler(_event(_cat("healthy"), _cat("injured")), SimpleNamespace())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_a_scheduled_invocation_runs_one_absence_check(function_env: None, receiver: WebhookReceiver) -> None:
    """The schedule's handler finds silent devices and alerts once per silence."""
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    reading = envelope("sensor.reading", time=old)
    lambda_entry.handler(_event(reading), SimpleNamespace())
    assert lambda_entry.scheduled_handler({"source": "aws.events"}, SimpleNamespace()) == {"sent": 1}
    assert lambda_entry.scheduled_handler({"source": "aws.events"}, SimpleNamespace()) == {}
    [request] = receiver.requests("/hook")
    assert json.loads(request.body)["subject"] == "dev-0042"
