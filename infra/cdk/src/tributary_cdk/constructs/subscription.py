"""A worker's subscription: the rule on the bus with the manifest's pattern, targeting its queue.

The target has the same retry policy as local provisioning and the service's DLQ as its dead-letter queue,
so an event EventBridge cannot deliver is kept, not dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from shared.manifest import ServiceManifest
from tributary_cdk.naming import TARGET_ID, TARGET_MAX_EVENT_AGE_S, TARGET_MAX_RETRY_ATTEMPTS, rule_name

_PATTERN_FIELDS = {
    "account": "account",
    "detail": "detail",
    "detail-type": "detail_type",
    "id": "id",
    "region": "region",
    "resources": "resources",
    "source": "source",
    "time": "time",
    "version": "version",
}


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """The CDK spelling of an EventBridge pattern document (``manifest.event_pattern()``).

    Raises:
        ValueError: a top-level field EventBridge patterns do not have.
    """
    unknown = sorted(set(pattern) - set(_PATTERN_FIELDS))
    if unknown:
        raise ValueError(f"event pattern fields {unknown} are not EventBridge event fields")
    return events.EventPattern(**{_PATTERN_FIELDS[k]: v for k, v in pattern.items()})


class Subscription(Construct):
    """Rule ``<bus>-<svc>`` → the service's queue (target id ``queue``), with retries and the DLQ.

    The target is declared on the rule itself rather than through ``aws_events_targets.SqsQueue``: that
    helper drops the ``aws:SourceArn`` condition from the queue policy whenever the queue is KMS-encrypted
    (to dodge a dependency cycle that only exists when the key lives in the same stack). Here the key is the
    core stack's, so both queue policies can say exactly which rule may send.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bus: events.IEventBus,
        bus_name: str,
        manifest: ServiceManifest,
        queue: sqs.IQueue,
        dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            rule_name=rule_name(bus_name, manifest.name),
            description=f"Tributary: events consumed by {manifest.name}",
            event_pattern=event_pattern(manifest.event_pattern()),
        )
        cfn = self.rule.node.default_child
        assert isinstance(cfn, events.CfnRule)
        cfn.targets = [
            events.CfnRule.TargetProperty(
                id=TARGET_ID,
                arn=queue.queue_arn,
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_retry_attempts=TARGET_MAX_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=TARGET_MAX_EVENT_AGE_S,
                ),
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dlq.queue_arn),
            )
        ]
        # The DLQ also receives the rule's undeliverable events, so it needs the same permission.
        for target in (queue, dlq):
            target.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowRuleToSend",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[target.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": self.rule.rule_arn}},
                )
            )
