"""StartMessageMoveTask: telling "not offered" from other errors, and following a task that runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from contracts import Envelope
from tributary.operators.dlq import redrive
from tributary.operators.movetask import MoveTaskRefused, follow_move_task, start_move_task
from tributary.operators.redrive import RedriveOptions
from tributary.operators.target import QueuePair

SRC = "arn:aws:sqs:us-east-1:123456789012:tributary-archiver-dlq"
DST = "arn:aws:sqs:us-east-1:123456789012:tributary-archiver"


def stubbed(code: str, message: str = "nope", status: int = 400) -> Any:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error(
        "start_message_move_task", service_error_code=code, service_message=message, http_status_code=status
    )
    stubber.activate()
    return client


@pytest.mark.parametrize(
    "code", ["InvalidAction", "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"]
)
def test_codes_that_mean_not_offered_become_move_task_refused(code: str) -> None:
    """MiniStack's InvalidAction, AWS's UnsupportedOperation: the caller falls back, with the reason."""
    with pytest.raises(MoveTaskRefused) as caught:
        start_move_task(
            stubbed(code, "The action StartMessageMoveTask is not valid"), source_arn=SRC, destination_arn=DST
        )
    assert caught.value.code == code
    assert "not valid" in caught.value.message


def test_other_errors_are_not_taken_for_not_offered() -> None:
    """Access denied is an error to show, not a reason to move another way."""
    with pytest.raises(ClientError, match="AccessDenied"):
        start_move_task(stubbed("AccessDenied", status=403), source_arn=SRC, destination_arn=DST)


def test_an_in_process_emulator_not_implementing_it_is_not_offered(aws: None) -> None:
    """moto raises NotImplementedError in-process: that is its "not offered"."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    with pytest.raises(MoveTaskRefused) as caught:
        start_move_task(sqs, source_arn=SRC, destination_arn=DST)
    assert caught.value.code == "NotImplemented"


class OfferingSqs:
    """moto's SQS plus a move task that moves everything when first polled (as LocalStack or AWS would)."""

    def __init__(self, sqs: Any, pair: QueuePair) -> None:
        self._sqs = sqs
        self._pair = pair
        self.started: list[dict[str, Any]] = []
        self.polls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"TaskHandle": f"h{len(self.started)}"}

    def list_message_move_tasks(self, *, SourceArn: str, MaxResults: int) -> dict[str, Any]:
        self.polls += 1
        if self.polls == 1:
            return {
                "Results": [{"TaskHandle": "h1", "Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 0}]
            }
        moved = 0
        while got := self._sqs.receive_message(QueueUrl=self._pair.dlq_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for m in got:
                self._sqs.send_message(QueueUrl=self._pair.url, MessageBody=m["Body"])
                self._sqs.delete_message(QueueUrl=self._pair.dlq_url, ReceiptHandle=m["ReceiptHandle"])
                moved += 1
        return {
            "Results": [
                {
                    "Status": "COMPLETED",
                    "ApproximateNumberOfMessagesMoved": moved,
                    "ApproximateNumberOfMessagesToMove": moved,
                }
            ]
        }


def test_where_offered_an_unfiltered_redrive_runs_a_move_task_at_the_rate(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """The task gets the rate as MaxNumberOfMessagesPerSecond; its progress is the report's."""
    fill(["timeout"] * 12)
    offering = OfferingSqs(sqs, pair)
    report = redrive(sqs=offering, events=None, pair=pair, bus_name="tributary", rate=50)
    assert report.method == "StartMessageMoveTask"
    assert offering.started[0]["MaxNumberOfMessagesPerSecond"] == 50
    assert offering.started[0]["DestinationArn"].endswith(":tributary-archiver")
    assert report.moved == 12 and report.notes == []
    assert counts(pair.url) == (12, 0)


class ReturningSqs(OfferingSqs):
    """A move task that completes just before letters a killed reader held come back visible."""

    def __init__(self, sqs: Any, pair: QueuePair, returning: list[str]) -> None:
        super().__init__(sqs, pair)
        self._returning = returning

    def list_message_move_tasks(self, *, SourceArn: str, MaxResults: int) -> dict[str, Any]:
        answer = super().list_message_move_tasks(SourceArn=SourceArn, MaxResults=MaxResults)
        if answer["Results"][0]["Status"] == "COMPLETED" and self._returning:
            for body in self._returning:
                self._sqs.send_message(QueueUrl=self._pair.dlq_url, MessageBody=body)
            self._returning.clear()
            self.polls = 0  # the next task runs like the first
        return answer


def test_letters_back_just_after_a_task_are_moved_by_another_when_waiting_in_flight(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], counts: Any
) -> None:
    """--wait-in-flight leaves nothing behind: letters visible again once a task completed take a second
    task, rather than ending the redrive with them still in the DLQ."""
    fill(["timeout"] * 5)
    offering = ReturningSqs(sqs, pair, ['{"late": 1}', '{"late": 2}', '{"late": 3}'])
    report = redrive(
        sqs=offering,
        events=None,
        pair=pair,
        bus_name="tributary",
        options=RedriveOptions(wait_in_flight=True),
    )
    assert len(offering.started) == 2
    assert report.moved == 8
    assert counts(pair.dlq_url) == (0, 0) and counts(pair.url) == (8, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"options": RedriveOptions(max_messages=3)}, id="max"),
        pytest.param({"rate": 1000}, id="rate-above-500"),
        pytest.param({"rate": 2.5}, id="fractional-rate"),
        pytest.param({"by_message": True}, id="by-message"),
        pytest.param({"to": "bus"}, id="bus"),
    ],
)
def test_what_a_move_task_cannot_do_goes_by_message(
    sqs: Any, pair: QueuePair, fill: Callable[..., list[Envelope]], kwargs: dict[str, Any]
) -> None:
    """--max, a rate beyond 500/s or fractional, --by-message, the bus: no task is started."""
    fill(["timeout"] * 3)
    offering = OfferingSqs(sqs, pair)
    events = boto3.client("events", region_name="us-east-1")
    events.create_event_bus(Name="tributary")
    report = redrive(sqs=offering, events=events, pair=pair, bus_name="tributary", **kwargs)
    assert offering.started == []
    assert report.method == "by message"


class StuckTask:
    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def list_message_move_tasks(self, **_: Any) -> dict[str, Any]:
        return {"Results": [{"TaskHandle": "h", "Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 5}]}

    def cancel_message_move_task(self, *, TaskHandle: str) -> dict[str, Any]:
        self.cancelled.append(TaskHandle)
        return {}


def test_ctrl_c_while_following_cancels_the_task() -> None:
    """A task the operator stopped watching is cancelled, and the interrupt goes on."""
    sqs = StuckTask()

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        follow_move_task(sqs, source_arn=SRC, handle="h", sleep=interrupt)
    assert sqs.cancelled == ["h"]
