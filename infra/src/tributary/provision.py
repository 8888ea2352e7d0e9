"""Local provisioning: the bus, one queue + DLQ + rule per worker, and the archive bucket, from the manifests.

The topology has one source of truth, the service manifests (:func:`shared.manifest.load_manifests`).
For each worker service ``<svc>`` on bus ``<bus>`` this creates:

- SQS ``<bus>-<svc>-dlq`` and ``<bus>-<svc>``; the queue redrives to the DLQ after the manifest's
  ``max_receive_count`` receives; both allow ``events.amazonaws.com`` to send from the service's rule only;
- rule ``<bus>-<svc>`` on the bus with ``manifest.event_pattern()``, targeting the queue with a retry
  policy and the service's DLQ as the target's dead-letter queue (delivery failures);
- for each of the manifest's ``topics``, SNS topic ``<bus>-<svc>-<topic>``.

Every call is an upsert, so provisioning twice changes nothing, and re-provisioning after a manifest change
updates queue settings and patterns in place. Rules are never disabled to pause a subscription: a disabled
rule still delivers on LocalStack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from shared.manifest import ServiceManifest, load_manifests

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

log = structlog.get_logger(__name__)

TARGET_ID = "queue"
TARGET_MAX_RETRY_ATTEMPTS = 185
TARGET_MAX_EVENT_AGE_S = 86_400


@dataclass(frozen=True, kw_only=True)
class QueueInfo:
    """A worker's queue, its DLQ and the rule that feeds them."""

    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    rule_name: str
    rule_arn: str


@dataclass(frozen=True, kw_only=True)
class Topology:
    """What :func:`provision` built."""

    bus_name: str
    bus_arn: str
    bucket: str
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    topics: dict[str, dict[str, str]] = field(default_factory=dict)
    """``{service: {topic name: topic ARN}}``."""


def _queue_policy(queue_arn: str, rule_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowRuleToSend",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        },
        sort_keys=True,
    )


def _ensure_queue(
    sqs: SQSClient, name: str, attributes: Mapping[QueueAttributeNameType, str]
) -> tuple[str, str]:
    """Create ``name`` or bring an existing one to ``attributes``; returns ``(url, arn)``."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        }:
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    else:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _ensure_bus(events: EventBridgeClient, bus_name: str) -> str:
    try:
        return str(events.create_event_bus(Name=bus_name)["EventBusArn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    return str(events.describe_event_bus(Name=bus_name)["Arn"])


def _ensure_bucket(s3: S3Client, bucket: str) -> None:
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def _provision_worker(
    sqs: SQSClient, events: EventBridgeClient, manifest: ServiceManifest, bus_name: str
) -> QueueInfo:
    settings = manifest.queue
    name = f"{bus_name}-{manifest.name}"
    rule_arn = events.put_rule(
        Name=name,
        EventBusName=bus_name,
        EventPattern=json.dumps(manifest.event_pattern(), sort_keys=True),
        State="ENABLED",
        Description=f"Tributary: events consumed by {manifest.name}",
    )["RuleArn"]
    dlq_url, dlq_arn = _ensure_queue(
        sqs, f"{name}-dlq", {"MessageRetentionPeriod": str(settings.dlq_retention_s)}
    )
    # The DLQ also receives the rule's undeliverable events, so it needs the same permission.
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"Policy": _queue_policy(dlq_arn, rule_arn)})
    url, arn = _ensure_queue(
        sqs,
        name,
        {
            "VisibilityTimeout": str(settings.visibility_timeout_s),
            "MessageRetentionPeriod": str(settings.retention_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.max_receive_count)}
            ),
        },
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _queue_policy(arn, rule_arn)})
    result = events.put_targets(
        Rule=name,
        EventBusName=bus_name,
        Targets=[
            {
                "Id": TARGET_ID,
                "Arn": arn,
                "RetryPolicy": {
                    "MaximumRetryAttempts": TARGET_MAX_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": TARGET_MAX_EVENT_AGE_S,
                },
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    if result.get("FailedEntryCount"):
        raise RuntimeError(f"put_targets failed for rule {name}: {result['FailedEntries']}")
    return QueueInfo(url=url, arn=arn, dlq_url=dlq_url, dlq_arn=dlq_arn, rule_name=name, rule_arn=rule_arn)


def _provision_topics(sns: SNSClient, manifest: ServiceManifest, bus_name: str) -> dict[str, str]:
    """CreateTopic is idempotent: the same name gives the same ARN."""
    return {
        topic: str(sns.create_topic(Name=f"{bus_name}-{manifest.name}-{topic}")["TopicArn"])
        for topic in manifest.topics
    }


def serves_dynamodb(dynamodb: DynamoDBClient) -> bool:
    """Whether the endpoint offers DynamoDB (AWS and MiniStack do; LocalStack on the host here does not)."""
    try:
        dynamodb.list_tables(Limit=1)
    except (ClientError, BotoCoreError) as exc:
        log.info("dynamodb_not_offered", error=str(exc)[:200], fallback="embedded state stores")
        return False
    return True


def provision(
    *,
    sqs: SQSClient,
    events: EventBridgeClient,
    s3: S3Client,
    sns: SNSClient | None = None,
    bucket: str,
    bus_name: str = "tributary",
    manifests: Sequence[ServiceManifest] | None = None,
) -> Topology:
    """Create or update the whole local topology; safe to run any number of times.

    Args:
        sqs, events, s3, sns: boto3 clients pointed at the emulator (or an AWS account); ``sns`` is needed
            only when a manifest declares topics.
        bucket: the archive bucket; unique per stack on LocalStack (its S3 folder is shared on the host).
        bus_name: the EventBridge bus; also the prefix of queue and rule names.
        manifests: the services; default: every installed one (:func:`load_manifests`).

    Returns:
        the bus, the bucket and each worker's queue, DLQ and rule.

    Raises:
        botocore.exceptions.ClientError: an AWS call failed for any other reason than "already exists".
    """
    started = time.monotonic()
    services = list(load_manifests() if manifests is None else manifests)
    bus_arn = _ensure_bus(events, bus_name)
    _ensure_bucket(s3, bucket)
    queues = {m.name: _provision_worker(sqs, events, m, bus_name) for m in services if m.is_worker}
    with_topics = [m for m in services if m.topics]
    if with_topics and sns is None:
        raise ValueError(f"services {[m.name for m in with_topics]} declare topics: pass an sns client")
    topics = {} if sns is None else {m.name: _provision_topics(sns, m, bus_name) for m in with_topics}
    ms = round((time.monotonic() - started) * 1000)
    log.info("provisioned", bus=bus_name, bucket=bucket, workers=sorted(queues), topics=sorted(topics), ms=ms)
    return Topology(bus_name=bus_name, bus_arn=bus_arn, bucket=bucket, queues=queues, topics=topics)
