"""Tests of the Lambda adapter: SQS event records in, ``batchItemFailures`` out, DLQ reasons attached."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import Envelope
from shared.errors import PermanentError, RetryableError, StoreUnavailable
from shared.failure import read_failure
from shared.lambda_adapter import lambda_handler, record_to_message
from shared.messages import DeadLetter, Message
from shared.observe import BatchObserver, BatchReport
from shared.outcomes import RetryPolicy
from shared.sqs import SqsQueue
from shared.testing import InMemoryQueue
from shared.testkit.envelopes import FakeClock, envelope, rule_body

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:tributary-svc"
POLICY = RetryPolicy(max_attempts=3)


class Context:
    """The part of Lambda's context object the adapter reads."""

    aws_request_id = "req-1"


class Handler:
    """Stores every event except those in ``fail``; or fails the whole batch with ``raise_``."""

    def __init__(self, fail: Mapping[str, Exception] | None = None, raise_: Exception | None = None) -> None:
        self.fail = dict(fail or {})
        self.raise_ = raise_
        self.calls: list[list[str]] = []

    def __call__(self, events: Sequence[Envelope]) -> Mapping[str, Exception]:
        self.calls.append([e.id for e in events])
        if self.raise_:
            raise self.raise_
        return {e.id: self.fail[e.id] for e in events if e.id in self.fail}


