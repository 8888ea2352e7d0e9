"""archiver's stack: the archive bucket, its Glue table, its ledger table, a role that writes only there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from contracts.tables import contract_tables
from shared.idempotency.dynamodb import DynamoLedger
from tributary.lake.glue import DT_RANGE, presto_view_text, raw_columns, views
from tributary_cdk.testing import (
    RecordingDynamo,
    Synth,
    actions_of,
    container_env,
    resources,
    role_statements,
)


@pytest.fixture(scope="module")
def archiver(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("archiver"))


def _archive_bucket(template: Template) -> tuple[str, dict[str, Any]]:
    buckets = resources(template, "AWS::S3::Bucket")
    (found,) = [(k, b) for k, b in buckets.items() if k.startswith("StoreBucket")]
    return found


def test_bucket_is_versioned_encrypted_private_and_tiered(archiver: Template) -> None:
    """Versioning, SSE-KMS with the core key, public access blocked, IA after 30 d, Glacier after 180 d."""
    _, bucket = _archive_bucket(archiver)
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "corekeyarn" in str(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Prefix"] == "events/"
    assert lifecycle["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER", "TransitionInDays": 180},
    ]
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("StoreAccessLogs")
    assert bucket["DeletionPolicy"] == "Retain"


def test_bucket_refuses_plain_http(archiver: Template) -> None:
    """The bucket policy denies any request without TLS."""
    bucket_id, _ = _archive_bucket(archiver)
    policies = [
        p
        for p in resources(archiver, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (policy,) = policies
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies if s["Action"] == "s3:*"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_glue_table_projects_the_archive_layout(archiver: Template) -> None:
    """type/version/dt/hour partitions by projection over events/, gzip JSON lines of envelopes."""
    bucket_id, _ = _archive_bucket(archiver)
    archiver.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": "tributary_archive"}})
    (table,) = [
        t
        for t in resources(archiver, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "events"
    ]
    table_input = table["Properties"]["TableInput"]
    assert table["Properties"]["DatabaseName"] == "tributary_archive"
    assert [k["Name"] for k in table_input["PartitionKeys"]] == ["type", "version", "dt", "hour"]
    params = table_input["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.range"] == DT_RANGE
    template = params["storage.location.template"]
    assert template["Fn::Join"][1][0] == "s3://"
    assert template["Fn::Join"][1][1] == {"Ref": bucket_id}
    assert template["Fn::Join"][1][2] == "/events/type=${type}/version=${version}/dt=${dt}/hour=${hour}/"
    storage = table_input["StorageDescriptor"]
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert {c["Name"] for c in storage["Columns"]} == {"id", "source", "time", "ingested_at", "trace", "data"}


def test_role_can_put_objects_only_in_its_bucket(archiver: Template) -> None:
    """S3 rights: PutObject and GetObject (HeadObject) on <its bucket>/events/* and nothing else."""
    bucket_id, _ = _archive_bucket(archiver)
    s3 = [s for s in role_statements(archiver, "TaskRole") if any(a.startswith("s3:") for a in actions_of(s))]
    assert s3 == [
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/events/*"]]},
        }
    ]


def test_environment_names_the_bucket_and_the_ledger_table(archiver: Template) -> None:
    bucket_id, _ = _archive_bucket(archiver)
    (table_id,) = resources(archiver, "AWS::DynamoDB::Table")
    env = container_env(archiver)
    assert env["TRIBUTARY_BUCKET"] == {"Ref": bucket_id}
    assert env["TRIBUTARY_STATE_BACKEND"] == "dynamodb"
    assert env["TRIBUTARY_STATE_TABLE"] == {"Ref": table_id}


def test_ledger_table_matches_what_the_ledger_creates_with_pitr_and_the_core_key(archiver: Template) -> None:
    """Key, TTL and billing equal DynamoLedger.ensure_table's; PITR on, the core key, kept on delete."""
    client = RecordingDynamo()
    DynamoLedger(client=client, table="t").ensure_table()
    (table,) = resources(archiver, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == client.created["KeySchema"]
    assert props["AttributeDefinitions"] == client.created["AttributeDefinitions"]
    assert props["TimeToLiveSpecification"] == client.ttl
    assert props["BillingMode"] == client.created["BillingMode"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert "corekeyarn" in str(props["SSESpecification"]["KMSMasterKeyId"])
    assert props["TableName"] == "tributary-archiver-ledger"
    assert table["DeletionPolicy"] == "Retain"


def test_role_uses_the_ledger_table_only_for_the_ledger_calls(archiver: Template) -> None:
    """BatchGetItem, PutItem and DeleteItem on the ledger table, nothing else in DynamoDB."""
    (table_id,) = resources(archiver, "AWS::DynamoDB::Table")
    statements = role_statements(archiver, "TaskRole")
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in actions_of(s))]
    assert dynamo == [
        {
            "Action": ["dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:PutItem"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "Arn"]},
        }
    ]


def _glue_tables(template: Template) -> dict[str, dict[str, Any]]:
    return {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]
        for t in resources(template, "AWS::Glue::Table").values()
    }


def test_every_contract_has_a_raw_table_and_typed_views(archiver: Template) -> None:
    """``raw_<table>`` over the contract's prefix with ``data`` as a struct, and a Presto view per table and
    array, generated from the same description as the local lake."""
    bucket_id, _ = _archive_bucket(archiver)
    tables = _glue_tables(archiver)
    for table in contract_tables():
        raw = tables[f"raw_{table.name}"]["TableInput"]
        assert raw["TableType"] == "EXTERNAL_TABLE"
        assert [(c["Name"], c["Type"]) for c in raw["StorageDescriptor"]["Columns"]] == [
            (c.name, c.type) for c in raw_columns(table)
        ]
        assert [k["Name"] for k in raw["PartitionKeys"]] == ["dt", "hour"]
        template = raw["Parameters"]["storage.location.template"]["Fn::Join"][1]
        assert template[1] == {"Ref": bucket_id}
        assert template[2] == f"/events/type={table.type}/version={table.version}/dt=${{dt}}/hour=${{hour}}/"
        assert raw["Parameters"]["projection.dt.range"] == DT_RANGE
        assert (
            raw["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
            == "org.openx.data.jsonserde.JsonSerDe"
        )
        for view in views("tributary_archive", table):
            created = tables[view.name]["TableInput"]
            assert created["TableType"] == "VIRTUAL_VIEW"
            assert created["ViewOriginalText"] == presto_view_text("tributary_archive", view)
            assert [c["Name"] for c in created["StorageDescriptor"]["Columns"]] == [
                c.name for c in view.columns
            ]
    assert "order_placed_v1_items" in tables
    assert "trade_completed_v1_movements" in tables


def test_lake_workgroup_writes_encrypted_results_to_its_own_bucket(archiver: Template) -> None:
    (workgroup,) = resources(archiver, "AWS::Athena::WorkGroup").values()
    props = workgroup["Properties"]
    assert props["Name"] == "tributary-lake"
    config = props["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    result = config["ResultConfiguration"]
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert "corekeyarn" in str(result["EncryptionConfiguration"]["KmsKey"]).lower()
    buckets = resources(archiver, "AWS::S3::Bucket")
    (results_id,) = [k for k in buckets if k.startswith("StoreLakeResults")]
    assert result["OutputLocation"]["Fn::Join"][1][1] == {"Ref": results_id}
    results = buckets[results_id]["Properties"]
    (rule,) = results["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert results["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30
