"""Service stacks alone in an app, with the other compute and front choices: archiver on Lambda through
the shared adapter, ingest behind HTTPS, on another bus (``variant``) in another region."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tributary_cdk.testing import Synth, actions_of, container_env, resources, role_statements

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-000000000000"


def _template(variant: Synth, service: str) -> Template:
    if service not in variant.stacks:
        pytest.skip(f"{service} not installed")
    return variant.template(variant.stacks[service])


def test_lambda_worker_reports_batch_item_failures(variant: Synth) -> None:
    """An SQS event source mapping with ReportBatchItemFailures, the configured batch, bounded concurrency."""
    archiver = _template(variant, "archiver")
    (mapping,) = resources(archiver, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 500
    assert props["MaximumBatchingWindowInSeconds"] == 5
    assert props["ScalingConfig"] == {"MaximumConcurrency": 10}
    (queue_id,) = [
        k for k, q in resources(archiver, "AWS::SQS::Queue").items() if not k.startswith("QueuesDlq")
    ]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_lambda_runs_the_lambda_target_with_the_handler(variant: Synth) -> None:
    """The function image is the Dockerfile's ``lambda`` target; its command is the one Lambda entry point."""
    archiver = _template(variant, "archiver")
    (function,) = resources(archiver, "AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"] == {"Command": ["shared.lambda_entry.handler"]}
    assert props["Timeout"] == 90
    assert props["Timeout"] <= 120  # the archiver queue's visibility timeout
    assert props["TracingConfig"] == {"Mode": "Active"}  # Lambda runs the X-Ray daemon
    (image,) = variant.assets(variant.stacks["archiver"])["dockerImages"].values()
    assert image["source"]["dockerBuildTarget"] == "lambda"
    env = container_env(archiver)
    assert env["TRIBUTARY_HTTP_PORT"] == "0"
    assert env["TRIBUTARY_DATA_DIR"] == "/tmp"  # noqa: S108 - Lambda's writable folder


def test_lambda_role_can_settle_like_the_poller(variant: Synth) -> None:
    """The mapping's consume rights, plus SendMessage to the DLQ (the adapter dead-letters with reasons)."""
    archiver = _template(variant, "archiver")
    statements = role_statements(archiver, "ComputeFunctionServiceRole")
    sqs = {a for s in statements for a in actions_of(s) if a.startswith("sqs:")}
    assert {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
    } <= sqs
    alarms = resources(archiver, "AWS::CloudWatch::Alarm")
    assert any("InvocationErrors" in k for k in alarms)


def test_names_follow_the_other_bus(variant: Synth) -> None:
    """Queue, rule and Glue names carry the bus name, so two deployments share an account."""
    archiver = _template(variant, "archiver")
    names = {q["Properties"]["QueueName"] for q in resources(archiver, "AWS::SQS::Queue").values()}
    assert names == {"variant-archiver", "variant-archiver-dlq"}
    archiver.has_resource_properties(
        "AWS::Events::Rule", {"Name": "variant-archiver", "EventBusName": "variant"}
    )
    archiver.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": "variant_archive"}})
    parameters = archiver.to_json()["Parameters"]
    assert any(p.get("Default") == "/tributary/variant/core/key-arn" for p in parameters.values())


def test_https_front_redirects_http(variant: Synth) -> None:
    """With a certificate: an HTTPS listener with it, and port 80 redirecting to 443."""
    ingest = _template(variant, "ingest")
    listeners = {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in resources(ingest, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Port"] == "443"
