"""archiver's store: a versioned, encrypted, TLS-only S3 bucket with a lifecycle to IA and Glacier, and
Glue tables over its ``events/type=/version=/dt=/hour=`` layout so Athena queries it without crawlers.

Its idempotency ledger is a DynamoDB table ``<bus>-archiver-ledger`` shared by every task and Lambda
environment: key ``pk`` and TTL attribute ``expires`` as ``shared.idempotency.dynamodb.DynamoLedger.
ensure_table`` creates them (a test keeps them equal), on-demand, point-in-time recovery, the core key.

Every Glue table uses partition projection, so new partitions are queryable as soon as an object lands
(``dt`` over :data:`tributary.lake.glue.DT_RANGE`, ``hour`` two digits):

- ``events``: the raw envelopes of every type (``type`` injected: a query names the type it reads, e.g.
  ``WHERE type = 'sensor.reading'``; ``data`` and ``trace`` as JSON text);
- per contract version, the typed lake (:mod:`tributary.lake.glue`, from :mod:`contracts.tables`): a
  ``raw_<table>`` Glue table with ``data`` as a nested struct and an Athena view ``<table>`` (plus one per
  array) with one typed column per field, the same tables ``tributary lake query`` builds locally;
- an Athena workgroup ``<bus>-lake`` whose results go, KMS-encrypted with the stack's key, to a bucket of
  its own (results expire after 30 days); the workgroup enforces that configuration.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.tables import Table, contract_tables
from tributary.lake import glue as lake
from tributary.lake.athena import workgroup_name
from tributary_cdk.constructs.keys import ENCRYPT, grant_key
from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext
from tributary_cdk.nag import Suppression, suppress

PREFIX = "events"
COLUMNS = {
    "id": "string",
    "source": "string",
    "time": "string",
    "ingested_at": "string",
    "trace": "string",
    "data": "string",
}
PARTITIONS = {"type": "string", "version": "int", "dt": "string", "hour": "string"}
LEDGER_TTL_ATTRIBUTE = "expires"
# DynamoLedger's calls: reads (BatchGetItem, strongly consistent), claims and completions (PutItem, alone or
# in TransactWriteItems, which IAM authorises per item), releases (DeleteItem).
LEDGER_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:PutItem")


class ArchiveStore(ServiceStore):
    """The archive bucket, its access-log bucket and the Glue database and table over it."""

    def __init__(self, scope: Construct, id: str, *, context: StoreContext) -> None:
        super().__init__(scope, id, context=context)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging cannot deliver to an SSE-KMS bucket.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        suppress(
            self.access_logs,
            Suppression(
                rule="S1",
                reason="This is the access-log bucket of the archive; logging its own access would recurse.",
            ),
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=context.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="archive/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tiering",
                    prefix=f"{PREFIX}/",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=cdk.Duration.days(30),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER, transition_after=cdk.Duration.days(180)
                        ),
                    ],
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.database_name = lake.database_name(context.bus_name)
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="Tributary archive: every event, as delivered"
            ),
        )
        location = f"s3://{self.bucket.bucket_name}/{PREFIX}/"
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name="events",
                description="Envelopes, partitioned by type, version and the event's own UTC date and hour",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.type.type": "injected",
                    "projection.version.type": "integer",
                    "projection.version.range": "1,1000",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": lake.DT_RANGE,
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "projection.hour.type": "integer",
                    "projection.hour.range": "0,23",
                    "projection.hour.digits": "2",
                    "storage.location.template": (
                        f"{location}type=${{type}}/version=${{version}}/dt=${{dt}}/hour=${{hour}}/"
                    ),
                },
                partition_keys=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in PARTITIONS.items()],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in COLUMNS.items()],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    compressed=True,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"case.insensitive": "false", "dots.in.keys": "false"},
                    ),
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
        for table in contract_tables():
            self._add_lake_table(table)
        self._add_workgroup()
        self.ledger = dynamodb.Table(
            self,
            "Ledger",
            table_name=f"{context.bus_name}-archiver-ledger",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=LEDGER_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=context.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.environment = {
            "TRIBUTARY_BUCKET": self.bucket.bucket_name,
            "TRIBUTARY_STATE_BACKEND": "dynamodb",
            "TRIBUTARY_STATE_TABLE": self.ledger.table_name,
        }

    def _add_lake_table(self, table: Table) -> None:
        """``raw_<table>`` over the contract's prefix, and its typed views."""
        location = f"s3://{self.bucket.bucket_name}/{lake.storage_prefix(table.type, table.version)}"
        raw = glue.CfnTable(
            self,
            f"Raw{_pascal(table.name)}",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=lake.raw_table_name(table),
                description=f"{table.contract} envelopes as archived; query the view {table.name}",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    **lake.projection_parameters(location, lake.DT_RANGE),
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=c.name, type=c.type) for c in lake.PARTITION_KEYS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[
                        glue.CfnTable.ColumnProperty(name=c.name, type=c.type)
                        for c in lake.raw_columns(table)
                    ],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    compressed=True,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=lake.SERDE, parameters=dict(lake.SERDE_PARAMETERS)
                    ),
                ),
            ),
        )
        raw.node.add_dependency(self.database)
        for view in lake.views(self.database_name, table):
            created = glue.CfnTable(
                self,
                f"View{_pascal(view.name)}",
                catalog_id=cdk.Aws.ACCOUNT_ID,
                database_name=self.database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=view.name,
                    description=f"{table.contract}: one typed column per field (Athena view)",
                    table_type="VIRTUAL_VIEW",
                    parameters={"presto_view": "true", "comment": "Presto View"},
                    view_original_text=lake.presto_view_text(self.database_name, view),
                    view_expanded_text="/* Presto View */",
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[
                            glue.CfnTable.ColumnProperty(name=c.name, type=lake.HIVE_VIEW_TYPES[c.type])
                            for c in view.columns
                        ],
                        serde_info=glue.CfnTable.SerdeInfoProperty(),
                    ),
                ),
            )
            created.node.add_dependency(raw)

    def _add_workgroup(self) -> None:
        """The lake's Athena workgroup and its own encrypted results bucket."""
        self.results = s3.Bucket(
            self,
            "LakeResults",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.context.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="lake-results/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "LakeWorkgroup",
            name=workgroup_name(self.context.bus_name),
            description="Tributary lake: typed tables over the archive (tributary lake query)",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=10 * 1024**3,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.context.key.key_arn
                    ),
                ),
            ),
        )

    def grant(self, role: iam.IRole) -> None:
        """PutObject (writes) and GetObject (HeadObject: did an earlier write land?) under ``events/``; the
        ledger's item calls on its table only."""
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(LEDGER_ACTIONS), resources=[self.ledger.table_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{PREFIX}/*")],
            )
        )
        grant_key(self.context.key, role, *ENCRYPT)
        bucket = cdk.Stack.of(self).get_logical_id(_cfn(self.bucket))
        suppress(
            role,
            Suppression(
                rule="IAM5",
                reason="The archiver writes one object per flush under events/, keys unknown in advance: the"
                " grant is that prefix of its own bucket and nothing else.",
                applies_to=[f"Resource::<{bucket}.Arn>/{PREFIX}/*"],
            ),
        )


def _pascal(name: str) -> str:
    """A construct id from a table name: ``order_placed_v1`` → ``OrderPlacedV1``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _cfn(bucket: s3.Bucket) -> s3.CfnBucket:
    child = bucket.node.default_child
    assert isinstance(child, s3.CfnBucket)
    return child
