"""ingest's stack: a public ALB in front of Fargate tasks in private subnets, allowed PutEvents only."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from shared.manifest import ServiceManifest
from shared.testkit.settings_env import settings_env
from tributary_cdk.app import build_app, new_app
from tributary_cdk.config import DeployConfig, ImageSource
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


def test_role_may_only_put_events_on_the_bus_and_read_its_producers(ingest: Template) -> None:
    """Besides sending X-Ray segments: PutEvents on the bus of this deployment, and reading (decrypting)
    its producers' credential secret."""
    statements = role_statements(ingest, "TaskRole")
    by_action = {actions_of(s)[0]: s for s in statements if not actions_of(s)[0].startswith("xray:")}
    assert len(statements) == 4 and sorted(by_action) == [
        "events:PutEvents",
        "kms:Decrypt",
        "secretsmanager:GetSecretValue",
    ]
    assert by_action["events:PutEvents"]["Resource"]["Fn::Join"][1][-1] == ":event-bus/tributary"
    (secret,) = resources(ingest, "AWS::SecretsManager::Secret")
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == {"Ref": secret}


def test_ingest_authenticates_producers_from_its_secret(ingest: Template) -> None:
    """An encrypted secret starting with no producers; ingest's store setting names it."""
    (secret,) = resources(ingest, "AWS::SecretsManager::Secret").values()
    assert secret["Properties"]["Name"] == "tributary/ingest/producers"
    assert secret["Properties"]["SecretString"] == '{"version": 1, "producers": {}}'
    assert "KmsKeyId" in secret["Properties"] and secret["DeletionPolicy"] == "Retain"
    env = container_env(ingest)
    assert env["TRIBUTARY_AUTH_STORE"]["Fn::Join"][1][0] == "secretsmanager:"


def test_only_the_public_api_reaches_the_tasks(ingest: Template) -> None:
    """The listener answers 404 itself by default; /v1/events and /healthz alone are forwarded."""
    (listener,) = resources(ingest, "AWS::ElasticLoadBalancingV2::Listener").values()
    [default] = listener["Properties"]["DefaultActions"]
    assert default["Type"] == "fixed-response" and default["FixedResponseConfig"]["StatusCode"] == "404"
    (rule,) = resources(ingest, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    [condition] = rule["Properties"]["Conditions"]
    assert condition["Field"] == "path-pattern"
    assert sorted(condition["PathPatternConfig"]["Values"]) == ["/healthz", "/v1/events"]
    assert [a["Type"] for a in rule["Properties"]["Actions"]] == ["forward"]


def test_log_groups_outlive_the_stack(ingest: Template) -> None:
    assert {g["DeletionPolicy"] for g in resources(ingest, "AWS::Logs::LogGroup").values()} == {"Retain"}


def test_an_internet_facing_ingest_needs_a_certificate_or_plain_http_on_purpose(
    manifests: dict[str, ServiceManifest],
) -> None:
    """Synth refuses plain HTTP by default, naming both ways out."""
    if "ingest" not in manifests:
        pytest.skip("ingest not installed")
    config = DeployConfig(image=ImageSource(kind="registry"))
    with pytest.raises(ValueError, match=r"set ingest_certificate_arn .* or ingest_plain_http: true"):
        build_app(new_app(), config=config, manifests=[manifests["ingest"]], check=False)


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
