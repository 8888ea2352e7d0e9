"""SQS and EventBridge batch calls, handled entry by entry.

Each helper sends items in calls of at most 10 entries (and, for sends, at most ``max_bytes`` of payload;
a bigger item goes alone), retries the entries that failed for a reason worth retrying (throttling, an
internal error) a few times with a short backoff, and returns which items made it and which did not, with
the endpoint's code and message. An error of a whole call (after botocore's own retries) propagates: the
callers only delete what was delivered, so stopping there loses nothing. ``PutEvents`` goes through the
shared sender (:mod:`shared.putevents`), the one owner of its batching and per-entry retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import wait_chain, wait_fixed
from tenacity.wait import wait_base

from shared import putevents

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

# SQS batch calls' limits: 10 entries, 256 KiB of payload (PutEvents' are shared.putevents').
MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
RETRY_DELAYS_S = (0.1, 0.3, 1.0)


@dataclass(kw_only=True)
class BatchResult[T]:
    """Items whose entries succeeded, and items that failed with ``"Code: message"``."""

    ok: list[T] = field(default_factory=list)
    failed: list[tuple[T, str]] = field(default_factory=list)

    def extend(self, other: BatchResult[T]) -> None:
        self.ok.extend(other.ok)
        self.failed.extend(other.failed)


def _per_entry[T](
    items: Sequence[T],
    # One call over a chunk: {index in the chunk: (code, message, retryable)} for the entries that failed.
    call: Callable[[list[T]], dict[int, tuple[str, str, bool]]],
    *,
    size_of: Callable[[T], int] = lambda _: 0,
    max_bytes: int = MAX_REQUEST_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult[T]:
    result: BatchResult[T] = BatchResult()
    for chunk in putevents.runs(items, size_of=size_of, max_bytes=max_bytes, max_entries=MAX_ENTRIES):
        pending = chunk
        for delay in (*RETRY_DELAYS_S, None):
            failures = call(pending)
            result.ok.extend(item for i, item in enumerate(pending) if i not in failures)
            retry = [pending[i] for i, (_, _, retryable) in failures.items() if retryable]
            result.failed.extend(
                (pending[i], f"{code}: {message}")
                for i, (code, message, retryable) in failures.items()
                if not retryable or delay is None
            )
            if not retry or delay is None:
                break
            sleep(delay)
            pending = retry
    return result


def _sqs_failures(response: Mapping[str, Any]) -> dict[int, tuple[str, str, bool]]:
    return {
        int(f["Id"]): (f.get("Code", "?"), f.get("Message", ""), not f.get("SenderFault", False))
        for f in response.get("Failed", [])
    }


def send_messages[T](
    sqs: SQSClient,
    queue_url: str,
    items: Sequence[T],
    *,
    body: Callable[[T], str],
    attributes: Callable[[T], dict[str, Any]] = lambda _: {},
    max_bytes: int = MAX_REQUEST_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult[T]:
    """``SendMessageBatch`` each item's ``body`` (and message ``attributes``) to ``queue_url``."""

    def call(chunk: list[T]) -> dict[int, tuple[str, str, bool]]:
        entries: list[SendMessageBatchRequestEntryTypeDef] = []
        for i, item in enumerate(chunk):
            entry: SendMessageBatchRequestEntryTypeDef = {"Id": str(i), "MessageBody": body(item)}
            if attrs := attributes(item):
                entry["MessageAttributes"] = attrs
            entries.append(entry)
        return _sqs_failures(sqs.send_message_batch(QueueUrl=queue_url, Entries=entries))

    return _per_entry(
        items, call, size_of=lambda item: len(body(item).encode()), max_bytes=max_bytes, sleep=sleep
    )


def delete_messages[T](
    sqs: SQSClient, queue_url: str, items: Sequence[T], *, handle: Callable[[T], str]
) -> BatchResult[T]:
    """``DeleteMessageBatch`` by receipt handle; an expired handle fails its entry only."""

    def call(chunk: list[T]) -> dict[int, tuple[str, str, bool]]:
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": handle(item)} for i, item in enumerate(chunk)
        ]
        return _sqs_failures(sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries))

    return _per_entry(items, call)


def change_visibility[T](
    sqs: SQSClient, queue_url: str, items: Sequence[T], *, handle: Callable[[T], str], timeout_s: int
) -> BatchResult[T]:
    """``ChangeMessageVisibilityBatch``: 0 releases messages now, more hides them longer."""

    def call(chunk: list[T]) -> dict[int, tuple[str, str, bool]]:
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": handle(item), "VisibilityTimeout": timeout_s}
            for i, item in enumerate(chunk)
        ]
        return _sqs_failures(sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries))

    return _per_entry(items, call)


def put_events[T](
    events: EventBridgeClient,
    items: Sequence[T],
    *,
    entry: Callable[[T], dict[str, Any]],
    max_bytes: int = putevents.MAX_REQUEST_BYTES,
    wait: wait_base | None = None,
) -> BatchResult[T]:
    """``PutEvents`` one entry per item through the shared sender (:mod:`shared.putevents`: its chunking by
    count and by size as AWS sizes entries, its per-entry retries, malformed entries never retried), with
    this module's retry delays; an error of a whole call propagates, as for the SQS helpers."""
    sender = putevents.PutEventsSender(
        client=events,
        max_request_bytes=max_bytes,
        max_attempts=len(RETRY_DELAYS_S) + 1,
        concurrency=1,
        wait=wait or wait_chain(*(wait_fixed(delay) for delay in RETRY_DELAYS_S)),
        raise_call_errors=True,
    )
    try:
        failures = {f.index: f for f in sender.send([entry(item) for item in items])}
    finally:
        sender.close()
    return BatchResult(
        ok=[item for i, item in enumerate(items) if i not in failures],
        failed=[(items[i], f"{f.code}: {f.message}") for i, f in sorted(failures.items())],
    )
