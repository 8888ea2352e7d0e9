"""ingest's stack: a public ALB in front of Fargate tasks in private subnets, allowed PutEvents only."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from shared.manifest import ServiceManifest
from shared.testkit.settings_env import settings_env
from tributary_cdk.testing import Synth, actions_of, container_env, resources, role_statements


@pytest.fixture(scope="module")
def ingest(synth: Synth, service_stack: Callable[[str], cdk.Stack]) -> Template:
    return synth.template(service_stack("ingest"))


def test_public_load_balancer_with_access_logs(ingest: Template) -> None:
    """Internet-facing, access logs on, invalid headers dropped; plain HTTP without a certificate."""
    (lb,) = resources(ingest, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    props = lb["Properties"]
    assert props["Scheme"] == "internet-facing"
    attributes = {a["Key"]: a["Value"] for a in props["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    ingest.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTP", "Port": 80})
    ingest.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": "/healthz", "Protocol": "HTTP", "TargetType": "ip"},
    )
    (service,) = resources(ingest, "AWS::ECS::Service").values()
    (target,) = service["Properties"]["LoadBalancers"]
    assert (target["ContainerName"], target["ContainerPort"]) == ("app", 8080)


def test_tasks_in_private_subnets_without_public_ip(ingest: Template) -> None:
    (service,) = resources(ingest, "AWS::ECS::Service").values()
    network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert "coreprivatesubnetids" in str(network["Subnets"])


def test_role_may_only_put_events_on_the_bus(ingest: Template) -> None:
    """One statement besides sending X-Ray segments: PutEvents on the bus of this deployment."""
    statements = role_statements(ingest, "TaskRole")
    (statement,) = [s for s in statements if not actions_of(s)[0].startswith("xray:")]
    assert len(statements) == 2
    assert actions_of(statement) == ["events:PutEvents"]
    assert statement["Resource"]["Fn::Join"][1][-1] == ":event-bus/tributary"


def test_environment_is_what_ingest_reads(ingest: Template, manifests: dict[str, ServiceManifest]) -> None:
    env = container_env(ingest)
    expected = settings_env(manifests["ingest"])
    assert expected.unknown(set(env)) == set()
    assert env["TRIBUTARY_BUS_NAME"] == "tributary"
    assert env["TRIBUTARY_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container, behind the ALB


def test_alarms_on_5xx_rate_and_healthy_targets(ingest: Template) -> None:
    alarms = resources(ingest, "AWS::CloudWatch::Alarm")
    names = sorted(k for k in alarms if k.startswith("Alarms"))
    assert len(names) == 2
    (rate,) = [alarms[k]["Properties"] for k in names if "ErrorRate" in k]
    assert {m["Id"] for m in rate["Metrics"]} >= {"target5xx", "lb5xx", "requests"}
    (healthy,) = [alarms[k]["Properties"] for k in names if "NoHealthyTarget" in k]
    assert healthy["MetricName"] == "HealthyHostCount"
    assert healthy["TreatMissingData"] == "breaching"
