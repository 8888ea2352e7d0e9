"""Every worker's stack, from its manifest: queue + DLQ, rule, compute, grants, alarms, environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from shared.manifest import ServiceManifest, load_manifests
from shared.testkit.settings_env import settings_env
from tributary_cdk.naming import TARGET_ID, TARGET_MAX_EVENT_AGE_S, TARGET_MAX_RETRY_ATTEMPTS
from tributary_cdk.testing import Synth, actions_of, app_container, container_env, resources, role_statements

WORKERS = [m.name for m in load_manifests() if m.is_worker]


def _parameter(template: Template, name: str) -> str:
    """The logical id of the CloudFormation parameter reading the core stack's SSM parameter ``name``."""
    (found,) = [
        k
        for k, p in template.to_json()["Parameters"].items()
        if p.get("Default") == f"/tributary/tributary/core/{name}"
    ]
    return found


@pytest.fixture(params=WORKERS)
def worker(
    request: pytest.FixtureRequest,
    synth: Synth,
    manifests: dict[str, ServiceManifest],
    service_stack: Callable[[str], cdk.Stack],
) -> tuple[ServiceManifest, Template]:
    name = request.param
    return manifests[name], synth.template(service_stack(name))


def _queues(template: Template) -> tuple[dict[str, Any], dict[str, Any]]:
    queues = resources(template, "AWS::SQS::Queue")
    (dlq_id,) = [k for k, q in queues.items() if q["Properties"]["QueueName"].endswith("-dlq")]
    (queue_id,) = [k for k in queues if k != dlq_id]
    return {"id": queue_id, **queues[queue_id]}, {"id": dlq_id, **queues[dlq_id]}


def test_queue_and_dlq_follow_the_manifest(worker: tuple[ServiceManifest, Template]) -> None:
    """Names, visibility, retention and the redrive policy come from the manifest; both are SSE-KMS."""
    manifest, template = worker
    queue, dlq = _queues(template)
    settings = manifest.queue
    assert queue["Properties"]["QueueName"] == f"tributary-{manifest.name}"
    assert dlq["Properties"]["QueueName"] == f"tributary-{manifest.name}-dlq"
    assert queue["Properties"]["VisibilityTimeout"] == settings.visibility_timeout_s
    assert queue["Properties"]["MessageRetentionPeriod"] == settings.retention_s
    assert dlq["Properties"]["MessageRetentionPeriod"] == settings.dlq_retention_s
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq["id"], "Arn"]},
        "maxReceiveCount": settings.max_receive_count,
    }
    for q in (queue, dlq):
        assert q["Properties"]["KmsMasterKeyId"] == {"Ref": _parameter(template, "key-arn")}


def test_rule_matches_the_manifest_and_dead_letters_delivery_failures(
    worker: tuple[ServiceManifest, Template],
) -> None:
    """The rule's pattern is ``event_pattern()``; its target retries like local provisioning, then the DLQ."""
    manifest, template = worker
    queue, dlq = _queues(template)
    (rule,) = resources(template, "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["Name"] == f"tributary-{manifest.name}"
    assert props["EventBusName"] == "tributary"
    assert props["EventPattern"] == manifest.event_pattern()
    assert props["Targets"] == [
        {
            "Id": TARGET_ID,
            "Arn": {"Fn::GetAtt": [queue["id"], "Arn"]},
            "RetryPolicy": {
                "MaximumRetryAttempts": TARGET_MAX_RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": TARGET_MAX_EVENT_AGE_S,
            },
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq["id"], "Arn"]}},
        }
    ]


def test_only_its_rule_may_send_to_its_queues(worker: tuple[ServiceManifest, Template]) -> None:
    """Both queue policies allow events.amazonaws.com with the rule as source, and deny plain HTTP."""
    _, template = worker
    (rule_id,) = resources(template, "AWS::Events::Rule")
    policies = resources(template, "AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        allow = [s for s in statements if s["Effect"] == "Allow"]
        assert allow == [
            {
                "Sid": "AllowRuleToSend",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": allow[0]["Resource"],
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
            }
        ]
        assert any(
            s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
            for s in statements
        )


def test_alarms_notify_the_core_alarm_topic(worker: tuple[ServiceManifest, Template]) -> None:
    """DLQ not empty, oldest message age, error rate and lag (from EMF metrics), each notifying the topic."""
    manifest, template = worker
    queue, dlq = _queues(template)
    alarms = {
        k: a["Properties"]
        for k, a in resources(template, "AWS::CloudWatch::Alarm").items()
        if k.startswith("Alarms")
    }
    assert len(alarms) == 4
    by_name = {
        next(n for n in ("DlqNotEmpty", "OldestMessageAge", "ErrorRate", "EndToEndLag") if n in k): a
        for k, a in alarms.items()
    }
    assert by_name["DlqNotEmpty"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq["id"], "QueueName"]}}
    ]
    assert by_name["DlqNotEmpty"]["Threshold"] == 0
    assert by_name["OldestMessageAge"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert by_name["OldestMessageAge"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue["id"], "QueueName"]}
    emf = {m["Id"]: m["MetricStat"]["Metric"] for m in by_name["ErrorRate"]["Metrics"] if "MetricStat" in m}
    assert {k: m["MetricName"] for k, m in emf.items()} == {
        "messages": "BatchSize",
        "retried": "Retried",
        "deadlettered": "DeadLettered",
    }
    for metric in emf.values():
        assert metric["Namespace"] == "Tributary"
        assert metric["Dimensions"] == [{"Name": "service", "Value": manifest.name}]
    lag = by_name["EndToEndLag"]
    assert (lag["MetricName"], lag["Namespace"], lag["ExtendedStatistic"]) == (
        "EndToEndLag",
        "Tributary",
        "p99",
    )
    assert lag["Threshold"] == 60_000 and lag["Dimensions"] == [{"Name": "service", "Value": manifest.name}]
    topic = {"Ref": _parameter(template, "alarm-topic-arn")}
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]
    assert resources(template, "AWS::Logs::MetricFilter") == {}  # EMF lines need no filter


