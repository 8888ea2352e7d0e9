"""The DLQ watcher reports growth of a DLQ as ops.dlq_depth events, valid against the contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import EventIn, validate_data
from tributary.watcher import DlqWatcher


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_growth_is_reported_once_and_steady_depth_is_not(sqs: Any) -> None:
    """Two new dead letters give one event with depth 2; a second poll with no change gives none."""
    url = sqs.create_queue(QueueName="tributary-archiver-dlq")["QueueUrl"]
    sent: list[list[dict[str, Any]]] = []
    watcher = DlqWatcher(sqs=sqs, dlqs={"archiver": url}, publish=sent.append)
    assert watcher.poll() == []
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    [event] = watcher.poll()
    assert event["data"] | {"observed_at": None} == {
        "service": "archiver",
        "queue": "tributary-archiver-dlq",
        "depth": 2,
        "observed_at": None,
    }
    parsed = EventIn.model_validate(event)
    validate_data(parsed.type, parsed.version, parsed.data)
    assert sent == [[event]]
    assert watcher.poll() == []


def test_a_failed_report_is_retried_at_the_next_poll(sqs: Any) -> None:
    """When publishing fails the watcher forgets the depth, so the next poll reports it again."""
    url = sqs.create_queue(QueueName="tributary-graph_writer-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    calls: list[int] = []

    def flaky(events: list[dict[str, Any]]) -> None:
        calls.append(len(events))
        if len(calls) == 1:
            raise RuntimeError("ingest down")

    watcher = DlqWatcher(sqs=sqs, dlqs={"graph_writer": url}, publish=flaky)
    assert len(watcher.poll()) == 1
    assert len(watcher.poll()) == 1
    assert calls == [1, 1]
