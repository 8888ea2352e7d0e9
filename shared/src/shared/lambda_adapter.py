"""The worker runtime under AWS Lambda: an SQS event source mapping with ``ReportBatchItemFailures``.

The same per-batch core as the poller (:class:`~shared.processing.BatchProcessor`: parse each envelope, call
the service's :class:`~shared.ports.BatchHandler` once for the whole invocation, sort each message's
outcome) runs over the records Lambda delivers. Only settling differs, because Lambda owns the deletes:

- stored → left out of ``batchItemFailures``: Lambda deletes it;
- permanent failure or last attempt → sent to the DLQ with the reason attributes through the injected
  queue, then left out of ``batchItemFailures`` (Lambda deletes it); if the DLQ send fails it is reported
  as a failure instead, so it comes back rather than being lost;
- retryable failure → reported in ``batchItemFailures``, after the same visibility backoff the poller
  applies (``ChangeMessageVisibility`` on its receipt handle; if that fails, it comes back after the
  queue's visibility timeout).
- store unavailable (:class:`~shared.errors.StoreUnavailable`) → reported in ``batchItemFailures``,
  hidden for the policy's longest backoff, and never dead-lettered by the runtime: Lambda cannot hold a
  message through an outage as the poller does, so each outage redelivery spends one of the queue's
  ``maxReceiveCount`` receives, and ``maxReceiveCount * backoff_max_s`` is the outage a Lambda deployment
  rides out (docs/decisions.md).

A message is left out of ``batchItemFailures`` only once the runtime settled it, so an unexpected error while
settling makes Lambda retry the message rather than drop it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from shared.errors import RetryableError
from shared.manifest import Subscription
from shared.messages import DeadLetter, Message
from shared.observe import BatchObserver
from shared.outcomes import SQS_MAX_VISIBILITY_S, RetryPolicy
from shared.ports import BatchHandler, MessageQueue
from shared.processing import BatchProcessor
from shared.upcasting import upcaster_for

log = structlog.get_logger()

LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, list[dict[str, str]]]]


def record_to_message(record: Mapping[str, Any]) -> Message:
    """A :class:`~shared.messages.Message` from one SQS record of a Lambda event.

    Lambda spells the fields its own way (``messageId``, ``receiptHandle``, ``messageAttributes`` with
    ``stringValue``/``dataType``); binary message attributes are not carried over.

    Raises:
        KeyError: the record lacks ``messageId``, ``receiptHandle`` or ``body`` (not an SQS record).
    """
    system = record.get("attributes") or {}
    return Message(
        message_id=record["messageId"],
        receipt_handle=record["receiptHandle"],
        body=record["body"],
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        first_received_ms=int(system.get("ApproximateFirstReceiveTimestamp", "0")),
        attributes={
            name: value["stringValue"]
            for name, value in (record.get("messageAttributes") or {}).items()
            if value.get("stringValue") is not None
        },
        trace_header=system.get("AWSTraceHeader"),
    )


class _InvocationQueue:
    """The :class:`~shared.ports.MessageQueue` one invocation settles through.

    Deletes are only recorded (Lambda deletes whatever is not reported as failed); DLQ sends and visibility
    changes go to the real queue.
    """

    def __init__(self, queue: MessageQueue) -> None:
        self._queue = queue
        self.settled: set[str] = set()

    def receive(self, *, max_messages: int, wait_s: int) -> list[Message]:
        raise NotImplementedError("under Lambda, the event source mapping receives")

    def delete(self, messages: Sequence[Message]) -> list[Message]:
        self.settled.update(m.message_id for m in messages)
        return []

    def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> list[Message]:
        try:
            self._queue.change_visibility(messages, timeout_s)
        except RetryableError as exc:  # the message still comes back, after the queue's own timeout
            log.warning("backoff_failed", messages=len(messages), error=str(exc))
        return []

    def dead_letter(self, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        return self._queue.dead_letter(letters)


def lambda_handler(
    batch_handler: BatchHandler,
    *,
    service: str,
    retry_policy: RetryPolicy,
    queue: MessageQueue,
    observer: BatchObserver | None = None,
    consumes: Sequence[Subscription] = (),
) -> LambdaHandler:
    """A Lambda handler for an SQS event source mapping with ``ReportBatchItemFailures``.

    Args:
        batch_handler: the service's handler, the same one its poller runs.
        service: the service name (DLQ reason attributes, logs).
        retry_policy: attempts and backoff, as the poller's; ``max_attempts`` should stay below the queue's
            ``maxReceiveCount`` so the runtime dead-letters with a reason before the redrive policy does.
        queue: the source queue and its DLQ (e.g. :class:`~shared.sqs.SqsQueue`): used for DLQ sends and
            visibility backoff, never to receive or delete.
        observer: where each invocation's batch reports (traces, EMF metrics); see
            :func:`shared.runner.batch_observer`.
        consumes: the service manifest's subscriptions: the handler sees only their newest versions.

    Returns:
        ``handler(event, context)`` returning ``{"batchItemFailures": [{"itemIdentifier": id}, …]}``.

    Raises:
        ValueError: (from the returned handler) the event holds no SQS records.
    """

    upcast = upcaster_for(consumes)

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        records = event.get("Records")
        if not isinstance(records, list):
            raise ValueError("not an SQS event: no Records list")
        messages = [record_to_message(r) for r in records]
        invocation = _InvocationQueue(queue)
        processor = BatchProcessor(
            queue=invocation,
            handler=batch_handler,
            service=service,
            policy=retry_policy,
            observer=observer,
            upcast=upcast,
        )
        request_id = getattr(context, "aws_request_id", None)
        with structlog.contextvars.bound_contextvars(aws_request_id=request_id):
            outcomes = processor.process(messages)
            if outcomes.unavailable:
                outage_backoff = min(round(retry_policy.backoff_max_s), SQS_MAX_VISIBILITY_S)
                invocation.change_visibility([m for m, _ in outcomes.unavailable], outage_backoff)
            failures = [m.message_id for m in messages if m.message_id not in invocation.settled]
            if failures:
                log.info("batch_item_failures", messages=len(messages), failed=len(failures))
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    return handler
