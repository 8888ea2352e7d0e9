"""SQS adapter of :class:`~shared.ports.MessageQueue`, batch calls entry by entry.

It calls SQS through the lean JSON caller (:class:`~shared.awsjson.JsonApi`, what services use: a fraction
of botocore's CPU per call) or a boto3 client (moto's in-process SQS in tests, ``aws_lean_calls`` off), both
through one ``call`` (:class:`~shared.awsjson.BotoCaller` wraps the client). Every call is bounded: the
caller's retries (standard mode) handle throttling and connection resets; what still fails becomes
:class:`~shared.errors.RetryableError`. A batch call over more than 10 entries (settling a 1,000-message
batch) runs its chunks of 10 on a few threads: sequential round trips, not the store write, would otherwise
bound a worker's throughput.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import batched
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from shared import aws
from shared.awsjson import AwsCaller, BotoCaller, JsonApi
from shared.errors import RetryableError
from shared.messages import DeadLetter, Message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from shared.settings import WorkerSettings

_SQS_BATCH = 10
_READ_MARGIN_S = 10  # a long poll's answer may take this much longer than its wait

log = structlog.get_logger()


class SqsQueue:
    """A queue and its DLQ, reached through ``api`` (the lean caller) or ``client`` (boto3): one of them."""

    def __init__(
        self,
        *,
        queue_url: str,
        dlq_url: str,
        api: JsonApi | None = None,
        client: SQSClient | None = None,
        concurrency: int = 8,
    ) -> None:
        if (api is None) == (client is None):
            raise ValueError("SqsQueue takes either api or client")
        self._caller: AwsCaller = api if api is not None else BotoCaller(client)
        self._queue_url = queue_url
        self._dlq_url = dlq_url
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sqs-batch")

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        response = self._invoke(
            "ReceiveMessage",
            {
                "QueueUrl": self._queue_url,
                "MaxNumberOfMessages": min(max_messages, _SQS_BATCH),
                "WaitTimeSeconds": wait_s,
                "MessageSystemAttributeNames": [
                    "ApproximateReceiveCount",
                    "ApproximateFirstReceiveTimestamp",
                    "AWSTraceHeader",
                ],
                "MessageAttributeNames": ["All"],
            },
            read_timeout_s=wait_s + _READ_MARGIN_S,
        )
        return [_to_message(m) for m in response.get("Messages", [])]

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        return self._per_entry(
            messages,
            lambda chunk: self._invoke(
                "DeleteMessageBatch",
                {
                    "QueueUrl": self._queue_url,
                    "Entries": [
                        {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)
                    ],
                },
            ),
        )

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        return self._per_entry(
            messages,
            lambda chunk: self._invoke(
                "ChangeMessageVisibilityBatch",
                {
                    "QueueUrl": self._queue_url,
                    "Entries": [
                        {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout_s}
                        for i, m in enumerate(chunk)
                    ],
                },
            ),
        )

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        return self._per_entry(
            letters,
            lambda chunk: self._invoke(
                "SendMessageBatch",
                {
                    "QueueUrl": self._dlq_url,
                    "Entries": [
                        {
                            "Id": str(i),
                            "MessageBody": letter.body,
                            "MessageAttributes": _string_attributes(letter.attributes),
                        }
                        for i, letter in enumerate(chunk)
                    ],
                },
            ),
        )

    def _per_entry[T](self, items: Sequence[T], call: Callable[[tuple[T, ...]], Any]) -> list[T]:
        """Run a batch API over ``items`` in chunks of 10, concurrently; the items whose entries failed.

        A chunk whose call fails as a whole counts as failed entry by entry, so one bad round trip never
        hides what the other chunks did.
        """
        chunks = list(batched(items, _SQS_BATCH, strict=False))
        if len(chunks) <= 1:  # one call: on this thread, no hand-off to the pool
            return [item for chunk in chunks for item in self._failed_of(call, chunk)]
        return [
            item for failed in self._pool.map(lambda c: self._failed_of(call, c), chunks) for item in failed
        ]

    def _failed_of[T](self, call: Callable[[tuple[T, ...]], Any], chunk: tuple[T, ...]) -> list[T]:
        try:
            response = call(chunk)
        except RetryableError as exc:
            log.warning("sqs_batch_call_failed", entries=len(chunk), error=str(exc)[:300])
            return list(chunk)
        return [chunk[int(entry["Id"])] for entry in response.get("Failed", [])]

    def _invoke(self, operation: str, params: dict[str, Any], *, read_timeout_s: float | None = None) -> Any:
        try:
            return self._caller.call(operation, params, read_timeout_s=read_timeout_s)
        except (ClientError, BotoCoreError) as exc:
            raise RetryableError(f"SQS {operation} failed: {exc}") from exc


def worker_queue(settings: WorkerSettings) -> SqsQueue:
    """A worker's queue and DLQ (from its settings), reached through the lean JSON caller unless its
    ``aws_lean_calls`` setting is off."""
    api = aws.lean_api("sqs", enabled=settings.aws_lean_calls)
    client = None if api is not None else aws.client("sqs")
    return SqsQueue(api=api, client=client, queue_url=settings.queue_url, dlq_url=settings.dlq_url)


def _string_attributes(attributes: dict[str, str]) -> dict[str, dict[str, str]]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}


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
