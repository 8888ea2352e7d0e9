"""Replay: archived events back onto the bus, or straight into one service's queue.

The archive is read through its one reader, :mod:`tributary.lake.archive` (the archiver's layout: type,
version, day and hour of the event's own time, one envelope per line). A replay lists only the partitions
in range — one prefix per type, version and day, hours outside the range skipped by key — reads them in
time order, keeps the events whose ``time`` is in ``[since, until)`` (each id once), and publishes:

- to the bus, with ``PutEvents`` in batches of 10 as the producer did (``DetailType`` ``<type>.v<version>``,
  its ``Source``): every current rule evaluates them, so every subscriber gets them again (idempotently);
- to one service's queue, with ``SendMessageBatch``, as the EventBridge event its rule would have delivered
  (plus ``replay-name``, as EventBridge's own replays add): only that consumer sees them — the way to
  backfill a new service. Events the service's manifest does not subscribe to are left out.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import batched
from typing import TYPE_CHECKING, Any, Protocol

from shared.manifest import ServiceManifest
from tributary.lake.archive import lines, objects_between
from tributary.operators.batches import BatchResult, put_events, send_messages
from tributary.operators.ratelimit import TokenBucket, Unlimited

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

Event = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ArchiveQuery:
    """Which archived events: ``types`` as ``sensor.reading`` or ``sensor.reading.v1`` (none: all), and the
    half-open event-time range ``[since, until)``."""

    since: datetime
    until: datetime
    types: tuple[str, ...] = ()

    def wants(self, type_: str, version: int) -> bool:
        return not self.types or type_ in self.types or f"{type_}.v{version}" in self.types

    def contains(self, event: Event) -> bool:
        try:
            at = datetime.fromisoformat(str(event["time"]))
        except (KeyError, ValueError):
            return False
        return self.since <= at < self.until


def archive_keys(s3: S3Client, bucket: str, query: ArchiveQuery) -> list[str]:
    """The objects of every partition in range, oldest hour first."""
    return [o.key for o in objects_between(s3, bucket, query.since, query.until, wants=query.wants)]


def read_object(s3: S3Client, bucket: str, key: str) -> list[Event]:
    """The events of the object ``key``, as the JSON they were archived as."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for _, line in lines(body, key)]


class Publisher(Protocol):
    """Where replayed events go; ``publish`` handles each event on its own."""

    name: str

    def publish(self, events: list[Event]) -> BatchResult[Event]: ...


def detail_type(event: Event) -> str:
    return f"{event['type']}.v{event['version']}"


class BusPublisher:
    def __init__(self, *, events: EventBridgeClient, bus_name: str) -> None:
        self._events = events
        self._bus = bus_name
        self.name = f"bus {bus_name}"

    def _entry(self, event: Event) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "EventBusName": self._bus,
            "Source": event["source"],
            "DetailType": detail_type(event),
            "Detail": json.dumps(event, separators=(",", ":")),
            "Time": datetime.fromisoformat(event["time"]),
        }
        if event.get("trace"):
            entry["TraceHeader"] = event["trace"]
        return entry

    def publish(self, events: list[Event]) -> BatchResult[Event]:
        return put_events(self._events, events, entry=self._entry)


class QueuePublisher:
    """One service's queue, each event wrapped as its rule would have delivered it."""

    def __init__(self, *, sqs: SQSClient, url: str, queue_arn: str, replay_name: str) -> None:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        self._sqs = sqs
        self._url = url
        self._region, self._account = region, account
        self.replay_name = replay_name
        self.name = f"queue {name}"

    def body(self, event: Event) -> str:
        at = datetime.fromisoformat(event["time"]).astimezone(UTC)
        wrapped = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type(event),
            "source": event["source"],
            "account": self._account,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [],
            "detail": event,
            "replay-name": self.replay_name,
        }
        return json.dumps(wrapped, separators=(",", ":"))

    def publish(self, events: list[Event]) -> BatchResult[Event]:
        return send_messages(self._sqs, self._url, events, body=self.body)


def consumed_by(manifest: ServiceManifest) -> Callable[[Event], bool]:
    """Whether the service's manifest subscribes to an event."""

    def check(event: Event) -> bool:
        return any(
            s.type == "*" or (s.type == event.get("type") and event.get("version") in s.versions)
            for s in manifest.consumes
        )

    return check


@dataclass(kw_only=True)
class ReplayReport:
    destination: str = ""
    objects: int = 0
    objects_read: int = 0
    events_read: int = 0
    selected: int = 0
    published: int = 0
    failed: int = 0
    not_consumed: int = 0
    duplicates: int = 0
    types: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        elapsed = self.elapsed_s or (time.monotonic() - self.started)
        return self.published / elapsed if elapsed > 0 else 0.0


def replay(
    *,
    s3: S3Client,
    bucket: str,
    query: ArchiveQuery,
    publisher: Publisher | None,
    dry_run_of: Publisher | None = None,
    consumes: Callable[[Event], bool] | None = None,
    limiter: TokenBucket | Unlimited | None = None,
    concurrency: int = 4,
    progress: Callable[[ReplayReport], None] = lambda _: None,
) -> ReplayReport:
    """Replay the events ``query`` selects to ``publisher`` (``None``: a dry run that only counts, for
    ``dry_run_of`` if given)."""
    bucket_limit = limiter or Unlimited()
    report = ReplayReport(destination=publisher.name if publisher else "(dry run)")
    if publisher is None and dry_run_of is not None:
        report.destination = f"{dry_run_of.name} (dry run)"
    keys = archive_keys(s3, bucket, query)
    report.objects = len(keys)
    progress(report)
    seen: set[str] = set()
    pending: set[Future[BatchResult[Event]]] = set()

    def settle(done: set[Future[BatchResult[Event]]]) -> None:
        for future in done:
            result = future.result()
            report.published += len(result.ok)
            report.failed += len(result.failed)
            report.failures.update(why.split(":", 1)[0] for _, why in result.failed)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="replay") as pool:
        for key in keys:
            chosen = []
            for event in read_object(s3, bucket, key):
                report.events_read += 1
                if not query.contains(event):
                    continue
                if event.get("id") in seen:
                    report.duplicates += 1
                    continue
                seen.add(str(event.get("id")))
                if consumes is not None and not consumes(event):
                    report.not_consumed += 1
                    continue
                chosen.append(event)
            report.selected += len(chosen)
            report.types.update(detail_type(e) for e in chosen)
            for chunk in batched(chosen, 10, strict=False):
                if publisher is None:
                    continue
                bucket_limit.acquire(len(chunk))
                pending.add(pool.submit(publisher.publish, list(chunk)))
                if len(pending) >= 2 * concurrency:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    settle(done)
                    progress(report)
            report.objects_read += 1
            progress(report)
        settle(set(pending))
    report.elapsed_s = time.monotonic() - report.started
    progress(report)
    return report
