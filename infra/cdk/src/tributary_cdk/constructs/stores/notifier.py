"""notifier's store: its state table (once-only claims, cooldowns, the notification log) in DynamoDB.

The key schema, the ``log`` index and the ``expires_at`` TTL attribute are those of
``notifier.adapters.dynamodb.DynamoStateStore.ensure_table`` (a test keeps them equal). On-demand billing,
point-in-time recovery, encrypted with the shared key.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from tributary_cdk.constructs.keys import grant_key
from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext

LOG_INDEX = "log"
TTL_ATTRIBUTE = "expires_at"
# DynamoStateStore's calls: claims and settles (conditional Put/Update), reads (Get), log and cooldown
# listings (Query, on the table and the log index).
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem")


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class NotifierStateStore(ServiceStore):
    """The table ``<bus>-notifier-state``; the notifier reaches it, AWS and webhooks over HTTPS only."""

    https_egress_only = True

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=f"{context.bus_name}-notifier-state",
            partition_key=_string("pk"),
            sort_key=_string("sk"),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=context.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=LOG_INDEX,
            partition_key=_string("log_day"),
            sort_key=_string("log_at"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.environment = {
            "TRIBUTARY_STATE_BACKEND": "dynamodb",
            "TRIBUTARY_STATE_TABLE": self.table.table_name,
        }

    def grant(self, role: iam.IRole) -> None:
        """Item reads and writes and queries on the table and its log index; the key to read and write."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(TABLE_ACTIONS),
                resources=[self.table.table_arn, f"{self.table.table_arn}/index/{LOG_INDEX}"],
            )
        )
        grant_key(
            self.context.key, role, "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"
        )
        secrets = self.context.config.notifier_webhook_secret_arns
        if secrets:  # the webhook signing secrets its rules name (secret_arn), and no others
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=list(secrets))
            )
