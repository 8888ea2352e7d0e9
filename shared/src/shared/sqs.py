"""SQS adapter of :class:`~shared.ports.MessageQueue`, batch calls entry by entry.

Every call is bounded: botocore's own retries (standard mode) handle throttling and connection resets;
what still fails becomes :class:`~shared.errors.RetryableError`. A batch call over more than 10 entries
(settling a 1,000-message batch) runs its chunks of 10 on a few threads: sequential round trips, not the
store write, would otherwise bound a worker's throughput.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import batched
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import RetryableError
from shared.messages import DeadLetter, Message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_SQS_BATCH = 10

log = structlog.get_logger()


class SqsQueue:
    """A queue and its DLQ, reached through one injected boto3 SQS client."""

    def __init__(self, *, client: SQSClient, queue_url: str, dlq_url: str, concurrency: int = 8) -> None:
        self._client = client
        self._queue_url = queue_url
        self._dlq_url = dlq_url
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sqs-batch")

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        response = self._call(
            self._client.receive_message,
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(max_messages, _SQS_BATCH),
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=[
                "ApproximateReceiveCount",
                "ApproximateFirstReceiveTimestamp",
                "AWSTraceHeader",
            ],
            MessageAttributeNames=["All"],
        )
        return [_to_message(m) for m in response.get("Messages", [])]

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        return self._per_entry(
            messages,
            lambda chunk: self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)],
            ),
        )

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        return self._per_entry(
            messages,
            lambda chunk: self._client.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout_s}
                    for i, m in enumerate(chunk)
                ],
            ),
        )

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        return self._per_entry(
            letters,
            lambda chunk: self._client.send_message_batch(
                QueueUrl=self._dlq_url,
                Entries=[
                    {
                        "Id": str(i),
                        "MessageBody": letter.body,
                        "MessageAttributes": {
                            k: {"DataType": "String", "StringValue": v} for k, v in letter.attributes.items()
                        },
                    }
                    for i, letter in enumerate(chunk)
                ],
            ),
        )

    def _per_entry[T](self, items: Sequence[T], call: Callable[[tuple[T, ...]], Any]) -> list[T]:
        """Run a batch API over ``items`` in chunks of 10, concurrently; the items whose entries failed.

        A chunk whose call fails as a whole counts as failed entry by entry, so one bad round trip never
        hides what the other chunks did.
        """
        chunks = list(batched(items, _SQS_BATCH, strict=False))
        return [
            item for failed in self._pool.map(lambda c: self._failed_of(call, c), chunks) for item in failed
        ]

    def _failed_of[T](self, call: Callable[[tuple[T, ...]], Any], chunk: tuple[T, ...]) -> list[T]:
        try:
            response = self._call(call, chunk)
        except RetryableError as exc:
            log.warning("sqs_batch_call_failed", entries=len(chunk), error=str(exc)[:300])
            return list(chunk)
        return [chunk[int(entry["Id"])] for entry in response.get("Failed", [])]

    @staticmethod
    def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise RetryableError(f"SQS call failed: {exc}") from exc


def _to_message(raw: dict[str, Any]) -> Message:
    system = raw.get("Attributes", {})
    return Message(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw["Body"],
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        first_received_ms=int(system.get("ApproximateFirstReceiveTimestamp", "0")),
        attributes={
            k: v["StringValue"] for k, v in raw.get("MessageAttributes", {}).items() if "StringValue" in v
        },
        trace_header=system.get("AWSTraceHeader"),
    )