def test_environment_is_what_the_settings_read(worker: tuple[ServiceManifest, Template]) -> None:
    """Every TRIBUTARY_* variable is a field of the service's settings, and the required ones are set."""
    manifest, template = worker
    env = container_env(template)
    expected = settings_env(manifest)
    assert expected.unknown(set(env)) == set()
    assert expected.missing(set(env)) == set()
    queue, dlq = _queues(template)
    assert env["TRIBUTARY_QUEUE_URL"] == {"Ref": queue["id"]}
    assert env["TRIBUTARY_DLQ_URL"] == {"Ref": dlq["id"]}
    assert env["TRIBUTARY_VISIBILITY_TIMEOUT_S"] == str(manifest.queue.visibility_timeout_s)
    assert env["TRIBUTARY_SERVICE"] == manifest.name


def test_task_role_is_least_privilege(worker: tuple[ServiceManifest, Template]) -> None:
    """No wildcard actions; SQS calls only on its own queue and DLQ; KMS only on the core key."""
    _, template = worker
    queue, dlq = _queues(template)
    statements = role_statements(template, "TaskRole")
    assert statements
    for statement in statements:
        actions = actions_of(statement)
        assert all("*" not in a for a in actions), statement
        if any(a.startswith("sqs:") for a in actions):
            resource = statement["Resource"]["Fn::GetAtt"][0]
            if resource == queue["id"]:
                assert sorted(actions) == [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ]
            else:
                assert resource == dlq["id"] and actions == ["sqs:SendMessage"]
        if any(a.startswith("kms:") for a in actions):
            assert statement["Resource"] == {"Ref": _parameter(template, "key-arn")}


def test_fargate_service_scales_on_backlog_per_task(worker: tuple[ServiceManifest, Template]) -> None:
    """Private subnets, no public IP, rollback on failed deploys, step scaling on visible/running tasks."""
    _, template = worker
    (service,) = resources(template, "AWS::ECS::Service").values()
    network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert _parameter(template, "private-subnet-ids") in str(network["Subnets"])
    assert service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    template.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}
    )
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert {p["Properties"]["PolicyType"] for p in policies.values()} == {"StepScaling"}
    scaling_alarms = [
        a["Properties"]
        for k, a in resources(template, "AWS::CloudWatch::Alarm").items()
        if "BacklogPerTask" in k
    ]
    assert len(scaling_alarms) == 2
    for alarm in scaling_alarms:
        (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
        assert expression["Expression"] == "visible / IF(tasks > 0, tasks, 1)"


def test_container_runs_the_service_image_with_health_check(
    worker: tuple[ServiceManifest, Template], synth: Synth, service_stack: Callable[[str], cdk.Stack]
) -> None:
    """The image is built from services/Dockerfile with SERVICE=<svc> (runtime target) and runs
    ``tributary-service <svc>``; /healthz is probed."""
    manifest, template = worker
    (image,) = synth.assets(service_stack(manifest.name))["dockerImages"].values()
    assert image["source"]["dockerFile"] == "services/Dockerfile"
    assert image["source"]["dockerBuildArgs"] == {"SERVICE": manifest.name}
    assert image["source"]["dockerBuildTarget"] == "runtime"
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    container = app_container(task)
    assert container["Command"] == ["tributary-service", manifest.name]
    assert "/healthz" in " ".join(container["HealthCheck"]["Command"])
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["StopTimeout"] >= 60


def test_segments_go_to_an_xray_daemon_beside_the_app(worker: tuple[ServiceManifest, Template]) -> None:
    """A non-essential X-Ray daemon sidecar on UDP 2000, and its own policy to send segments."""
    _, template = worker
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    containers = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
    daemon = containers["xray-daemon"]
    assert daemon["Essential"] is False and "aws-xray-daemon" in daemon["Image"]
    assert daemon["PortMappings"] == [{"ContainerPort": 2000, "Protocol": "udp"}]
    xray = [s for s in role_statements(template, "TaskRole") if actions_of(s)[0].startswith("xray:")]
    assert [(sorted(actions_of(s)), s["Resource"]) for s in xray] == [
        (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*")
    ]