def sqs_record(message: Message, *, attributes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One record exactly as Lambda's SQS event source mapping delivers it."""
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": "1767225600000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(message.first_received_ms or 1767225600001),
        },
        "messageAttributes": {
            name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
            for name, value in (attributes or {}).items()
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def deliver(queue: InMemoryQueue, bodies: Sequence[str], *, receives: int = 1) -> list[Message]:
    """Send ``bodies`` and receive them ``receives`` times (the last receive's messages)."""
    for body in bodies:
        queue.send(body)
    messages: list[Message] = []
    for _ in range(receives):
        messages = queue.receive(max_messages=10, wait_s=0)
        queue.change_visibility(messages, 0)
    return messages


@pytest.fixture
def queue(clock: FakeClock) -> InMemoryQueue:
    return InMemoryQueue(visibility_timeout_s=30, clock=clock)


def failures(result: Mapping[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_record_to_message_reads_the_lambda_shape() -> None:
    """Receive count, first receive time and string attributes come from Lambda's camel-case fields."""
    message = Message(message_id="m-1", receipt_handle="rh", body="{}", receive_count=4, first_received_ms=7)
    record = sqs_record(message, attributes={"tributary.service": "graph_writer"})
    record["messageAttributes"]["blob"] = {"binaryValue": "AAE=", "dataType": "Binary"}
    assert record_to_message(record) == Message(
        message_id="m-1",
        receipt_handle="rh",
        body="{}",
        receive_count=4,
        first_received_ms=7,
        attributes={"tributary.service": "graph_writer"},
    )


def test_mixed_batch_reports_only_retryable_messages(queue: InMemoryQueue) -> None:
    """Stored and dead-lettered messages are settled; only the retryable one is a batch item failure."""
    stored, permanent, retryable = envelope(), envelope(), envelope()
    bodies = [rule_body(stored), rule_body(permanent), rule_body(retryable), "not json", rule_body(stored)]
    messages = deliver(queue, bodies)
    handler = Handler(fail={permanent.id: PermanentError("bad unit"), retryable.id: RetryableError("busy")})
    run = lambda_handler(handler, service="svc", retry_policy=POLICY, queue=queue)

    result = run({"Records": [sqs_record(m) for m in messages]}, Context())

    by_body = {m.body: m.message_id for m in messages}
    assert failures(result) == [by_body[rule_body(retryable)]]
    assert handler.calls == [[stored.id, permanent.id, retryable.id]]  # once, duplicate folded
    reasons = {d.message.body: d.failure for d in queue.dead}
    assert sorted(reasons) == sorted([rule_body(permanent), "not json"])
    failure = reasons[rule_body(permanent)]
    assert failure and (failure.reason, failure.error_type, failure.service) == (
        "permanent",
        "PermanentError",
        "svc",
    )
    assert (not_json := reasons["not json"]) and not_json.error_type == "ContractError"


def test_retryable_message_gets_the_pollers_backoff(queue: InMemoryQueue, clock: FakeClock) -> None:
    """The reported message is hidden by the retry policy's backoff, like the poller does."""
    event = envelope()
    messages = deliver(queue, [rule_body(event)])
    run = lambda_handler(
        Handler(fail={event.id: RetryableError("busy")}), service="svc", retry_policy=POLICY, queue=queue
    )
    run({"Records": [sqs_record(m) for m in messages]}, Context())
    assert queue.receive(max_messages=10, wait_s=0) == []  # still hidden
    clock.advance(POLICY.backoff_max_s + 1)
    assert len(queue.receive(max_messages=10, wait_s=0)) == 1


def test_last_attempt_goes_to_the_dlq_not_back(queue: InMemoryQueue) -> None:
    """On ``max_attempts`` a retryable failure is dead-lettered with ``retries_exhausted`` and settled."""
    event = envelope()
    messages = deliver(queue, [rule_body(event)], receives=POLICY.max_attempts)
    run = lambda_handler(
        Handler(raise_=RetryableError("store down")), service="svc", retry_policy=POLICY, queue=queue
    )
    result = run({"Records": [sqs_record(m) for m in messages]}, Context())
    assert failures(result) == []
    (letter,) = queue.dead
    assert (failure := letter.failure)
    assert (failure.reason, failure.attempts, failure.error_message) == (
        "retries_exhausted",
        POLICY.max_attempts,
        "store down",
    )


def test_whole_batch_failure_reports_every_message(queue: InMemoryQueue) -> None:
    """A handler that raises (even a bug) fails every message of a first attempt: nothing is dropped."""
    messages = deliver(queue, [rule_body(envelope()) for _ in range(3)])
    run = lambda_handler(Handler(raise_=KeyError("bug")), service="svc", retry_policy=POLICY, queue=queue)
    result = run({"Records": [sqs_record(m) for m in messages]}, Context())
    assert sorted(failures(result)) == sorted(m.message_id for m in messages)
    assert queue.dead == []


class BrokenDlq(InMemoryQueue):
    """A queue whose DLQ refuses some or all sends."""

    def __init__(self, *, refuse_all: bool, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.refuse_all = refuse_all

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        if self.refuse_all:
            raise RetryableError("SQS call failed")
        return list(letters)  # every entry failed


@pytest.mark.parametrize("refuse_all", [False, True], ids=["entries-failed", "call-failed"])
def test_unsent_dead_letters_are_reported_not_dropped(refuse_all: bool, clock: FakeClock) -> None:
    """When the DLQ send fails, the message comes back instead of being deleted by Lambda."""
    queue = BrokenDlq(refuse_all=refuse_all, clock=clock)
    stored, bad = envelope(), envelope()
    messages = deliver(queue, [rule_body(stored), rule_body(bad)])
    handler = Handler(fail={bad.id: PermanentError("invalid")})
    run = lambda_handler(handler, service="svc", retry_policy=POLICY, queue=queue)
    result = run({"Records": [sqs_record(m) for m in messages]}, Context())
    expected = {m.message_id for m in messages if refuse_all or m.body == rule_body(bad)}
    assert set(failures(result)) == expected


def test_earlier_hops_attributes_are_kept_on_the_dlq(queue: InMemoryQueue) -> None:
    """Non-runtime attributes of the record travel to the DLQ; the runtime's are replaced."""
    event = envelope()
    (message,) = deliver(queue, [rule_body(event)])
    record = sqs_record(message, attributes={"origin": "replay", "tributary.reason": "old"})
    run = lambda_handler(
        Handler(fail={event.id: PermanentError("no")}), service="svc", retry_policy=POLICY, queue=queue
    )
    run({"Records": [record]}, Context())
    (letter,) = queue.dead
    assert sorted(letter.attributes) == ["origin", "tributary.failure"]
    assert letter.attributes["origin"] == "replay"
    assert letter.failure and letter.failure.reason == "permanent"


def test_not_an_sqs_event_is_refused(queue: InMemoryQueue) -> None:
    """An event without ``Records`` is a wiring mistake, not an empty batch."""
    run = lambda_handler(Handler(), service="svc", retry_policy=POLICY, queue=queue)
    with pytest.raises(ValueError, match="Records"):
        run({"detail-type": "x"}, Context())


def test_empty_batch_reports_nothing(queue: InMemoryQueue) -> None:
    """Zero records: no handler call, no failures."""
    handler = Handler()
    run = lambda_handler(handler, service="svc", retry_policy=POLICY, queue=queue)
    assert run({"Records": []}, None) == {"batchItemFailures": []}
    assert handler.calls == []


def test_against_sqs_dlq_and_backoff_on_real_receipts() -> None:
    """With :class:`~shared.sqs.SqsQueue` (moto SQS), the DLQ gets the reason and the retry stays hidden."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="src")["QueueUrl"]
        dlq_url = sqs.create_queue(QueueName="src-dlq")["QueueUrl"]
        good, bad, later = envelope(), envelope(), envelope()
        for event in (good, bad, later):
            sqs.send_message(QueueUrl=url, MessageBody=rule_body(event))
        raw = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
        )["Messages"]
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
            }
            for m in raw
        ]
        handler = Handler(fail={bad.id: PermanentError("bad"), later.id: RetryableError("later")})
        run = lambda_handler(
            handler,
            service="svc",
            retry_policy=POLICY,
            queue=SqsQueue(client=sqs, queue_url=url, dlq_url=dlq_url),
        )

        result = run({"Records": records}, Context())

        later_id = next(m["MessageId"] for m in raw if json.loads(m["Body"])["detail"]["id"] == later.id)
        assert failures(result) == [later_id]
        (dead,) = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"]
        assert json.loads(dead["Body"])["detail"]["id"] == bad.id
        failure = read_failure({k: v["StringValue"] for k, v in dead["MessageAttributes"].items()})
        assert failure and failure.reason == "permanent"
        # Lambda, not the adapter, deletes the settled ones; the retryable one is hidden by the backoff.
        visible = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        assert {json.loads(m["Body"])["detail"]["id"] for m in visible} == {good.id, bad.id}


def test_an_invocation_reports_its_batch_and_reads_the_aws_trace_header(queue: InMemoryQueue) -> None:
    """The observer gets each invocation's batch; a record's AWSTraceHeader becomes the message's header."""
    event = envelope()
    [message] = deliver(queue, [rule_body(event)])
    record = sqs_record(message)
    record["attributes"]["AWSTraceHeader"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    reports: list[BatchReport] = []
    run = lambda_handler(
        Handler(),
        service="svc",
        retry_policy=POLICY,
        queue=queue,
        observer=BatchObserver(service="svc", sinks=[reports.append]),
    )
    assert failures(run({"Records": [record]}, Context())) == []
    [report] = reports
    assert [m.trace_header for m in report.messages] == [record["attributes"]["AWSTraceHeader"]]
    assert [m.message_id for m in report.outcomes.done] == [message.message_id]


def test_a_store_outage_is_handed_back_for_the_longest_backoff_never_dead_lettered(
    queue: InMemoryQueue, clock: FakeClock
) -> None:
    """StoreUnavailable under Lambda: every message reported, hidden for backoff_max_s, none dead-lettered
    even past max_attempts (the queue's maxReceiveCount is the only limit)."""
    messages = deliver(queue, [rule_body(envelope()) for _ in range(3)], receives=POLICY.max_attempts + 1)
    run = lambda_handler(
        Handler(raise_=StoreUnavailable("throttled")), service="svc", retry_policy=POLICY, queue=queue
    )
    result = run({"Records": [sqs_record(m) for m in messages]}, Context())
    assert sorted(failures(result)) == sorted(m.message_id for m in messages)
    assert not queue.dead
    clock.advance(POLICY.backoff_max_s - 1)
    assert queue.receive(max_messages=10, wait_s=0) == []
    clock.advance(2)
    assert len(queue.receive(max_messages=10, wait_s=0)) == 3
