"""timeseries_writer's opt-in store (``series_store: liveanalytics``): a Timestream for LiveAnalytics
database and table, under the shared key. The default is Timestream for InfluxDB (:mod:`.series_influx`).

Retention comes from the service (``timeseries_writer.manifest.RETENTION``): memory store 24 hours, magnetic
store one year, magnetic store writes on so late points within the year are accepted.
"""

from __future__ import annotations

import importlib

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_timestream as timestream
from constructs import Construct

from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext
from tributary_cdk.nag import Suppression, suppress

TABLE = "series"


class SeriesStore(ServiceStore):
    """The Timestream database ``<bus>`` and its table ``series``."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        # The service owns its retention (its manifest module: cheap to import, no settings, no I/O).
        retention = importlib.import_module("timeseries_writer.manifest").RETENTION

        self.database_name = context.bus_name
        self.database = timestream.CfnDatabase(
            self, "Database", database_name=self.database_name, kms_key_id=context.key.key_arn
        )
        self.database.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.table = timestream.CfnTable(
            self,
            "Table",
            database_name=self.database_name,
            table_name=TABLE,
            retention_properties={
                "MemoryStoreRetentionPeriodInHours": str(retention.memory_store_hours),
                "MagneticStoreRetentionPeriodInDays": str(retention.magnetic_store_days),
            },
            magnetic_store_write_properties={"EnableMagneticStoreWrites": retention.magnetic_store_writes},
        )
        self.table.node.add_dependency(self.database)
        self.table.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        for resource in (self.database, self.table):
            cdk.Validations.of(resource).acknowledge(
                cdk.Acknowledgment(
                    id="CloudFormation-Validate::W3697",
                    reason="Timestream for LiveAnalytics is in maintenance mode (open to existing accounts);"
                    " the issue asks for it. New accounts use the service's `influx` store instead.",
                )
            )
        # Built from known parts, not the table's Arn attribute: an emulator that only mocks Timestream
        # returns no attribute (LocalStack's `unknown`), and IAM then refuses the policy.
        self.table_arn = cdk.Stack.of(self).format_arn(
            service="timestream",
            resource="database",
            resource_name=f"{self.database_name}/table/{TABLE}",
        )
        self.environment = {
            "TRIBUTARY_STORE": "timestream",
            "TRIBUTARY_TIMESTREAM_DATABASE": self.database_name,
            "TRIBUTARY_TIMESTREAM_TABLE": TABLE,
        }

    def grant(self, role: iam.IRole) -> None:
        """WriteRecords (the writer) and Select (the read API) on this table; DescribeEndpoints, which
        Timestream authorizes on ``*`` only."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["timestream:Select", "timestream:WriteRecords"], resources=[self.table_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["timestream:DescribeEndpoints"], resources=["*"])
        )
        suppress(
            role,
            Suppression(
                rule="IAM5",
                reason="timestream:DescribeEndpoints (endpoint discovery, needed before any write) has no"
                " resource-level permission; IAM accepts only Resource '*' for it.",
                applies_to=["Resource::*"],
            ),
        )
