"""Reading a queue without consuming it: receive, hold, release.

A received message stays invisible for the visibility timeout given at receive, then returns. Looking
through a queue means *holding* what was seen until the look is over: both emulators (and, by chance, AWS)
hand a message released with visibility 0 straight back to the next receive, so releasing each
non-matching message at once would make a reader see the same ten forever. So a reader holds what it has
seen (:class:`Held`) and releases all of it with ``ChangeMessageVisibility 0`` the moment it is done — on
success, on an error and on Ctrl-C. If the reader is killed, what it held returns by itself when the
visibility timeout it chose runs out.

SQS lets a standard queue have about 120,000 messages in flight; past that, receive answers ``OverLimit``
(:class:`InFlightLimit`).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from tributary.operators.batches import change_visibility
from tributary.operators.letters import Letter, letter_from_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import MessageSystemAttributeNameType

SYSTEM_ATTRIBUTES: list[MessageSystemAttributeNameType] = ["SentTimestamp", "ApproximateReceiveCount"]


class InFlightLimit(RuntimeError):
    """The queue holds as many in-flight messages as SQS allows; a reader cannot hold more."""


@dataclass(frozen=True, kw_only=True)
class QueueCounts:
    """SQS's approximate counts for one queue."""

    visible: int
    in_flight: int
    delayed: int = 0

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


def queue_counts(sqs: SQSClient, url: str) -> QueueCounts:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return QueueCounts(
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def receive(
    sqs: SQSClient, url: str, *, max_messages: int, visibility_s: int, wait_s: int = 1
) -> list[Letter]:
    """Up to ``max_messages`` (≤ 10) messages, hidden for ``visibility_s``, decoded as :class:`Letter`.

    Raises:
        InFlightLimit: SQS refuses to put more messages in flight.
    """
    try:
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=wait_s,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=SYSTEM_ATTRIBUTES,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"OverLimit", "AWS.SimpleQueueService.OverLimit"}:
            raise InFlightLimit(str(exc)) from exc
        raise
    return [letter_from_message(m) for m in response.get("Messages", [])]


class Held:
    """Messages a reader holds invisible, by message id (the latest receipt handle wins); thread-safe."""

    def __init__(self, sqs: SQSClient, url: str) -> None:
        self._sqs = sqs
        self._url = url
        self._letters: dict[str, Letter] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._letters)

    def __contains__(self, message_id: object) -> bool:
        with self._lock:
            return message_id in self._letters

    def hold(self, letters: list[Letter]) -> None:
        with self._lock:
            for letter in letters:
                self._letters[letter.message_id] = letter

    def letters(self) -> list[Letter]:
        with self._lock:
            return list(self._letters.values())

    def release_all(self, *, concurrency: int = 4) -> tuple[int, int]:
        """Make every held message visible again now, a few calls at once; returns ``(released, failed)``.

        A handle that fails has usually expired: its message is visible already.
        """
        with self._lock:
            letters, self._letters = list(self._letters.values()), {}
        slices = [letters[i :: max(1, concurrency)] for i in range(max(1, concurrency))]

        def release(part: list[Letter]) -> tuple[int, int]:
            result = change_visibility(
                self._sqs, self._url, part, handle=lambda le: le.receipt_handle, timeout_s=0
            )
            return len(result.ok), len(result.failed)

        with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="release") as pool:
            results = list(pool.map(release, [part for part in slices if part]))
        return sum(ok for ok, _ in results), sum(failed for _, failed in results)


def peek(sqs: SQSClient, url: str, *, count: int, visibility_s: int = 30, wait_s: int = 1) -> list[Letter]:
    """Up to ``count`` messages, read and released again: nothing is consumed.

    Each message is hidden for at most ``visibility_s`` (until the peek ends, normally well under that) and
    its ``ApproximateReceiveCount`` goes up by one.
    """
    held = Held(sqs, url)
    seen: dict[str, Letter] = {}
    try:
        while len(seen) < count:
            got = receive(sqs, url, max_messages=count - len(seen), visibility_s=visibility_s, wait_s=wait_s)
            held.hold(got)
            fresh = [le for le in got if le.message_id not in seen]
            if not fresh:
                break
            seen.update((le.message_id, le) for le in fresh)
    except InFlightLimit:
        pass  # show what was read so far
    finally:
        held.release_all()
    return list(seen.values())[:count]
