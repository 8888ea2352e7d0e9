"""The SQS adapter against moto's in-process SQS: batch calls, DLQ attributes, entry failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.errors import RetryableError
from shared.messages import DeadLetter, Message
from shared.sqs import SqsQueue


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queue(sqs: Any) -> SqsQueue:
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    return SqsQueue(client=sqs, queue_url=url, dlq_url=dlq)


def _fill(sqs: Any, n: int) -> None:
    url = sqs.get_queue_url(QueueName="work")["QueueUrl"]
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody=f'{{"n": {i}}}')


def test_receive_reads_counts_and_delete_removes(sqs: Any, queue: SqsQueue) -> None:
    """Received messages carry their receive count; deleted ones are gone."""
    _fill(sqs, 12)
    first = queue.receive(max_messages=10, wait_s=0)
    assert len(first) == 10 and all(m.receive_count == 1 and m.first_received_ms > 0 for m in first)
    assert queue.delete(first) == []
    rest = queue.receive(max_messages=10, wait_s=0)
    assert len(rest) == 2


def test_more_than_ten_entries_are_sent_in_chunks(sqs: Any, queue: SqsQueue) -> None:
    """Deleting 12 messages works in two batch calls."""
    _fill(sqs, 12)
    messages = queue.receive(max_messages=10, wait_s=0) + queue.receive(max_messages=10, wait_s=0)
    assert len(messages) == 12
    assert queue.delete(messages) == []
    assert queue.receive(max_messages=10, wait_s=0) == []


def test_dead_letters_keep_body_and_reason_attributes(sqs: Any, queue: SqsQueue) -> None:
    """A dead-lettered message arrives in the DLQ with its body and the reason as attributes."""
    _fill(sqs, 1)
    [message] = queue.receive(max_messages=1, wait_s=0)
    letter = DeadLetter(
        message=message,
        body=message.body,
        attributes={"tributary.failure": '{"reason":"permanent"}', "origin": "x"},
    )
    assert queue.dead_letter([letter]) == []
    dlq = sqs.get_queue_url(QueueName="work-dlq")["QueueUrl"]
    [got] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert got["Body"] == message.body
    assert got["MessageAttributes"]["tributary.failure"]["StringValue"] == '{"reason":"permanent"}'
    assert got["MessageAttributes"]["origin"]["StringValue"] == "x"


def test_stale_receipt_handles_come_back_as_failed_entries(sqs: Any, queue: SqsQueue) -> None:
    """Entries SQS refuses are returned, not raised."""
    bogus = Message(message_id="x", receipt_handle="not-a-handle", body="{}")
    assert queue.change_visibility([bogus], 10) == [bogus]


def test_unreachable_queue_raises_retryable(sqs: Any) -> None:
    """A call that fails as a whole is a RetryableError."""
    queue = SqsQueue(
        client=sqs, queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/nope", dlq_url="x"
    )
    with pytest.raises(RetryableError):
        queue.receive(max_messages=1, wait_s=0)


def test_batch_calls_to_an_unreachable_queue_fail_every_entry(sqs: Any) -> None:
    """A chunk whose call fails as a whole comes back entry by entry, never raised, never half-reported."""
    queue = SqsQueue(
        client=sqs, queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/nope", dlq_url="x"
    )
    messages = [Message(message_id=str(i), receipt_handle=f"r{i}", body="{}") for i in range(23)]
    assert queue.delete(messages) == messages


def test_the_queue_takes_one_caller(sqs: Any) -> None:
    """Either the lean caller or a boto3 client, never both or neither."""
    with pytest.raises(ValueError, match="either api or client"):
        SqsQueue(queue_url="q", dlq_url="d")
