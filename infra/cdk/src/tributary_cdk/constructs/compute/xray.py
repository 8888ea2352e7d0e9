"""X-Ray for a service's compute: where its segments go, and the right to send them.

The services send segments over UDP to ``AWS_XRAY_DAEMON_ADDRESS`` (default ``127.0.0.1:2000``,
:mod:`shared.tracing`). On Fargate the X-Ray daemon runs as a sidecar of each task (the task's containers
share one network namespace, so the default address reaches it); under Lambda, active tracing runs the
daemon and sets the address. Either way the role gets ``xray:PutTraceSegments`` and
``xray:PutTelemetryRecords`` in a policy of its own, so its unavoidable ``Resource: *`` is acknowledged
there and nowhere else.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from tributary_cdk.nag import Suppression, suppress

DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.3.14"
DAEMON_PORT = 2000


def allow_segments(scope: Construct, role: iam.IRole) -> iam.Policy:
    """A policy on ``role`` allowing it to send segments to X-Ray."""
    policy = iam.Policy(
        scope,
        "XRayWrite",
        statements=[
            iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
            )
        ],
        roles=[role],
    )
    suppress(
        policy,
        Suppression(
            rule="IAM5",
            reason="X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions:"
            " Resource '*' is their only form.",
            applies_to=["Resource::*"],
        ),
    )
    return policy


def add_daemon(scope: Construct, task: ecs.FargateTaskDefinition, *, log_group: logs.ILogGroup) -> None:
    """The X-Ray daemon as a non-essential sidecar of ``task`` (a daemon crash never stops the app)."""
    task.add_container(
        "xray-daemon",
        image=ecs.ContainerImage.from_registry(DAEMON_IMAGE),
        essential=False,
        cpu=32,
        memory_reservation_mib=64,
        port_mappings=[ecs.PortMapping(container_port=DAEMON_PORT, protocol=ecs.Protocol.UDP)],
        logging=ecs.LogDrivers.aws_logs(stream_prefix="xray", log_group=log_group),
    )
    allow_segments(scope, task.task_role)


def trace_function(scope: Construct, function: lambda_.Function) -> None:
    """Active tracing for ``function`` (Lambda runs the daemon), with the segments policy of its own."""
    cfn = function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    # Set on the resource rather than with ``tracing=ACTIVE``: that would add the X-Ray statement to the
    # role's default policy, where its Resource '*' could only be acknowledged for every statement at once.
    cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
    assert function.role is not None
    allow_segments(scope, function.role)
