"""graph_writer's stack: Neptune in the isolated subnets with IAM auth, reachable from its tasks only."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tributary_cdk.testing import Synth, actions_of, container_env, resources, role_statements


@pytest.fixture(scope="module")
def graph(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("graph_writer"))


def _parameter(template: Template, name: str) -> str:
    (found,) = [
        k
        for k, p in template.to_json()["Parameters"].items()
        if p.get("Default", "").endswith(f"/core/{name}")
    ]
    return found


def test_cluster_is_encrypted_backed_up_and_iam_only(graph: Template) -> None:
    """IAM auth, storage encrypted with the core key, 7-day backups, deletion protection, serverless."""
    (cluster,) = resources(graph, "AWS::Neptune::DBCluster").values()
    props = cluster["Properties"]
    assert props["IamAuthEnabled"] is True
    assert props["StorageEncrypted"] is True
    assert props["KmsKeyId"] == {"Ref": _parameter(graph, "key-arn")}
    assert props["BackupRetentionPeriod"] == 7
    assert props["DeletionProtection"] is True
    assert props["ServerlessScalingConfiguration"] == {"MinCapacity": 1, "MaxCapacity": 8}
    assert cluster["DeletionPolicy"] == "Snapshot"
    instances = resources(graph, "AWS::Neptune::DBInstance")
    assert len(instances) == 2
    for instance in instances.values():
        assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
        assert instance["Properties"]["AutoMinorVersionUpgrade"] is True


def test_cluster_lives_in_the_isolated_subnets(graph: Template) -> None:
    """The subnet group is the core stack's isolated subnets."""
    (group,) = resources(graph, "AWS::Neptune::DBSubnetGroup").values()
    assert _parameter(graph, "isolated-subnet-ids") in str(group["Properties"]["SubnetIds"])


def test_only_the_compute_reaches_port_8182(graph: Template) -> None:
    """One ingress rule: 8182 from the tasks' security group; the cluster's group has no egress."""
    (ingress,) = resources(graph, "AWS::EC2::SecurityGroupIngress").values()
    props = ingress["Properties"]
    assert (props["FromPort"], props["ToPort"], props["IpProtocol"]) == (8182, 8182, "tcp")
    assert props["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("ComputeSecurityGroup")
    assert props["GroupId"]["Fn::GetAtt"][0].startswith("StoreSecurityGroup")
    groups = resources(graph, "AWS::EC2::SecurityGroup")
    (store_group,) = [g for k, g in groups.items() if k.startswith("StoreSecurityGroup")]
    assert store_group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # none


def test_role_has_data_actions_on_this_cluster_only(graph: Template) -> None:
    """openCypher read/write/delete through IAM on this cluster's resource id; nothing administrative."""
    neptune = [s for s in role_statements(graph, "TaskRole") if any("neptune" in a for a in actions_of(s))]
    (statement,) = neptune
    assert sorted(actions_of(statement)) == [
        "neptune-db:DeleteDataViaQuery",
        "neptune-db:ReadDataViaQuery",
        "neptune-db:WriteDataViaQuery",
    ]
    (cluster_id,) = resources(graph, "AWS::Neptune::DBCluster")
    assert {"Fn::GetAtt": [cluster_id, "ClusterResourceId"]} in statement["Resource"]["Fn::Join"][1]


def test_environment_points_at_neptune(graph: Template) -> None:
    env = container_env(graph)
    assert env["TRIBUTARY_GRAPH_STORE"] == "neptune"
    (cluster_id,) = resources(graph, "AWS::Neptune::DBCluster")
    assert {"Fn::GetAtt": [cluster_id, "Endpoint"]} in env["TRIBUTARY_NEPTUNE_ENDPOINT"]["Fn::Join"][1]
