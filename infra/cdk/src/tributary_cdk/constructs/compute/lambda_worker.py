"""A queue worker on Lambda: the service's ``lambda`` image, fed by an SQS event source mapping that reports
per-message failures (``ReportBatchItemFailures``), so the same runtime (``shared.lambda_adapter``) settles
each message as the poller would.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tributary_cdk.config import LambdaCompute
from tributary_cdk.constructs.compute import xray


class LambdaWorker(Construct):
    """The function (in the private subnets) and its event source mapping."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        code: lambda_.DockerImageCode,
        environment: Mapping[str, str],
        vpc: ec2.IVpc,
        queue: sqs.IQueue,
        visibility_timeout_s: int,
        settings: LambdaCompute,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        timeout_s = settings.timeout_s or visibility_timeout_s
        if timeout_s > visibility_timeout_s:
            raise ValueError(
                f"{service}: Lambda timeout {timeout_s} s exceeds the queue's visibility timeout"
                f" {visibility_timeout_s} s (SQS would hand the batch to another invocation mid-way)"
            )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{service} function: no inbound, outbound to AWS APIs and its store",
            allow_all_outbound=True,
        )
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=code,
            description=f"Tributary {service} (SQS batches through shared.lambda_adapter)",
            memory_size=settings.memory_mib,
            timeout=cdk.Duration.seconds(timeout_s),
            environment={**environment, "TRIBUTARY_HTTP_PORT": "0", "TRIBUTARY_DATA_DIR": "/tmp"},  # noqa: S108 - Lambda's only writable folder
            architecture=lambda_.Architecture.X86_64,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
            log_group=self.log_group,
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=settings.batch_size,
                max_batching_window=cdk.Duration.seconds(settings.max_batching_window_s),
                max_concurrency=settings.max_concurrency,
                report_batch_item_failures=True,
            )
        )
        xray.trace_function(self, self.function)
        role = self.function.role
        assert role is not None  # a function created without a role gets one
        self.role: iam.IRole = role
