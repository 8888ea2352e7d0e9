"""``StartMessageMoveTask``: SQS's own DLQ redrive, where the endpoint offers it.

AWS and LocalStack offer it; MiniStack and moto do not. Whether it is offered is read from the endpoint's
answer, never from the emulator's name: a refusal whose code says the action is unknown or unsupported
(:data:`NOT_OFFERED_CODES`; an in-process emulator raises :class:`NotImplementedError` instead) becomes
:class:`MoveTaskRefused`, and the caller moves message by message. AWS also answers
``AWS.SimpleQueueService.UnsupportedOperation`` when the source is not a DLQ or a task already runs on it;
moving message by message is right then too, and the refusal's message says which it was.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

NOT_OFFERED_CODES = frozenset(
    {
        "InvalidAction",
        "UnsupportedOperation",
        "AWS.SimpleQueueService.UnsupportedOperation",
        "UnknownOperationException",
        "NotImplemented",
    }
)
MAX_RATE = 500  # MaxNumberOfMessagesPerSecond's ceiling
FINAL_STATUSES = frozenset({"COMPLETED", "CANCELLED", "FAILED"})


class MoveTaskRefused(Exception):
    """The endpoint does not run a move task for this request; ``code`` and ``message`` say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, kw_only=True)
class MoveTaskState:
    """One poll of a task (``ListMessageMoveTasks``)."""

    status: str
    moved: int
    to_move: int | None
    failure_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


def start_move_task(sqs: SQSClient, *, source_arn: str, destination_arn: str, rate: int | None = None) -> str:
    """Start moving every message of the DLQ ``source_arn`` to ``destination_arn``; returns the task handle.

    Raises:
        MoveTaskRefused: the endpoint does not offer the action (or refuses it for this queue).
        botocore.exceptions.ClientError: any other error.
    """
    request: dict[str, Any] = {"SourceArn": source_arn, "DestinationArn": destination_arn}
    if rate is not None:
        request["MaxNumberOfMessagesPerSecond"] = rate
    try:
        return str(sqs.start_message_move_task(**request)["TaskHandle"])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in NOT_OFFERED_CODES:
            raise MoveTaskRefused(code, str(error.get("Message", ""))) from exc
        raise
    except NotImplementedError as exc:
        # An in-process emulator (moto) has no HTTP error to give: this is its "not offered".
        raise MoveTaskRefused("NotImplemented", str(exc)) from exc


def task_state(sqs: SQSClient, *, source_arn: str, handle: str) -> MoveTaskState:
    """The task's current state. AWS lists the newest task first and drops the handle once it has ended."""
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
    mine = next((r for r in results if r.get("TaskHandle") == handle), results[0] if results else None)
    if mine is None:
        return MoveTaskState(status="UNKNOWN", moved=0, to_move=None)
    to_move = mine.get("ApproximateNumberOfMessagesToMove")
    return MoveTaskState(
        status=str(mine.get("Status", "UNKNOWN")),
        moved=int(mine.get("ApproximateNumberOfMessagesMoved", 0)),
        to_move=int(to_move) if to_move is not None else None,
        failure_reason=mine.get("FailureReason"),
    )


def follow_move_task(
    sqs: SQSClient,
    *,
    source_arn: str,
    handle: str,
    on_state: Callable[[MoveTaskState], None] = lambda _: None,
    poll_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> MoveTaskState:
    """Poll until the task ends; ``on_state`` sees every poll. On Ctrl-C the task is cancelled (and the
    interrupt re-raised), since a task the operator stopped watching would otherwise keep moving."""
    try:
        while True:
            state = task_state(sqs, source_arn=source_arn, handle=handle)
            on_state(state)
            if state.done or state.status == "UNKNOWN":
                return state
            sleep(poll_s)
    except KeyboardInterrupt:
        with contextlib.suppress(ClientError):  # it ended between the last poll and the cancel
            sqs.cancel_message_move_task(TaskHandle=handle)
        raise
