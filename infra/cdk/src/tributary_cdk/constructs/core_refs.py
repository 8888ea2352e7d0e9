"""The hand-over between the core stack and the service stacks: SSM parameters, not stack exports.

The core stack writes one parameter per shared resource (:class:`CoreParameters`); a service stack reads them
(:class:`CoreImports`) as CloudFormation parameters resolved at deploy time. So a service stack synthesizes
with no reference to the core stack object, deploys on its own, and the core stack can change a value
without the export lock-in of ``Fn::ImportValue``.
"""

from __future__ import annotations

from functools import cached_property

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from tributary_cdk.naming import core_parameter

KEY_ARN = "key-arn"
ALARM_TOPIC_ARN = "alarm-topic-arn"
VPC_ID = "vpc-id"
PUBLIC_SUBNETS = "public-subnet-ids"
PRIVATE_SUBNETS = "private-subnet-ids"
ISOLATED_SUBNETS = "isolated-subnet-ids"
BUS_ARN = "bus-arn"
ARCHIVE_ARN = "archive-arn"


class CoreParameters(Construct):
    """Writes the core stack's identifiers to SSM under ``/tributary/<bus>/core/``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bus_name: str,
        key: kms.IKey,
        alarm_topic: sns.ITopic,
        vpc: ec2.IVpc,
        bus: events.IEventBus,
        archive_arn: str,
    ) -> None:
        super().__init__(scope, id)
        values = {
            KEY_ARN: key.key_arn,
            ALARM_TOPIC_ARN: alarm_topic.topic_arn,
            VPC_ID: vpc.vpc_id,
            PUBLIC_SUBNETS: cdk.Fn.join(",", [s.subnet_id for s in vpc.public_subnets]),
            PRIVATE_SUBNETS: cdk.Fn.join(",", [s.subnet_id for s in vpc.private_subnets]),
            ISOLATED_SUBNETS: cdk.Fn.join(",", [s.subnet_id for s in vpc.isolated_subnets]),
            BUS_ARN: bus.event_bus_arn,
            ARCHIVE_ARN: archive_arn,
        }
        for name, value in values.items():
            ssm.StringParameter(
                self,
                name,
                parameter_name=core_parameter(bus_name, name),
                string_value=value,
                description=f"Tributary core ({bus_name}): {name}",
            )


class CoreImports(Construct):
    """The core stack's shared resources, as a service stack sees them.

    Each is imported on first use, so a stack declares only the parameters it reads (an unused
    CloudFormation parameter is noise at best).
    """

    def __init__(
        self, scope: Construct, id: str, *, bus_name: str, max_azs: int, public_subnets: bool = False
    ) -> None:
        super().__init__(scope, id)
        self.bus_name = bus_name
        self._max_azs = max_azs
        self._public_subnets = public_subnets

    def _value(self, name: str) -> str:
        return ssm.StringParameter.value_for_string_parameter(self, core_parameter(self.bus_name, name))

    def subnet_ids(self, name: str) -> list[str]:
        """The ids of one subnet tier (``PRIVATE_SUBNETS``, ``ISOLATED_SUBNETS``, ``PUBLIC_SUBNETS``)."""
        return cdk.Fn.split(",", self._value(name), self._max_azs)

    @cached_property
    def key(self) -> kms.IKey:
        return kms.Key.from_key_arn(self, "Key", self._value(KEY_ARN))

    @cached_property
    def alarm_topic(self) -> sns.ITopic:
        return sns.Topic.from_topic_arn(self, "AlarmTopic", self._value(ALARM_TOPIC_ARN))

    @cached_property
    def bus(self) -> events.IEventBus:
        return events.EventBus.from_event_bus_name(self, "Bus", self.bus_name)

    @cached_property
    def vpc(self) -> ec2.IVpc:
        """The VPC with its private subnets (and public ones, for a stack that asked for them).

        Its availability zones are the stack's own, resolved as the core stack resolved its VPC's.
        """
        return ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=self._value(VPC_ID),
            availability_zones=cdk.Stack.of(self).availability_zones[: self._max_azs],
            public_subnet_ids=self.subnet_ids(PUBLIC_SUBNETS) if self._public_subnets else None,
            private_subnet_ids=self.subnet_ids(PRIVATE_SUBNETS),
        )
