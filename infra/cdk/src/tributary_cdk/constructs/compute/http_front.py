"""ingest's front: an internet-facing Application Load Balancer in front of ECS Fargate tasks.

Chosen over API Gateway + Lambda because ingest is a long-running FastAPI/uvicorn app that batches
PutEvents across the events of a request (up to ``max_body_bytes``, 16 MiB by default, beyond API Gateway's
10 MB and Lambda's 6 MB request limits), runs unchanged from its container locally and on AWS, and keeps
warm connection pools to EventBridge; an ALB adds no per-request cost at volume and no cold starts.

HTTPS with the given ACM certificate (HTTP redirects to it); plain HTTP only when the deployment says so
(``ingest_plain_http``). The listener forwards ``/v1/events`` and ``/healthz`` only. Access logs go to an
S3 bucket; invalid headers are dropped. Tasks run in the private subnets; only the load balancer reaches
them. Scaling: CPU and requests per task.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tributary_cdk.config import SERVICE_COMMAND, FargateCompute
from tributary_cdk.constructs.compute import xray
from tributary_cdk.constructs.compute.health import HTTP_PORT, health_check
from tributary_cdk.nag import Suppression, suppress

REQUESTS_PER_TASK = 2000
PUBLIC_PATHS = ("/v1/events", "/healthz")
"""The only paths the public listener forwards; everything else gets a 404 from the load balancer."""


class HttpFront(Construct):
    """ALB + Fargate service for one HTTP service."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str,
        image: ecs.ContainerImage,
        environment: Mapping[str, str],
        vpc: ec2.IVpc,
        settings: FargateCompute,
        log_retention: logs.RetentionDays,
        certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
            if certificate_arn
            else None
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
            logging=ecs.LogDrivers.aws_logs(stream_prefix=service, log_group=self.log_group),
            health_check=health_check(),
            port_mappings=[ecs.PortMapping(container_port=HTTP_PORT)],
            stop_timeout=cdk.Duration.seconds(30),
        )
        xray.add_daemon(self, task, log_group=self.log_group)
        self.pattern = patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=settings.min_tasks,
            public_load_balancer=True,
            task_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP,
            certificate=certificate,
            redirect_http=certificate is not None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if certificate else None,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
        )
        self.load_balancer = self.pattern.load_balancer
        self.target_group = self.pattern.target_group
        # Only the public API reaches the tasks: /metrics, /docs and /openapi.json answer 404 at the edge.
        listener = self.pattern.listener
        listener.add_action(
            "NotPublic",
            action=elbv2.ListenerAction.fixed_response(
                404, content_type="application/json", message_body='{"error": {"code": "not_found"}}'
            ),
        )
        listener.add_action(
            "PublicApi",
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(list(PUBLIC_PATHS))],
            action=elbv2.ListenerAction.forward([self.target_group]),
        )
        self.target_group.configure_health_check(path="/healthz", healthy_http_codes="200")
        self.target_group.set_attribute("deregistration_delay.timeout_seconds", "30")
        self.load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB access logs support SSE-S3 only
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.load_balancer.log_access_logs(self.access_logs, prefix=service)
        suppress(
            self.access_logs,
            Suppression(
                rule="S1",
                reason="This bucket receives the load balancer's access logs; server access logs of the log"
                " bucket itself would only log the log delivery.",
            ),
        )
        suppress(
            self.load_balancer,
            Suppression(
                rule="EC23",
                reason="The ingest endpoint is public by design: producers anywhere post events to it. Only"
                " the listener port is open; tasks stay in private subnets behind the load balancer.",
            ),
        )
        scaling = self.pattern.service.auto_scale_task_count(
            min_capacity=settings.min_tasks, max_capacity=settings.max_tasks
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        scaling.scale_on_request_count(
            "Requests", requests_per_target=REQUESTS_PER_TASK, target_group=self.target_group
        )
        self.service = self.pattern.service
        self.task_definition = self.pattern.task_definition
        self.role: iam.IRole = self.pattern.task_definition.task_role
