"""Topology and health: what consumes what, queue depths and oldest ages, and the workers' ``/healthz``.

The oldest message's age comes from CloudWatch (``AWS/SQS`` ``ApproximateAgeOfOldestMessage``) where the
endpoint has it, and otherwise from a peek at the queue's ``SentTimestamp`` (the emulators publish no such
metric); each age says which. A peek counts as a receive, and on a worker's own queue that brings a
message closer to its DLQ, so source queues are peeked only when asked (``peek_queues``); DLQs always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from shared.manifest import ServiceManifest
from tributary.operators.scan import QueueCounts, peek, queue_counts
from tributary.operators.target import QueuePair, Target, TargetError, queue_name

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True, kw_only=True)
class Age:
    """The oldest message's age in seconds (``None``: unknown or empty) and where it came from."""

    seconds: float | None
    source: str  # "cloudwatch", "peek", "peek (skipped)", "empty"


def cloudwatch_age(cloudwatch: CloudWatchClient, name: str, *, now: datetime | None = None) -> float | None:
    """The latest ``ApproximateAgeOfOldestMessage`` of the last 15 minutes, if CloudWatch has one."""
    end = now or datetime.now(UTC)
    try:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": name}],
            StartTime=end - timedelta(minutes=15),
            EndTime=end,
            Period=60,
            Statistics=["Maximum"],
        ).get("Datapoints", [])
    except (ClientError, BotoCoreError):
        return None  # no CloudWatch here, or no permission: the caller peeks
    if not points:
        return None
    return float(max(points, key=lambda p: p["Timestamp"])["Maximum"])


def peek_age(sqs: SQSClient, url: str, *, now: datetime | None = None) -> float | None:
    """The age of the oldest of up to 10 peeked messages (the emulators hand out the oldest first)."""
    letters = peek(sqs, url, count=10, visibility_s=10, wait_s=0)
    sent = [le.sent_at for le in letters if le.sent_at]
    return ((now or datetime.now(UTC)) - min(sent)).total_seconds() if sent else None


def oldest_age(
    *, cloudwatch: CloudWatchClient, sqs: SQSClient, name: str, url: str, counts: QueueCounts, may_peek: bool
) -> Age:
    if counts.visible + counts.in_flight == 0:
        return Age(seconds=None, source="empty")
    seconds = cloudwatch_age(cloudwatch, name)
    if seconds is not None:
        return Age(seconds=seconds, source="cloudwatch")
    if not may_peek:
        return Age(seconds=None, source="peek (skipped)")
    return Age(seconds=peek_age(sqs, url), source="peek")


@dataclass(frozen=True, kw_only=True)
class QueueStatus:
    service: str
    kind: str  # "queue" or "dlq"
    name: str
    counts: QueueCounts | None
    age: Age
    error: str | None = None


def queue_status(target: Target, *, peek_queues: bool = False) -> list[QueueStatus]:
    """Every worker's queue and DLQ: counts and oldest age."""
    sqs, cloudwatch = target.client("sqs"), target.client("cloudwatch")
    rows: list[QueueStatus] = []
    for service in target.workers():
        try:
            pair = target.queue_pair(service)
        except TargetError as exc:
            rows.append(
                QueueStatus(
                    service=service,
                    kind="queue",
                    name=queue_name(target.bus_name, service),
                    counts=None,
                    age=Age(seconds=None, source="—"),
                    error=str(exc),
                )
            )
            continue
        for kind, name, url in (("queue", pair.name, pair.url), ("dlq", pair.dlq_name, pair.dlq_url)):
            counts = queue_counts(sqs, url)
            age = oldest_age(
                cloudwatch=cloudwatch,
                sqs=sqs,
                name=name,
                url=url,
                counts=counts,
                may_peek=kind == "dlq" or peek_queues,
            )
            rows.append(QueueStatus(service=service, kind=kind, name=name, counts=counts, age=age))
    return rows


@dataclass(frozen=True, kw_only=True)
class WorkerHealth:
    service: str
    url: str
    ok: bool
    detail: str
    restarts: int = 0
    last_exit: str | None = None


def worker_health(
    health_urls: dict[str, list[str]],
    *,
    restarts: dict[str, list[tuple[int, str | None]]] | None = None,
    get: Callable[[str], httpx.Response] | None = None,
) -> list[WorkerHealth]:
    """``GET <url>/healthz`` of every replica: ok on 200, the status or the error otherwise; with the local
    supervisor's restart count and last exit reason per replica, where known."""
    fetch = get or (lambda url: httpx.get(url, timeout=2.0))
    out: list[WorkerHealth] = []
    for service, urls in sorted(health_urls.items()):
        history = (restarts or {}).get(service, [])
        for replica, url in enumerate(urls):
            count, last_exit = history[replica] if replica < len(history) else (0, None)
            try:
                response = fetch(url.rstrip("/") + "/healthz")
                ok, detail = response.status_code == 200, str(response.status_code)
            except httpx.HTTPError as exc:
                ok, detail = False, type(exc).__name__
            out.append(
                WorkerHealth(
                    service=service, url=url, ok=ok, detail=detail, restarts=count, last_exit=last_exit
                )
            )
    return out


@dataclass(frozen=True, kw_only=True)
class ServiceTopology:
    """One service: what it consumes and, for workers, its queue, DLQ and rule as the endpoint has them."""

    name: str
    consumes: list[str]
    http: bool
    queue: QueuePair | None = None
    rule: str | None = None
    rule_state: str | None = None
    rule_targets: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def describe_consumes(manifest: ServiceManifest) -> list[str]:
    return [
        "* (every event)" if s.type == "*" else f"{s.type} v{','.join(map(str, s.versions))}"
        for s in manifest.consumes
    ]


def topology(target: Target) -> list[ServiceTopology]:
    """Every service of the target, its workers checked against the endpoint."""
    events = target.client("events")
    names = target.service_names()
    out: list[ServiceTopology] = []
    for name in names:
        manifest = target.manifest(name)
        consumes = describe_consumes(manifest) if manifest else ["(not installed here)"]
        if manifest is not None and not manifest.is_worker:
            out.append(ServiceTopology(name=name, consumes=consumes, http=manifest.http))
            continue
        problems: list[str] = []
        try:
            pair: QueuePair | None = target.queue_pair(name)
        except TargetError as exc:
            pair = None
            problems.append(str(exc))
        rule = queue_name(target.bus_name, name)
        state, targets = _rule(events, rule, target.bus_name, problems)
        out.append(
            ServiceTopology(
                name=name,
                consumes=consumes,
                http=bool(manifest and manifest.http),
                queue=pair,
                rule=rule,
                rule_state=state,
                rule_targets=targets,
                problems=problems,
            )
        )
    return out


def _rule(
    events: EventBridgeClient, rule: str, bus: str, problems: list[str]
) -> tuple[str | None, list[str]]:
    try:
        state = str(events.describe_rule(Name=rule, EventBusName=bus).get("State", "?"))
        targets = events.list_targets_by_rule(Rule=rule, EventBusName=bus).get("Targets", [])
    except ClientError as exc:
        problems.append(f"rule {rule}: {exc.response['Error'].get('Code')}")
        return None, []
    if not targets:
        problems.append(f"rule {rule} has no target: the service receives nothing")
    return state, [str(t["Arn"]).rsplit(":", 1)[-1] for t in targets]
