"""A queue worker on ECS Fargate: the service image running ``python -m <module>``, scaled on backlog.

Scaling follows the backlog per task, visible messages divided by running tasks (Container Insights), with
step scaling: above ``backlog_per_task`` one more task, above four times that three more, below half of it
one fewer, between ``min_tasks`` and ``max_tasks``. The runtime drains on SIGTERM, so the stop timeout is
long enough to finish a batch.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tributary_cdk.config import SERVICE_COMMAND, FargateCompute
from tributary_cdk.constructs.compute import xray
from tributary_cdk.constructs.compute.health import health_check

STOP_TIMEOUT = cdk.Duration.seconds(90)


class FargateWorker(Construct):
    """Cluster, task definition, service and its scaling for one worker; ``https_egress_only`` limits its
    tasks' outbound traffic to port 443; ``secrets`` are environment variables ECS fills from Secrets
    Manager at task start (its execution role, not the task's role, may read them)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        image: ecs.ContainerImage,
        environment: Mapping[str, str],
        vpc: ec2.IVpc,
        queue: sqs.IQueue,
        settings: FargateCompute,
        log_retention: logs.RetentionDays,
        https_egress_only: bool = False,
        secrets: Mapping[str, ecs.Secret] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=settings.cpu,
            memory_limit_mib=settings.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_container(
            "app",
            image=image,
            command=[SERVICE_COMMAND, service],  # the services' one entry point, serving this service
            environment=dict(environment),
            secrets=dict(secrets) if secrets else None,  # injected by ECS through the execution role
            logging=ecs.LogDrivers.aws_logs(stream_prefix=service, log_group=self.log_group),
            health_check=health_check(),
            stop_timeout=STOP_TIMEOUT,
        )
        xray.add_daemon(self, task, log_group=self.log_group)
        self.task_definition = task
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{service} tasks: no inbound, outbound to AWS APIs and its store"
            + (" (HTTPS only)" if https_egress_only else ""),
            allow_all_outbound=not https_egress_only,
        )
        if https_egress_only:  # AWS APIs and webhooks over TLS; the VPC's DNS resolver is not filtered
            self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=settings.min_tasks,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
        )
        self.role: iam.IRole = task.task_role
        self._scale_on_backlog(queue, settings)

    def _scale_on_backlog(self, queue: sqs.IQueue, settings: FargateCompute) -> None:
        minute = cdk.Duration.minutes(1)
        self.backlog_per_task = cloudwatch.MathExpression(
            expression="visible / IF(tasks > 0, tasks, 1)",
            using_metrics={
                "visible": queue.metric_approximate_number_of_messages_visible(
                    period=minute, statistic="Maximum"
                ),
                "tasks": cloudwatch.Metric(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions_map={
                        "ClusterName": self.cluster.cluster_name,
                        "ServiceName": self.service.service_name,
                    },
                    statistic="Average",
                    period=minute,
                ),
            },
            label="backlog per task",
            period=minute,
        )
        target = settings.backlog_per_task
        scaling = self.service.auto_scale_task_count(
            min_capacity=settings.min_tasks, max_capacity=settings.max_tasks
        )
        scaling.scale_on_metric(
            "BacklogPerTask",
            metric=self.backlog_per_task,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=target / 2, change=-1),
                autoscaling.ScalingInterval(lower=target, change=+1),
                autoscaling.ScalingInterval(lower=target * 4, change=+3),
            ],
            cooldown=cdk.Duration.seconds(120),
        )
