"""AWS limits over every synthesized template (:mod:`tributary_cdk.limits`), and each check catching a
template that breaks it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tributary_cdk.limits import violations
from tributary_cdk.testing import Synth


def _templates(synth: Synth) -> dict[str, dict[str, Any]]:
    paths = sorted(Path(synth.outdir).glob("*.template.json"))
    return {p.name.removesuffix(".template.json"): json.loads(p.read_text(encoding="utf-8")) for p in paths}


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


@pytest.fixture(scope="module")
def archiver(synth: Synth) -> dict[str, Any]:
    template = _templates(synth).get("Tributary-Archiver")
    if template is None:
        pytest.skip("archiver not installed")
    return template


@pytest.fixture(scope="module")
def archiver_on_lambda(variant: Synth) -> dict[str, Any]:
    template = _templates(variant).get("ArchiverAlone")
    if template is None:
        pytest.skip("archiver not installed")
    return template


def _rules(found: list[Any]) -> set[str]:
    return {v.rule for v in found}


def test_every_synthesized_template_keeps_the_limits(synth: Synth, variant: Synth) -> None:
    """Default app and variants (Lambda compute, HTTPS front): no template breaks a limit."""
    templates = {**_templates(synth), **_templates(variant)}
    assert len(templates) >= 6
    broken = {name: [str(v) for v in violations(t)] for name, t in templates.items()}
    assert {name: found for name, found in broken.items() if found} == {}


def test_each_worker_queue_has_a_dlq_with_an_alarm(synth: Synth) -> None:
    """Not vacuous: each worker stack has two queues (one a DLQ), its DLQ alarm and one rule target."""
    for name, template in _templates(synth).items():
        if name == "Tributary-Core" or not _of_type(template, "AWS::SQS::Queue"):
            continue
        queues = _of_type(template, "AWS::SQS::Queue")
        assert len(queues) == 2, name
        assert sum("RedrivePolicy" in q["Properties"] for q in queues.values()) == 1, name
        (rule,) = _of_type(template, "AWS::Events::Rule").values()
        assert len(rule["Properties"]["Targets"]) == 1


def test_a_queue_without_redrive_is_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    for queue in _of_type(broken, "AWS::SQS::Queue").values():
        queue["Properties"].pop("RedrivePolicy", None)
    # Without a redrive policy or a rule naming it, the former DLQ is an ordinary queue without a DLQ too.
    for resource in _of_type(broken, "AWS::Events::Rule").values():
        resource["Properties"]["Targets"] = []
    found = violations(broken)
    assert [v.rule for v in found] == ["queue without a DLQ", "queue without a DLQ"]


def test_a_receive_count_out_of_bounds_is_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    for queue in _of_type(broken, "AWS::SQS::Queue").values():
        if "RedrivePolicy" in queue["Properties"]:
            queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] = 1001
    assert _rules(violations(broken)) == {"redrive maxReceiveCount"}


def test_a_dlq_keeping_messages_shorter_than_its_queue_is_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    for queue in _of_type(broken, "AWS::SQS::Queue").values():
        queue["Properties"]["MessageRetentionPeriod"] = (
            7200 if "RedrivePolicy" in queue["Properties"] else 3600
        )
    assert _rules(violations(broken)) == {"DLQ retention"}


def test_a_dlq_without_an_alarm_is_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    for name, alarm in _of_type(broken, "AWS::CloudWatch::Alarm").items():
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible":
            del broken["Resources"][name]
    assert _rules(violations(broken)) == {"DLQ without an alarm"}


def test_a_dlq_alarm_notifying_nobody_is_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    for alarm in _of_type(broken, "AWS::CloudWatch::Alarm").values():
        alarm["Properties"].pop("AlarmActions", None)
    assert _rules(violations(broken)) == {"DLQ without an alarm"}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda t: t.pop("RetryPolicy"), "rule target without a retry policy"),
        (lambda t: t.pop("DeadLetterConfig"), "rule target without a DLQ"),
        (lambda t: t["RetryPolicy"].update(MaximumRetryAttempts=186), "retry attempts"),
        (lambda t: t["RetryPolicy"].update(MaximumEventAgeInSeconds=30), "retry event age"),
    ],
)
def test_a_rule_target_without_retries_or_dlq_is_caught(
    archiver: dict[str, Any], change: Any, rule: str
) -> None:
    broken = copy.deepcopy(archiver)
    (resource,) = _of_type(broken, "AWS::Events::Rule").values()
    (target,) = resource["Properties"]["Targets"]
    change(target)
    found = violations(broken)
    assert rule in _rules(found), found


def test_lambda_timeout_is_a_sixth_of_visibility_at_most(archiver_on_lambda: dict[str, Any]) -> None:
    """The synthesized function fits; one second more than a sixth of the visibility timeout does not."""
    (function,) = _of_type(archiver_on_lambda, "AWS::Lambda::Function").values()
    (queue,) = [
        q
        for q in _of_type(archiver_on_lambda, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    visibility = queue["Properties"]["VisibilityTimeout"]
    assert function["Properties"]["Timeout"] * 6 <= visibility
    broken = copy.deepcopy(archiver_on_lambda)
    (function,) = _of_type(broken, "AWS::Lambda::Function").values()
    function["Properties"]["Timeout"] = visibility // 6 + 1
    assert _rules(violations(broken)) == {"Lambda timeout vs queue visibility"}


def test_an_sqs_batch_over_ten_without_a_window_is_caught(archiver_on_lambda: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver_on_lambda)
    (mapping,) = _of_type(broken, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] > 10
    mapping["Properties"].pop("MaximumBatchingWindowInSeconds")
    assert _rules(violations(broken)) == {"SQS batch size"}


def test_message_attributes_over_ten_are_caught(archiver: dict[str, Any]) -> None:
    broken = copy.deepcopy(archiver)
    broken["Resources"]["Subscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Properties": {"FilterPolicy": {f"a{i}": ["x"] for i in range(6)}},
    }
    broken["Resources"]["Pipe"] = {
        "Type": "AWS::Pipes::Pipe",
        "Properties": {"Target": {"MessageAttributes": {f"a{i}": "x" for i in range(11)}}},
    }
    assert _rules(violations(broken)) == {"message attributes", "filter policy attributes"}
