"""Resources an emulator's CloudFormation cannot create, replaced by inert placeholders before deploying.

LocalStack's CloudFormation mocks a type it has no provider for by itself (the resource is recorded,
nothing is created); MiniStack's fails the stack. For MiniStack, :func:`substitute` takes those resources
out of the template and puts a placeholder string wherever another resource refers to one
(``Ref``/``Fn::GetAtt``), which is what LocalStack's mock answers too. Everything else in the template is
deployed as synthesized. The substituted logical ids are reported (``stack.json`` ``cloudformation``), and
docs/deploy.md lists the types per emulator.

None of these carries an event: scaling (no tasks to scale on the host), the VPC's flow log, security group
rules between tasks and stores (processes on loopback), the bus archive (replay), and metric-math alarms
(MiniStack alarms take one metric; the DLQ and queue-age alarms are plain metrics and stay).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Types MiniStack 1.5.33's CloudFormation has no provisioner for (its _RESOURCE_HANDLERS), that the
# local profile's templates use.
MINISTACK_UNSERVED = frozenset(
    {
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::EC2::EIP",
        "AWS::EC2::FlowLog",
        "AWS::EC2::NatGateway",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::Events::Archive",
        "AWS::Neptune::DBCluster",
        "AWS::Neptune::DBInstance",
        "AWS::Neptune::DBSubnetGroup",
        "AWS::Timestream::Database",
        "AWS::Timestream::Table",
    }
)
UNSERVED: dict[str, frozenset[str]] = {"ministack": MINISTACK_UNSERVED, "localstack": frozenset()}
METRIC_MATH_ALARM = "AWS::CloudWatch::Alarm (metric math)"


def _unserved(emulator: str, resource: Mapping[str, Any]) -> str | None:
    """The reason ``resource`` cannot be created on ``emulator`` (its type), or ``None``."""
    type_ = str(resource.get("Type"))
    if type_ in UNSERVED.get(emulator, frozenset()):
        return type_
    if (
        emulator == "ministack"
        and type_ == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Metrics")
    ):
        return METRIC_MATH_ALARM
    return None


def placeholder(logical_id: str, attribute: str | None = None) -> str:
    """What a reference to a substituted resource resolves to."""
    return f"placeholder-{logical_id}" + (f"-{attribute}" if attribute else "")


def substitute(template: Mapping[str, Any], emulator: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``template`` without the resources ``emulator`` cannot create, references to them replaced by
    :func:`placeholder` strings; and the substituted logical ids with their types."""
    result = copy.deepcopy(dict(template))
    resources: dict[str, Any] = result.get("Resources", {})
    removed = {k: why for k, r in resources.items() if (why := _unserved(emulator, r))}
    if not removed:
        return result, {}
    for logical_id in removed:
        del resources[logical_id]
    result = _replace(result, set(removed))
    for resource in result.get("Resources", {}).values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in removed:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in removed]
    return result, removed


def _replace(value: Any, removed: set[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in removed:
            return placeholder(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
            if logical_id in removed:
                return placeholder(logical_id, attribute)
        return {k: _replace(v, removed) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, removed) for v in value]
    return value
