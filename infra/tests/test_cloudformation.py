"""Deploying synthesized templates without an emulator: placeholders, reading a cloud assembly, a failed
deploy's report. Creating and updating stacks is tested on MiniStack (tests/e2e/test_deployed_topology.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tributary.cloudformation.assembly import SERVICE_TAG, read_assembly
from tributary.cloudformation.deployer import DeployError, deploy_stack
from tributary.cloudformation.placeholders import METRIC_MATH_ALARM, placeholder, substitute

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Cluster": {"Type": "AWS::Neptune::DBCluster", "Properties": {}},
        "Instance": {
            "Type": "AWS::Neptune::DBInstance",
            "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}},
            "DependsOn": "Cluster",
        },
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}, "DependsOn": ["Cluster", "Other"]},
        "Other": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Policy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Cluster", "ClusterResourceId"]}, "/*"]]}
            },
        },
        "MathAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"Id": "a"}]}},
        "DlqAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS"},
        },
    },
    "Outputs": {"Endpoint": {"Value": {"Fn::GetAtt": "Cluster.Endpoint"}}},
}


def test_ministack_gets_placeholders_for_what_it_cannot_create() -> None:
    result, removed = substitute(TEMPLATE, "ministack")
    assert removed == {
        "Cluster": "AWS::Neptune::DBCluster",
        "Instance": "AWS::Neptune::DBInstance",
        "MathAlarm": METRIC_MATH_ALARM,
    }
    resources = result["Resources"]
    assert set(resources) == {"Queue", "Other", "Policy", "DlqAlarm"}
    assert resources["Queue"]["DependsOn"] == ["Other"]
    assert resources["Policy"]["Properties"]["Resource"] == {
        "Fn::Join": ["", [placeholder("Cluster", "ClusterResourceId"), "/*"]]
    }
    assert result["Outputs"]["Endpoint"]["Value"] == "placeholder-Cluster-Endpoint"
    assert "Cluster" in TEMPLATE["Resources"], "the input template is left as it was"


def test_localstack_mocks_by_itself_so_nothing_is_substituted() -> None:
    result, removed = substitute(TEMPLATE, "localstack")
    assert removed == {}
    assert result == TEMPLATE


def test_the_assembly_lists_the_core_stack_first_with_each_service(tmp_path: Path) -> None:
    stacks = {"Svc-A": "archiver", "Core": None, "Svc-B": "ingest"}
    artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree"}}
    for name, service in stacks.items():
        tags = {"project": "tributary"} | ({SERVICE_TAG: service} if service else {})
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json", "tags": tags},
        }
        (tmp_path / f"{name}.template.json").write_text(json.dumps({"Resources": {name: {}}}))
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    read = read_assembly(tmp_path)
    assert [(a.name, a.service) for a in read] == [("Core", None), ("Svc-A", "archiver"), ("Svc-B", "ingest")]
    assert read[0].template == {"Resources": {"Core": {}}}


def _queue_template(visibility: int) -> dict[str, Any]:
    return {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": visibility}}},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
    }


class _RolledBack:
    """A CloudFormation endpoint on which every new stack rolls back, one resource failing."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if StackName not in self.created:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": "does not exist"}}, "DescribeStacks"
            )
        return {"Stacks": [{"StackStatus": "ROLLBACK_COMPLETE", "StackStatusReason": "rolled back"}]}

    def create_stack(self, StackName: str, **kwargs: Any) -> None:
        self.created.append(StackName)

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:
        failed = {
            "LogicalResourceId": "Alarm",
            "ResourceType": "AWS::CloudWatch::Alarm",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Fn::Select requires a list argument",
        }
        return {"StackEvents": [failed, {"ResourceStatus": "CREATE_COMPLETE", "LogicalResourceId": "Queue"}]}


def test_a_stack_that_rolls_back_raises_with_each_failed_resource() -> None:
    cfn = _RolledBack()
    with pytest.raises(DeployError) as raised:
        deploy_stack(cfn, "broken", _queue_template(30), poll_s=0.01, timeout_s=5)
    assert cfn.created == ["broken"]
    assert str(raised.value) == (
        "stack broken: ROLLBACK_COMPLETE\n  rolled back"
        "\n  Alarm (AWS::CloudWatch::Alarm): Fn::Select requires a list argument"
    )


def test_a_template_over_the_inline_limit_needs_a_staging_bucket() -> None:
    """CloudFormation takes 51,200 bytes inline; a larger template goes through the bootstrap bucket."""
    big = _queue_template(30) | {"Description": "x" * 52_000}
    with pytest.raises(DeployError, match="needs a staging bucket"):
        deploy_stack(_RolledBack(), "big", big, poll_s=0.01, timeout_s=5)
