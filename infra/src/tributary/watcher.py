"""The stack's DLQ watcher: when a service's DLQ gains messages, an ``ops.dlq_depth`` event goes to ingest.

Locally this stands in for AWS's CloudWatch alarm → EventBridge path: the notifier receives the same event
shape either way and alerts through its channels. The watcher polls each DLQ's depth every ``interval_s``
and reports an increase (not a steady depth, so a DLQ left for an operator does not alert every poll);
``oldest_age_s`` is left unknown, as neither emulator here publishes SQS age metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = structlog.get_logger(__name__)

SOURCE = "tributary.watcher"

Publish = Callable[[list[dict[str, Any]]], None]


def dlq_event(service: str, queue: str, depth: int, now: datetime) -> dict[str, Any]:
    """An ``ops.dlq_depth`` v1 event as a producer submits it."""
    return {
        "type": "ops.dlq_depth",
        "version": 1,
        "source": SOURCE,
        "time": now.isoformat(),
        "data": {"service": service, "queue": queue, "depth": depth, "observed_at": now.isoformat()},
    }


class DlqWatcher:
    """Polls DLQ depths on a daemon thread and publishes an event for every increase.

    Args:
        sqs: a boto3 SQS client.
        dlqs: ``{service: DLQ URL}``.
        publish: sends events (e.g. POSTs them to ingest); its errors are logged, the watch goes on.
        interval_s: seconds between polls.
    """

    def __init__(
        self, *, sqs: SQSClient, dlqs: Mapping[str, str], publish: Publish, interval_s: float = 5.0
    ) -> None:
        self._sqs = sqs
        self._dlqs = dict(dlqs)
        self._publish = publish
        self._interval_s = interval_s
        self._last = dict.fromkeys(self._dlqs, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlq-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval_s + 5)

    def poll(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Read every DLQ's depth once; the events for those that grew (published too)."""
        now = now or datetime.now(UTC)
        events = []
        for service, url in self._dlqs.items():
            try:
                attrs = self._sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )
            except (BotoCoreError, ClientError) as exc:
                log.warning("dlq_watch_failed", service=service, error=str(exc)[:200])
                continue
            depth = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
            if depth > self._last[service]:
                events.append(dlq_event(service, url.rsplit("/", 1)[-1], depth, now))
            self._last[service] = depth
        if events:
            try:
                self._publish(events)
                log.info("dlq_depth_reported", services=[e["data"]["service"] for e in events])
            except Exception as exc:  # noqa: BLE001 - a failed report must not end the watch; next poll retries
                log.warning("dlq_report_failed", error=str(exc)[:200])
                for event in events:
                    self._last[event["data"]["service"]] = 0
        return events

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.poll()
