"""AWS limits and recommendations, checked over a synthesized CloudFormation template.

:func:`violations` reads one template (the JSON ``cdk synth`` writes) and lists every place it breaks one of:

- every queue that is not itself a DLQ redrives to one (``RedrivePolicy``, ``maxReceiveCount`` 1 to 1,000);
- every DLQ (a redrive or rule target's dead-letter queue) has an alarm on its visible messages that
  notifies someone, and keeps messages at least as long as the queues feeding it (SQS keeps a standard
  message's original enqueue time when it moves it, so a shorter DLQ retention drops it early);
- every EventBridge rule target has a retry policy within EventBridge's bounds (0 to 185 attempts,
  60 s to 24 h) and a dead-letter queue;
- a Lambda function fed by an SQS queue times out in at most a sixth of the queue's visibility timeout (AWS:
  "set the source queue's visibility timeout to at least six times the timeout of your function"), and its
  event source mapping keeps SQS's batch bounds (up to 10 without a batching window, 10,000 with one);
- wherever a template sets message attributes, at most 10 (SQS and SNS); an SNS filter policy names at most
  5 attributes.

The CDK tests run it over every synthesized stack, and ``tributary deploy-local`` over the templates it is
about to deploy, so a template breaking one fails before it reaches an account.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_ATTRIBUTES = 10
MAX_FILTER_POLICY_ATTRIBUTES = 5
MAX_RECEIVE_COUNT = 1000
TARGET_MAX_RETRY_ATTEMPTS = 185
TARGET_MIN_EVENT_AGE_S = 60
TARGET_MAX_EVENT_AGE_S = 86_400
VISIBILITY_PER_LAMBDA_TIMEOUT = 6
SQS_DEFAULT_VISIBILITY_S = 30
SQS_DEFAULT_RETENTION_S = 345_600
LAMBDA_DEFAULT_TIMEOUT_S = 3
SQS_MAX_BATCH_WITHOUT_WINDOW = 10
SQS_MAX_BATCH = 10_000

Template = Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    """One broken limit: which resource (logical id), which rule, and what the template says."""

    resource: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.rule}: {self.detail}"


def violations(template: Template) -> list[Violation]:
    """Every limit ``template`` breaks (empty: none)."""
    resources: dict[str, Any] = dict(template.get("Resources", {}))
    found: list[Violation] = []
    for check in (_queues, _dlq_alarms, _rule_targets, _lambda_sources, _message_attributes):
        found.extend(check(resources))
    return found


def _of_type(resources: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r.get("Properties", {}) for k, r in resources.items() if r.get("Type") == type_}


def _logical_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names (``None`` for anything else)."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _rule_dlqs(resources: Mapping[str, Any]) -> set[str]:
    dlqs = set()
    for rule in _of_type(resources, "AWS::Events::Rule").values():
        for target in rule.get("Targets", []):
            dlq = _logical_id(target.get("DeadLetterConfig", {}).get("Arn"))
            if dlq:
                dlqs.add(dlq)
    return dlqs


def _redrive(queue: Mapping[str, Any]) -> tuple[str | None, Any]:
    policy = queue.get("RedrivePolicy") or {}
    return _logical_id(policy.get("deadLetterTargetArn")), policy.get("maxReceiveCount")


def _queues(resources: Mapping[str, Any]) -> Iterator[Violation]:
    queues = _of_type(resources, "AWS::SQS::Queue")
    fed_by: dict[str, list[str]] = {}
    for name, queue in queues.items():
        dlq, _ = _redrive(queue)
        if dlq:
            fed_by.setdefault(dlq, []).append(name)
    dlqs = set(fed_by) | _rule_dlqs(resources)
    for name, queue in queues.items():
        if name in dlqs:
            continue
        dlq, count = _redrive(queue)
        if dlq is None:
            yield Violation(name, "queue without a DLQ", "no RedrivePolicy.deadLetterTargetArn")
        elif not isinstance(count, int) or not 1 <= count <= MAX_RECEIVE_COUNT:
            yield Violation(
                name, "redrive maxReceiveCount", f"{count!r} is not within 1..{MAX_RECEIVE_COUNT}"
            )
    for dlq, sources in fed_by.items():
        if dlq not in queues:
            continue
        kept = queues[dlq].get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION_S)
        for source in sources:
            source_kept = queues[source].get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION_S)
            if isinstance(kept, int) and isinstance(source_kept, int) and kept < source_kept:
                yield Violation(
                    dlq, "DLQ retention", f"{kept} s is shorter than its source {source}'s {source_kept} s"
                )


def _dlq_alarms(resources: Mapping[str, Any]) -> Iterator[Violation]:
    queues = _of_type(resources, "AWS::SQS::Queue")
    dlqs = {d for q in queues.values() if (d := _redrive(q)[0])} | _rule_dlqs(resources)
    watched = set()
    for alarm in _of_type(resources, "AWS::CloudWatch::Alarm").values():
        if (
            alarm.get("Namespace") != "AWS/SQS"
            or alarm.get("MetricName") != "ApproximateNumberOfMessagesVisible"
        ):
            continue
        if not alarm.get("AlarmActions"):
            continue
        for dimension in alarm.get("Dimensions", []):
            if dimension.get("Name") == "QueueName" and (queue := _logical_id(dimension.get("Value"))):
                watched.add(queue)
    for dlq in sorted(dlqs & set(queues) - watched):
        yield Violation(dlq, "DLQ without an alarm", "no alarm with actions on its visible messages")


def _rule_targets(resources: Mapping[str, Any]) -> Iterator[Violation]:
    for name, rule in _of_type(resources, "AWS::Events::Rule").items():
        for target in rule.get("Targets", []):
            where = f"{name} target {target.get('Id')!r}"
            retry = target.get("RetryPolicy")
            if not retry:
                yield Violation(where, "rule target without a retry policy", "no RetryPolicy")
            else:
                attempts = retry.get("MaximumRetryAttempts")
                age = retry.get("MaximumEventAgeInSeconds")
                if not isinstance(attempts, int) or not 0 <= attempts <= TARGET_MAX_RETRY_ATTEMPTS:
                    yield Violation(where, "retry attempts", f"{attempts!r} not within 0..185")
                if not isinstance(age, int) or not TARGET_MIN_EVENT_AGE_S <= age <= TARGET_MAX_EVENT_AGE_S:
                    yield Violation(where, "retry event age", f"{age!r} not within 60..86400 s")
            if not (target.get("DeadLetterConfig") or {}).get("Arn"):
                yield Violation(where, "rule target without a DLQ", "no DeadLetterConfig.Arn")


def _lambda_sources(resources: Mapping[str, Any]) -> Iterator[Violation]:
    queues = _of_type(resources, "AWS::SQS::Queue")
    functions = _of_type(resources, "AWS::Lambda::Function")
    for name, mapping in _of_type(resources, "AWS::Lambda::EventSourceMapping").items():
        queue = _logical_id(mapping.get("EventSourceArn"))
        function = _logical_id(mapping.get("FunctionName"))
        if queue not in queues:
            continue
        batch = mapping.get("BatchSize", 10)
        window = mapping.get("MaximumBatchingWindowInSeconds", 0)
        if isinstance(batch, int) and (
            batch > SQS_MAX_BATCH or (batch > SQS_MAX_BATCH_WITHOUT_WINDOW and not window)
        ):
            yield Violation(name, "SQS batch size", f"{batch} needs a batching window and at most 10,000")
        if function not in functions:
            continue
        timeout = functions[function].get("Timeout", LAMBDA_DEFAULT_TIMEOUT_S)
        visibility = queues[queue].get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_S)
        fits = not isinstance(timeout, int) or not isinstance(visibility, int)
        if not fits and timeout * VISIBILITY_PER_LAMBDA_TIMEOUT > visibility:
            yield Violation(
                function,
                "Lambda timeout vs queue visibility",
                f"timeout {timeout} s x 6 > {queue}'s visibility timeout {visibility} s",
            )


def _message_attributes(resources: Mapping[str, Any]) -> Iterator[Violation]:
    for name, resource in resources.items():
        for path, value in _walk(resource.get("Properties", {}), ""):
            key = path.rsplit(".", 1)[-1]
            if key == "MessageAttributes" and isinstance(value, Mapping):
                if len(value) > MAX_MESSAGE_ATTRIBUTES:
                    yield Violation(name, "message attributes", f"{path}: {len(value)} > 10")
            elif key == "FilterPolicy" and isinstance(value, Mapping):
                attributes = [k for k in value if not k.startswith("$")]
                if len(attributes) > MAX_FILTER_POLICY_ATTRIBUTES:
                    yield Violation(name, "filter policy attributes", f"{path}: {len(attributes)} > 5")


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]")
