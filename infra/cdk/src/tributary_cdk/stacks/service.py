"""One stack per service, built from its manifest: everything the service needs to run, and nothing shared.

A worker gets its queue and DLQ, the rule feeding them, its store, its compute (Fargate or Lambda), the
topics it publishes to, least-privilege grants, alarms and a dashboard. ingest gets its HTTP front, the
right to put events on the bus, alarms and a dashboard. Shared resources (bus, key, alarms topic, VPC) come
from the core stack through SSM parameters, so this stack synthesizes and deploys on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from shared.manifest import ServiceManifest
from tributary_cdk.config import DeployConfig, FargateCompute, LambdaCompute
from tributary_cdk.constructs.alarms import HttpAlarms, WorkerAlarms
from tributary_cdk.constructs.compute.fargate_worker import FargateWorker
from tributary_cdk.constructs.compute.health import HTTP_PORT
from tributary_cdk.constructs.compute.http_front import HttpFront
from tributary_cdk.constructs.compute.lambda_worker import LambdaWorker
from tributary_cdk.constructs.core_refs import CoreImports
from tributary_cdk.constructs.dashboards import ServiceDashboard, ingest_widgets, worker_widgets
from tributary_cdk.constructs.images import container_image, lambda_code
from tributary_cdk.constructs.queues import ServiceQueues
from tributary_cdk.constructs.stores import StoreContext, build_store
from tributary_cdk.constructs.subscription import Subscription
from tributary_cdk.constructs.topics import ServiceTopics
from tributary_cdk.nag import Suppression, suppress
from tributary_cdk.retention import log_retention

DATA_DIR = "/data"


class ServiceStack(cdk.Stack):
    """The stack of one service (``manifest``) on the bus of ``config``.

    Raises:
        tributary_cdk.constructs.stores.UnknownServiceError: no store construct for the service.
        ValueError: the manifest neither consumes events nor serves HTTP, or asks for compute it cannot run
            on (an HTTP front on Lambda).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        manifest: ServiceManifest,
        config: DeployConfig,
        repo_root: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, description=f"Tributary {manifest.name} ({config.bus_name})", **kwargs)
        if not manifest.is_worker and not manifest.http:
            raise ValueError(f"service {manifest.name!r} neither consumes events nor serves HTTP")
        self.manifest = manifest
        self.config = config
        name = manifest.name
        core = CoreImports(
            self,
            "Core",
            bus_name=config.bus_name,
            max_azs=config.max_azs,
            public_subnets=not manifest.is_worker,  # the HTTP front's load balancer
        )
        self.core = core
        self.store = build_store(
            self,
            "Store",
            service=name,
            context=StoreContext(config=config, service=name, core=core),
        )
        self.topics = (
            ServiceTopics(
                self, "Topics", bus_name=config.bus_name, service=name, names=manifest.topics, key=core.key
            )
            if manifest.topics
            else None
        )
        self.container_env: dict[str, str] = {
            "TRIBUTARY_SERVICE": name,
            "TRIBUTARY_HTTP_HOST": "0.0.0.0",  # noqa: S104 - inside the container; only the task's network reaches it
            "TRIBUTARY_HTTP_PORT": str(HTTP_PORT),
            "TRIBUTARY_DATA_DIR": DATA_DIR,
            **self.store.environment,
            **(self.topics.environment if self.topics else {}),
        }
        self._tuning = dict(config.settings.get(name, {}))
        self.container_env.update(self._tuning)
        retention = log_retention(config.log_retention_days)
        compute = config.compute_for(name)
        self.queues: ServiceQueues | None = None
        if manifest.is_worker:
            role = self._worker(core, compute, repo_root, retention)
        else:
            role = self._http_front(core, compute, repo_root, retention)
        self.role = role
        self.store.grant(role)
        if self.topics:
            self.topics.grant_publish(role)
        self._suppress_platform_findings()

    # -- workers -----------------------------------------------------------------------------------------

    def _worker(
        self,
        core: CoreImports,
        compute: FargateCompute | LambdaCompute,
        repo_root: Path,
        retention: logs.RetentionDays,
    ) -> iam.IRole:
        manifest, config = self.manifest, self.config
        queues = ServiceQueues(
            self,
            "Queues",
            bus_name=config.bus_name,
            service=manifest.name,
            settings=manifest.queue,
            key=core.key,
        )
        self.queues = queues
        self.subscription = Subscription(
            self,
            "Subscription",
            bus=core.bus,
            bus_name=config.bus_name,
            manifest=manifest,
            queue=queues.queue,
            dlq=queues.dlq,
        )
        self.container_env.update(
            TRIBUTARY_QUEUE_URL=queues.queue.queue_url,
            TRIBUTARY_DLQ_URL=queues.dlq.queue_url,
            TRIBUTARY_VISIBILITY_TIMEOUT_S=str(manifest.queue.visibility_timeout_s),
        )
        self.container_env.update(self._tuning)
        worker = self._worker_compute(core, compute, repo_root, retention, queues)
        self.compute: FargateWorker | LambdaWorker | HttpFront = worker
        role = worker.role
        if isinstance(worker, FargateWorker):
            queues.grant_consume(role)  # a Lambda event source mapping grants this itself
            if self.store.secrets:
                self.store.grant_secrets(worker.task_definition.obtain_execution_role())
        # The runtime dead-letters with the reason itself, and backs off with ChangeMessageVisibility.
        queues.grant_dead_letter(role)
        self.store.connect(worker.security_group)
        self.alarms = WorkerAlarms(
            self,
            "Alarms",
            service=manifest.name,
            queue=queues.queue,
            dlq=queues.dlq,
            alarm_topic=core.alarm_topic,
            thresholds=config.alarms,
        )
        if isinstance(worker, LambdaWorker):
            self.alarms.add_metric_alarm(
                "InvocationErrors",
                description=f"{manifest.name}: Lambda invocations failing as a whole (crash, timeout)",
                metric=worker.function.metric_errors(period=cdk.Duration.minutes(1)),
            )
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            bus_name=config.bus_name,
            service=manifest.name,
            widgets=worker_widgets(manifest.name, queue=queues.queue, dlq=queues.dlq),
        )
        cdk.CfnOutput(self, "QueueUrl", value=queues.queue.queue_url)
        cdk.CfnOutput(self, "DlqUrl", value=queues.dlq.queue_url)
        return role

    def _worker_compute(
        self,
        core: CoreImports,
        compute: FargateCompute | LambdaCompute,
        repo_root: Path,
        retention: logs.RetentionDays,
        queues: ServiceQueues,
    ) -> FargateWorker | LambdaWorker:
        manifest, config = self.manifest, self.config
        if isinstance(compute, LambdaCompute):
            if self.store.secrets:
                names = ", ".join(sorted(self.store.secrets))
                raise ValueError(
                    f"service {manifest.name!r}: its store's credentials ({names}) are injected by ECS from"
                    " Secrets Manager, which Lambda does not do; run it on Fargate, or choose a store that"
                    " needs none (timeseries_writer: series_store liveanalytics)"
                )
            code = lambda_code(
                self, service=manifest.name, source=config.image, repo_root=repo_root, handler=compute.handler
            )
            return LambdaWorker(
                self,
                "Compute",
                service=manifest.name,
                code=code,
                environment=self.container_env,
                vpc=core.vpc,
                queue=queues.queue,
                visibility_timeout_s=manifest.queue.visibility_timeout_s,
                settings=compute,
                log_retention=retention,
            )
        return FargateWorker(
            self,
            "Compute",
            service=manifest.name,
            image=container_image(self, service=manifest.name, source=config.image, repo_root=repo_root),
            environment=self.container_env,
            vpc=core.vpc,
            queue=queues.queue,
            settings=compute,
            log_retention=retention,
            https_egress_only=self.store.https_egress_only,
            secrets=self.store.secrets,
        )

    # -- HTTP front (ingest) -----------------------------------------------------------------------------

    def _http_front(
        self,
        core: CoreImports,
        compute: FargateCompute | LambdaCompute,
        repo_root: Path,
        retention: logs.RetentionDays,
    ) -> iam.IRole:
        manifest, config = self.manifest, self.config
        if isinstance(compute, LambdaCompute):
            raise ValueError(f"service {manifest.name!r} serves HTTP: its compute must be Fargate")
        if not config.ingest_certificate_arn and not config.ingest_plain_http:
            raise ValueError(
                f"service {manifest.name!r} is internet-facing: set ingest_certificate_arn (an ACM"
                " certificate for its HTTPS listener), or ingest_plain_http: true for plain HTTP on purpose"
            )
        front = HttpFront(
            self,
            "Compute",
            service=manifest.name,
            image=container_image(self, service=manifest.name, source=config.image, repo_root=repo_root),
            environment=self.container_env,
            vpc=core.vpc,
            settings=compute,
            log_retention=retention,
            certificate_arn=config.ingest_certificate_arn,
        )
        self.compute = front
        self.alarms_http = HttpAlarms(
            self,
            "Alarms",
            service=manifest.name,
            load_balancer=front.load_balancer,
            target_group=front.target_group,
            alarm_topic=core.alarm_topic,
            thresholds=config.alarms,
        )
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            bus_name=config.bus_name,
            service=manifest.name,
            widgets=ingest_widgets(manifest.name, load_balancer=front.load_balancer),
        )
        scheme = "https" if config.ingest_certificate_arn else "http"
        cdk.CfnOutput(self, "Url", value=f"{scheme}://{front.load_balancer.load_balancer_dns_name}")
        return front.role

    # -- cdk-nag -----------------------------------------------------------------------------------------

    def _suppress_platform_findings(self) -> None:
        """Findings on what the CDK generates for ECS and Lambda, each with why it is acceptable here."""
        compute = self.compute
        if isinstance(compute, FargateWorker | HttpFront):
            task = compute.task_definition
            suppress(
                task,
                Suppression(
                    rule="ECS2",
                    reason="The environment holds configuration only (queue URLs, table and bucket names,"
                    " ports), never secrets; the services read their settings from TRIBUTARY_* variables.",
                ),
            )
            execution_role = task.execution_role
            if execution_role is not None:
                suppress(
                    execution_role,
                    Suppression(
                        rule="IAM5",
                        reason="The ECS execution role's ecr:GetAuthorizationToken supports only Resource '*'"
                        " (generated by the CDK for pulling the image).",
                        applies_to=["Resource::*"],
                    ),
                )
        if isinstance(compute, LambdaWorker):
            suppress(
                compute.role,
                Suppression(
                    rule="IAM4",
                    reason="AWS-maintained minimal policies for a function in a VPC: writing its logs and"
                    " managing its network interfaces.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                    ],
                ),
            )
