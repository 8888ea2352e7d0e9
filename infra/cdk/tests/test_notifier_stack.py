"""notifier's stack: its DynamoDB state table (as the adapter creates it) and its alerts topic."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tributary_cdk.testing import (
    RecordingDynamo,
    Synth,
    actions_of,
    container_env,
    resources,
    role_statements,
)

from .conftest import HOOK_SECRET


@pytest.fixture(scope="module")
def notifier(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("notifier"))


def test_table_matches_what_the_adapter_creates(notifier: Template) -> None:
    """Keys, attribute types, the log index and the TTL attribute equal DynamoStateStore.ensure_table's."""
    adapter = pytest.importorskip("notifier.adapters.dynamodb")
    client = RecordingDynamo()
    adapter.DynamoStateStore(client=client, table="t", retention_s=3600).ensure_table()
    (table,) = resources(notifier, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == client.created["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        client.created["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    (index,) = props["GlobalSecondaryIndexes"]
    (expected,) = client.created["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"], index["Projection"]) == (
        expected["IndexName"],
        expected["KeySchema"],
        expected["Projection"],
    )
    assert props["TimeToLiveSpecification"] == client.ttl
    assert props["BillingMode"] == client.created["BillingMode"]


def test_table_has_pitr_and_the_core_key(notifier: Template) -> None:
    (table,) = resources(notifier, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert "corekeyarn" in str(props["SSESpecification"]["KMSMasterKeyId"])
    assert props["TableName"] == "tributary-notifier-state"
    assert table["DeletionPolicy"] == "Retain"


def test_alerts_topic_from_the_manifest(notifier: Template) -> None:
    """``topics=("alerts",)`` gives tributary-notifier-alerts, encrypted, its ARN in the environment."""
    (topic_id, topic) = next(iter(resources(notifier, "AWS::SNS::Topic").items()))
    assert topic["Properties"]["TopicName"] == "tributary-notifier-alerts"
    assert "corekeyarn" in str(topic["Properties"]["KmsMasterKeyId"])
    env = container_env(notifier)
    assert env["TRIBUTARY_TOPIC_ALERTS_ARN"] == {"Ref": topic_id}
    assert env["TRIBUTARY_STATE_BACKEND"] == "dynamodb"


def test_role_uses_its_table_and_topic_only(notifier: Template) -> None:
    """Item calls on its table and log index; Publish on its topic."""
    (table_id,) = resources(notifier, "AWS::DynamoDB::Table")
    (topic_id,) = resources(notifier, "AWS::SNS::Topic")
    statements = role_statements(notifier, "TaskRole")
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in actions_of(s))]
    (dynamo_statement,) = dynamo
    assert sorted(actions_of(dynamo_statement)) == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert dynamo_statement["Resource"][0] == {"Fn::GetAtt": [table_id, "Arn"]}
    sns = [s for s in statements if any(a.startswith("sns:") for a in actions_of(s))]
    assert sns == [{"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}}]


def test_webhook_secrets_are_readable_by_arn_only(notifier: Template) -> None:
    """GetSecretValue on the configured webhook secrets, nothing wider."""
    statements = role_statements(notifier, "TaskRole")
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in actions_of(s)]
    assert secrets == [
        {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": HOOK_SECRET}
    ]


def test_tasks_may_only_reach_https(notifier: Template) -> None:
    """The notifier's security group allows outbound TCP 443 and nothing else (webhooks, AWS APIs)."""
    groups = [
        g["Properties"]
        for g in resources(notifier, "AWS::EC2::SecurityGroup").values()
        if "HTTPS only" in g["Properties"]["GroupDescription"]
    ]
    [group] = groups
    assert group["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]


def test_log_groups_outlive_the_stack(notifier: Template) -> None:
    assert {g["DeletionPolicy"] for g in resources(notifier, "AWS::Logs::LogGroup").values()} == {"Retain"}
