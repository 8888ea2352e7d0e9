"""DLQ redrive against moto's SQS and EventBridge: filtered, dry run, bounded, to the bus, and the fallback
from StartMessageMoveTask (which moto does not offer)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from contracts import Envelope
from tributary.operators.dlq import redrive
from tributary.operators.letters import Selector
from tributary.operators.redrive import RedriveOptions
from tributary.operators.target import QueuePair

KINDS = ["contract", "slowdown", "timeout"] * 10


def ids_in(messages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(json.loads(m["Body"])["detail"]["id"] for m in messages)


def test_a_filtered_redrive_moves_exactly_the_matching_letters(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], drain: Any, counts: Any
) -> None:
    """reason~SlowDown: those 10 go back to the queue with their attributes; the other 20 stay, visible."""
    events = fill(KINDS)
    slow = {e.id for e, kind in zip(events, KINDS, strict=True) if kind == "slowdown"}
    options = RedriveOptions(selector=Selector.parse(["reason~SlowDown"]), concurrency=3)
    report = redrive(sqs=sqs, events=None, pair=pair, bus_name="tributary", options=options)

    assert (report.scanned, report.matched, report.moved, report.failed, report.skipped) == (
        30,
        10,
        10,
        0,
        20,
    )
    assert report.method == "by message"
    assert report.released == 20
    moved = drain(pair.url)
    assert ids_in(moved) == Counter(slow)
    assert (
        moved[0]["MessageAttributes"]["tributary.error_message"]["StringValue"] == "S3 put failed: SlowDown"
    )
    assert counts(pair.dlq_url) == (20, 0)
    assert not set(ids_in(drain(pair.dlq_url))) & slow


def test_a_dry_run_moves_nothing_and_leaves_every_letter_visible(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """It counts what would move, by kind, and releases everything it looked at."""
    fill(KINDS)
    options = RedriveOptions(
        selector=Selector.parse(["type=sensor.reading", "reason=permanent"]), dry_run=True
    )
    report = redrive(sqs=sqs, events=None, pair=pair, bus_name="tributary", options=options)
    assert (report.scanned, report.matched, report.moved) == (30, 10, 0)
    assert report.kinds == Counter({"sensor.reading.v1 · ContractError": 10})
    assert counts(pair.url) == (0, 0)
    assert counts(pair.dlq_url) == (30, 0)


def test_max_bounds_the_redrive(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """--max 7 moves 7, whatever the concurrency."""
    fill(KINDS)
    options = RedriveOptions(max_messages=7, concurrency=4)
    report = redrive(sqs=sqs, events=None, pair=pair, bus_name="tributary", options=options)
    assert report.moved == 7
    assert counts(pair.url) == (7, 0)
    assert counts(pair.dlq_url) == (23, 0)


def test_unfiltered_redrive_falls_back_when_the_move_task_is_not_offered(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], drain: Any, counts: Any
) -> None:
    """moto has no StartMessageMoveTask: the redrive says so once and moves message by message."""
    events = fill(KINDS)
    seen: list[list[str]] = []
    report = redrive(
        sqs=sqs,
        events=None,
        pair=pair,
        bus_name="tributary",
        rate=500,
        progress=lambda r: seen.append(list(r.notes)),
    )
    assert report.method == "by message (fallback)"
    assert (
        len(report.notes) == 1
        and "StartMessageMoveTask is not offered here (NotImplemented" in report.notes[0]
    )
    assert report.moved == 30
    assert ids_in(drain(pair.url)) == Counter(e.id for e in events)
    assert counts(pair.dlq_url) == (0, 0)


def test_redrive_to_the_bus_republishes_the_envelope_for_the_rules(
    sqs: Any, events: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], drain: Any, counts: Any
) -> None:
    """Each letter is put on the bus as its producer did: a rule on its detail-type delivers it."""
    events.create_event_bus(Name="tributary")
    probe = sqs.create_queue(QueueName="probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="probe",
        EventBusName="tributary",
        EventPattern=json.dumps({"detail-type": ["sensor.reading.v1"]}),
    )
    events.put_targets(Rule="probe", EventBusName="tributary", Targets=[{"Id": "q", "Arn": probe_arn}])
    sent = fill(["timeout"] * 5)
    sqs.send_message(QueueUrl=pair.dlq_url, MessageBody="not an envelope")

    report = redrive(sqs=sqs, events=events, pair=pair, bus_name="tributary", to="bus")

    assert (report.moved, report.failed) == (5, 1)
    assert report.failures == Counter({"NotAnEnvelope": 1})
    delivered = drain(probe)
    assert sorted(json.loads(m["Body"])["detail"]["id"] for m in delivered) == sorted(e.id for e in sent)
    assert {json.loads(m["Body"])["source"] for m in delivered} == {sent[0].source}
    assert counts(pair.dlq_url) == (1, 0)  # the body without an envelope stays, visible
    assert counts(pair.url) == (0, 0)


class FailingSends:
    """moto's SQS, except that sending to the queue fails as a whole call."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessageBatch")


def test_a_failing_destination_stops_the_run_and_loses_nothing(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """The error surfaces; every letter is back in the DLQ, visible."""
    fill(KINDS)
    with pytest.raises(ClientError, match="ServiceUnavailable"):
        redrive(sqs=FailingSends(sqs), events=None, pair=pair, bus_name="tributary", by_message=True)
    assert counts(pair.dlq_url) == (30, 0)
    assert counts(pair.url) == (0, 0)


class FirstDeleteFails:
    """moto's SQS, except that the first DeleteMessageBatch fails every entry (an expired handle)."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.failed_once = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        if not self.failed_once:
            self.failed_once = True
            return {
                "Failed": [
                    {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True} for e in Entries
                ]
            }
        return self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries)


def test_a_letter_delivered_but_not_deleted_is_deleted_when_seen_again_never_sent_twice(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], drain: Any, counts: Any
) -> None:
    """Send first, delete after: a failed delete leaves the letter; the run deletes it when it returns."""
    sent = fill(["slowdown"] * 3)
    options = RedriveOptions(visibility_s=1, wait_in_flight=True, in_flight_timeout_s=30, concurrency=1)
    report = redrive(
        sqs=FirstDeleteFails(sqs),
        events=None,
        pair=pair,
        bus_name="tributary",
        by_message=True,
        options=options,
    )
    assert (report.moved, report.delete_failed) == (3, 0)
    assert ids_in(drain(pair.url)) == Counter(e.id for e in sent)  # each once
    assert counts(pair.dlq_url) == (0, 0)


def test_many_threads_move_each_letter_once(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], drain: Any
) -> None:
    """150 letters, 6 threads, a filter: every matching letter arrives exactly once."""
    kinds = ["contract", "slowdown", "timeout"] * 50
    events = fill(kinds)
    options = RedriveOptions(selector=Selector.parse(["reason~Timeout|SlowDown"]), concurrency=6)
    report = redrive(sqs=sqs, events=None, pair=pair, bus_name="tributary", options=options)
    wanted = Counter(e.id for e, k in zip(events, kinds, strict=True) if k != "contract")
    assert report.moved == 100
    assert ids_in(drain(pair.url)) == wanted
