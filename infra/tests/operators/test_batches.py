"""Batch calls entry by entry: chunking, retrying only what failed for a retryable reason."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from tenacity import wait_none

from shared.putevents import runs
from tributary.operators.batches import delete_messages, put_events, send_messages


class FlakySqs:
    """send/delete batch calls where chosen bodies fail a number of times, as sender or server faults."""

    def __init__(self, failures: dict[str, tuple[int, bool]]) -> None:
        self.failures = dict(failures)  # body -> (times left to fail, sender fault)
        self.calls: list[list[str]] = []
        self.sent: list[str] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([e["MessageBody"] for e in Entries])
        failed = []
        for entry in Entries:
            left, sender = self.failures.get(entry["MessageBody"], (0, False))
            if left:
                self.failures[entry["MessageBody"]] = (left - 1, sender)
                failed.append({"Id": entry["Id"], "Code": "Boom", "Message": "no", "SenderFault": sender})
            else:
                self.sent.append(entry["MessageBody"])
        return {"Failed": failed}

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Failed": [
                {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "Message": "old", "SenderFault": True}
                for e in Entries
                if e["ReceiptHandle"].startswith("old")
            ]
        }


def no_sleep(_: float) -> None:
    pass


def test_chunks_are_ten_entries_and_bounded_bytes() -> None:
    """25 small items: 10, 10, 5; a big item goes alone."""
    assert [len(c) for c in runs(list(range(25)), size_of=lambda _: 1, max_bytes=100)] == [10, 10, 5]
    sizes = [40, 40, 40, 500, 10]
    assert [list(c) for c in runs(sizes, size_of=lambda s: s, max_bytes=100)] == [
        [40, 40],
        [40],
        [500],
        [10],
    ]


def test_server_faults_are_retried_alone_until_they_pass() -> None:
    """Only the failed entry is sent again, and it lands."""
    sqs = FlakySqs({"b": (2, False)})
    result = send_messages(sqs, "q", ["a", "b", "c"], body=lambda s: s, sleep=no_sleep)
    assert sorted(result.ok) == ["a", "b", "c"] and result.failed == []
    assert sqs.calls == [["a", "b", "c"], ["b"], ["b"]]


def test_sender_faults_are_not_retried_and_come_back_with_their_reason() -> None:
    """A sender fault fails its entry at once; the others succeed."""
    sqs = FlakySqs({"b": (1, True)})
    result = send_messages(sqs, "q", ["a", "b"], body=lambda s: s, sleep=no_sleep)
    assert result.ok == ["a"]
    assert result.failed == [("b", "Boom: no")]
    assert len(sqs.calls) == 1


def test_retries_are_bounded() -> None:
    """An entry that keeps failing is given up after the last retry."""
    sqs = FlakySqs({"b": (99, False)})
    result = send_messages(sqs, "q", ["a", "b"], body=lambda s: s, sleep=no_sleep)
    assert result.ok == ["a"] and [item for item, _ in result.failed] == ["b"]
    assert len(sqs.calls) == 4


def test_delete_reports_expired_handles_per_entry() -> None:
    """An expired receipt handle fails only its own entry."""
    result = delete_messages(FlakySqs({}), "q", ["new-1", "old-2", "new-3"], handle=lambda h: h)
    assert result.ok == ["new-1", "new-3"]
    assert [h for h, _ in result.failed] == ["old-2"]


class FlakyEvents:
    def __init__(self, codes: dict[str, list[str]]) -> None:
        self.codes = codes  # detail -> error codes for successive attempts
        self.calls = 0

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        out = []
        for entry in Entries:
            codes = self.codes.get(entry["Detail"], [])
            code = codes.pop(0) if codes else None
            out.append({"ErrorCode": code, "ErrorMessage": "x"} if code else {"EventId": "e"})
        return {"Entries": out, "FailedEntryCount": sum(1 for o in out if "ErrorCode" in o)}


def test_put_events_retries_throttling_but_not_malformed_entries() -> None:
    """ThrottlingException is retried; MalformedDetail fails at once."""
    events = FlakyEvents({"b": ["ThrottlingException"], "c": ["MalformedDetail"]})
    result = put_events(
        events,
        ["a", "b", "c"],
        entry=lambda d: {"Source": "s", "DetailType": "t", "Detail": d},
        wait=wait_none(),
    )
    assert sorted(result.ok) == ["a", "b"]
    assert result.failed == [("c", "MalformedDetail: x")]
    assert events.calls == 2


class DownEvents:
    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "PutEvents")


def test_put_events_lets_a_bus_outage_stop_the_run() -> None:
    """An error of a whole call propagates (as for the SQS helpers): the caller stops, deleting nothing."""
    with pytest.raises(ClientError, match="ServiceUnavailable"):
        put_events(
            DownEvents(),
            ["a"],
            entry=lambda d: {"Source": "s", "DetailType": "t", "Detail": d},
            wait=wait_none(),
        )


def test_put_events_chunks_by_the_bus_size_limit() -> None:
    """Entries are sized as AWS sizes them: two that together exceed ``max_bytes`` go in separate calls."""
    events = FlakyEvents({})
    result = put_events(
        events,
        ["x" * 60, "y" * 60],
        entry=lambda d: {"Source": "s", "DetailType": "t", "Detail": d},
        max_bytes=100,
        wait=wait_none(),
    )
    assert len(result.ok) == 2 and events.calls == 2
