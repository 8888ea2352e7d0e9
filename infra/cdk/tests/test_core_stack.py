"""The core stack: bus, archive, key, alarms topic, VPC, and the SSM hand-over to service stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from tributary_cdk.app import default_repo_root, new_app
from tributary_cdk.config import DeployConfig
from tributary_cdk.constructs.core_refs import (
    ALARM_TOPIC_ARN,
    ARCHIVE_ARN,
    BUS_ARN,
    ISOLATED_SUBNETS,
    KEY_ARN,
    PRIVATE_SUBNETS,
    PUBLIC_SUBNETS,
    VPC_ID,
)
from tributary_cdk.constructs.schemas import to_draft4
from tributary_cdk.naming import core_parameter
from tributary_cdk.stacks.core import CoreStack
from tributary_cdk.testing import Synth, resources


@pytest.fixture(scope="module")
def core(synth: Synth) -> Template:
    return synth.template(synth.stacks["core"])


def test_bus_and_its_archive(core: Template) -> None:
    """The bus is named after the deployment; its archive keeps every event of this account for replay."""
    core.has_resource_properties("AWS::Events::EventBus", {"Name": "tributary"})
    core.has_resource_properties(
        "AWS::Events::Archive",
        {
            "ArchiveName": "tributary-archive",
            "RetentionDays": 90,
            "EventPattern": {"account": [{"Ref": "AWS::AccountId"}]},
            "SourceArn": {"Fn::GetAtt": [Match.string_like_regexp("^Bus"), "Arn"]},
        },
    )


def test_bus_and_archive_are_encrypted_with_the_key(core: Template) -> None:
    """Events at rest on the bus and in its archive: the project's KMS key, not an AWS-owned one."""
    (key_id,) = resources(core, "AWS::KMS::Key")
    (bus,) = resources(core, "AWS::Events::EventBus").values()
    (archive,) = resources(core, "AWS::Events::Archive").values()
    assert bus["Properties"]["KmsKeyIdentifier"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert archive["Properties"]["KmsKeyIdentifier"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_key_rotates_and_lets_only_eventbridge_and_cloudwatch_in(core: Template) -> None:
    """Yearly rotation; EventBridge (encrypted queues) and CloudWatch (alarms topic) for this account only."""
    (key,) = core.find_resources("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    services = {}
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        service = statement["Principal"].get("Service")
        if service:
            services[service] = statement
    assert set(services) == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}
    assert sorted(services["cloudwatch.amazonaws.com"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert sorted(services["events.amazonaws.com"]["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    ]
    for statement in services.values():
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_alarm_topic_is_encrypted_and_tls_only(core: Template) -> None:
    """The alarms topic uses the key and refuses unencrypted publishing."""
    core.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "TopicName": "tributary-alarms",
            "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
        },
    )
    core.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_vpc_has_public_private_and_isolated_subnets(core: Template) -> None:
    """Two AZs by three tiers, one NAT gateway, flow logs, S3 and DynamoDB gateway endpoints."""
    subnets = core.find_resources("AWS::EC2::Subnet")
    tiers = sorted(
        next(t["Value"] for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-name")
        for s in subnets.values()
    )
    assert tiers == ["isolated", "isolated", "private", "private", "public", "public"]
    core.resource_count_is("AWS::EC2::NatGateway", 1)
    core.resource_count_is("AWS::EC2::FlowLog", 1)
    core.resource_count_is("AWS::EC2::VPCEndpoint", 2)


def test_ssm_parameters_hand_over_the_shared_resources(core: Template) -> None:
    """One parameter per shared identifier, under /tributary/<bus>/core/."""
    names = {p["Properties"]["Name"] for p in core.find_resources("AWS::SSM::Parameter").values()}
    expected = {
        KEY_ARN,
        ALARM_TOPIC_ARN,
        VPC_ID,
        PUBLIC_SUBNETS,
        PRIVATE_SUBNETS,
        ISOLATED_SUBNETS,
        BUS_ARN,
        ARCHIVE_ARN,
    }
    assert names == {core_parameter("tributary", n) for n in expected}


def test_no_schema_registry_unless_asked(core: Template) -> None:
    core.resource_count_is("AWS::EventSchemas::Registry", 0)


def test_schema_registry_from_contract_schemas() -> None:
    """With ``schema_registry``, one draft-4 schema per contract file, named like its DetailType."""
    schemas_dir = default_repo_root() / "contracts" / "schemas"
    app = new_app()
    stack = CoreStack(
        app, "Core", config=DeployConfig(schema_registry=True, bus_name="blue"), schemas_dir=schemas_dir
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::EventSchemas::Registry", {"RegistryName": "blue"})
    schemas = template.find_resources("AWS::EventSchemas::Schema")
    contracts = sorted(p.name.removesuffix(".json") for p in schemas_dir.glob("*.v*.json"))
    assert sorted(s["Properties"]["SchemaName"] for s in schemas.values()) == contracts
    for schema in schemas.values():
        content = json.loads(schema["Properties"]["Content"])
        assert content["$schema"] == "http://json-schema.org/draft-04/schema#"
        assert "$defs" not in json.dumps(content)


def test_to_draft4_rewrites_definitions(tmp_path: Path) -> None:
    """``$defs`` and their references become draft-4 ``definitions``."""
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "x.v1.json",
        "$defs": {"Point": {"type": "number"}},
        "properties": {"at": {"$ref": "#/$defs/Point"}},
    }
    assert to_draft4(doc) == {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "definitions": {"Point": {"type": "number"}},
        "properties": {"at": {"$ref": "#/definitions/Point"}},
    }
