"""The core stack: what every service shares, once per bus.

- the EventBridge bus, and an archive of every event on it for replay, both encrypted with the key;
- the KMS key that encrypts queues, topics and stores (rotated yearly), usable by EventBridge (to deliver
  to encrypted queues) and CloudWatch (to publish alarms to the encrypted topic);
- the alarms SNS topic every service's alarms notify (optionally with an e-mail subscription);
- the VPC (public / private with egress / isolated subnets);
- optionally the EventBridge Schema Registry entries of the contracts;
- SSM parameters handing all of it to the service stacks (:mod:`tributary_cdk.constructs.core_refs`);
- the overview dashboard of every service (:mod:`tributary_cdk.constructs.dashboards`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from shared.manifest import ServiceManifest
from tributary_cdk.config import DeployConfig
from tributary_cdk.constructs.core_refs import CoreParameters
from tributary_cdk.constructs.dashboards import OverviewDashboard
from tributary_cdk.constructs.network import Network
from tributary_cdk.constructs.schemas import SchemaRegistry
from tributary_cdk.retention import log_retention


def _service_may_use_key(service: str, *extra: str) -> iam.PolicyStatement:
    """``service`` may encrypt with the key on this account's behalf only (confused-deputy guard)."""
    return iam.PolicyStatement(
        sid=f"Allow{service.split('.')[0].capitalize()}",
        principals=[iam.ServicePrincipal(service)],
        actions=["kms:Decrypt", "kms:GenerateDataKey", *extra],
        resources=["*"],  # in a key policy, "*" is this key
        conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
    )


class CoreStack(cdk.Stack):
    """The bus, its archive, the key, the alarms topic, the VPC and the overview dashboard of one Tributary
    deployment; ``services`` are the services the dashboard shows (their stacks are separate)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployConfig,
        schemas_dir: Path | None = None,
        services: Sequence[ServiceManifest] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, description=f"Tributary core ({config.bus_name})", **kwargs)
        bus_name = config.bus_name
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{bus_name}",
            description=f"Tributary ({bus_name}): queues, topics and stores",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # EventBridge delivers to the encrypted queues and their DLQs; CloudWatch alarms publish to the
        # encrypted alarms topic. Both need the key, and only for this account's resources.
        # It also encrypts the bus and its archive (DescribeKey: EventBridge checks the key when it is set).
        self.key.add_to_resource_policy(_service_may_use_key("events.amazonaws.com", "kms:DescribeKey"))
        self.key.add_to_resource_policy(_service_may_use_key("cloudwatch.amazonaws.com"))

        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        self.archive = events.Archive(
            self,
            "Archive",
            source_event_bus=self.bus,
            archive_name=f"{bus_name}-archive",
            description="Every event on the bus, for replay",
            event_pattern=events.EventPattern(account=[cdk.Aws.ACCOUNT_ID]),
            retention=cdk.Duration.days(config.archive_retention_days),
        )
        # Set on the CloudFormation resources: the constructs' kms_key would add key-policy statements naming
        # the bus, a cycle (key -> bus -> key); the statement above covers them for this account.
        for encrypted in (self.bus, self.archive):
            resource = encrypted.node.default_child
            assert isinstance(resource, cdk.CfnResource)
            resource.add_property_override("KmsKeyIdentifier", self.key.key_arn)

        self.alarm_topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"{bus_name}-alarms",
            display_name=f"Tributary ({bus_name}) alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))

        self.network = Network(
            self,
            "Network",
            max_azs=config.max_azs,
            nat_gateways=config.nat_gateways,
            flow_log_retention=log_retention(config.log_retention_days),
        )
        self.vpc = self.network.vpc

        self.schemas: SchemaRegistry | None = None
        if config.schema_registry and schemas_dir is not None:
            self.schemas = SchemaRegistry(self, "Schemas", bus_name=bus_name, schemas_dir=schemas_dir)

        CoreParameters(
            self,
            "Parameters",
            bus_name=bus_name,
            key=self.key,
            alarm_topic=self.alarm_topic,
            vpc=self.vpc,
            bus=self.bus,
            archive_arn=self.archive.archive_arn,
        )
        self.overview = OverviewDashboard(
            self,
            "Overview",
            bus_name=bus_name,
            workers=[m.name for m in services if m.is_worker],
            ingest=next((m.name for m in services if m.http and not m.is_worker), None),
        )
