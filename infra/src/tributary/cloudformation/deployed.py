"""The local stack with its topology built by CloudFormation from the CDK app's templates.

:class:`DeployedStack` is a :class:`~tributary.stack.Stack` whose provisioning step synthesizes the CDK
app with the local profile (``{"profile": "local"}``: no NAT gateway, registry images, embedded graph and
series stores), deploys the core stack and then each service stack into the emulator's CloudFormation, one
at a time, each to ``CREATE_COMPLETE``, and reads the topology back from what was deployed: queue URLs from
the stack outputs, bus, rules and queue ARNs from the emulator's APIs, bucket, table and topic names from
the task definitions.

Each service then runs as a host process, the task definition's command (``tributary-service <svc>``) as
the supervisor's ``python -m shared.run <svc>``, with exactly the environment its deployed task
definition gives its container (ECS ``DescribeTaskDefinition``), only the container's placement mapped to
the host (listen address, port and data folder, as the ECS agent maps port and volume) and the task role's
stand-in added (the emulator's endpoint and credentials). The host's own ``TRIBUTARY_*`` variables are
not passed on, so a variable missing from the task definition, or a wrong one, fails here.

:meth:`DeployedStack.update_service` is a per-service deploy: synthesize with new settings, update that
one stack, restart that service's processes with the new revision's environment; the others keep running.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from shared.credential_stores import CredentialStore, credential_store
from shared.manifest import ServiceManifest
from tributary.cloudformation.assembly import StackArtifact, synthesize
from tributary.cloudformation.deployer import DeployedStackInfo, Staging, bootstrap, deploy_stack
from tributary.cloudformation.placeholders import substitute
from tributary.provision import QueueInfo, Topology
from tributary.stack import Stack, StackError
from tributary.supervisor import ServiceSpec

log = structlog.get_logger(__name__)

DEPLOYED_BY = "cloudformation"
CONTAINER = "app"
# The container's command: the services' one entry point (console script of ``shared.run``, which is what
# the supervisor's launcher runs on the host), followed by the service name.
SERVICE_COMMAND = "tributary-service"
# The container's placement, which the host maps: every task definition must declare them.
PLACEMENT = ("TRIBUTARY_HTTP_HOST", "TRIBUTARY_HTTP_PORT", "TRIBUTARY_DATA_DIR")
TOPIC_PREFIX, TOPIC_SUFFIX = "TRIBUTARY_TOPIC_", "_ARN"


class TaskDefinitionError(StackError):
    """A deployed task definition cannot run its service (a variable missing or contradicting the stack)."""


class DeployedStack(Stack):
    """A :class:`~tributary.stack.Stack` provisioned by CloudFormation (see the module docstring).

    Args:
        settings: per service, ``TRIBUTARY_*`` settings the deployment puts in its task definition (the
            ``settings`` key of the CDK context), e.g. shorter batching windows for tests.
        stack_timeout_s: how long one stack may take to deploy.
        **kwargs: as for :class:`~tributary.stack.Stack` (``service_env`` is refused: a deployed service
            gets its task definition's environment, and settings go through ``settings``).
    """

    inherit_tributary_env = False

    def __init__(
        self,
        *,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        stack_timeout_s: float = 600.0,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("service_env"):
            raise ValueError(
                "a deployed stack's services get their task definitions' environment: use settings"
            )
        super().__init__(**kwargs)
        self.settings = {k: dict(v) for k, v in (settings or {}).items()}
        self._stack_timeout_s = stack_timeout_s
        self.stacks: dict[str, DeployedStackInfo] = {}
        self.placeholders: dict[str, dict[str, str]] = {}
        self._task_env: dict[str, dict[str, str]] = {}
        self._stack_of: dict[str, str] = {}
        self._staging: Staging | None = None

    # -- deploying ---------------------------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        """The CDK app's ``tributary`` context for this stack."""
        return {
            "profile": "local",
            "bus_name": self.bus_name,
            "region": self.region,
            "settings": self.settings,
        }

    def synthesize(self) -> list[StackArtifact]:
        """Synthesize the app (local profile) into ``<data_dir>/cdk.out``: the stacks this stack runs."""
        started = time.monotonic()
        artifacts = synthesize(self.data_dir / "cdk.out", context=self.context())
        wanted = {m.name for m in self.manifests}
        chosen = [a for a in artifacts if a.service is None or a.service in wanted]
        missing = wanted - {a.service for a in chosen}
        if missing:
            raise StackError(f"the CDK app has no stack for {sorted(missing)}")
        log.info(
            "cdk_synthesized", stacks=[a.name for a in chosen], ms=round((time.monotonic() - started) * 1000)
        )
        return chosen

    def deploy(self, artifact: StackArtifact) -> DeployedStackInfo:
        """Create or update one stack (placeholders for what the emulator cannot create) and wait."""
        template, substituted = substitute(artifact.template, self.emulator.name)
        info = deploy_stack(
            self.client("cloudformation"),
            artifact.name,
            template,
            staging=self._staging,
            timeout_s=self._stack_timeout_s,
        )
        self.stacks[artifact.name] = info
        self.placeholders[artifact.name] = substituted
        if artifact.service is not None:
            self._stack_of[artifact.service] = artifact.name
            self._task_env[artifact.service] = self._task_environment(artifact.service, info)
        return info

    def _provision(self) -> Topology:
        account = self.client("sts").get_caller_identity()["Account"]
        self._staging = bootstrap(self.client("ssm"), self.client("s3"), account=account, region=self.region)
        self.emulator.track_bucket(self._staging.bucket)
        for artifact in self.synthesize():
            self.deploy(artifact)
        self._dynamodb = any(
            env.get("TRIBUTARY_STATE_BACKEND") == "dynamodb" for env in self._task_env.values()
        )
        return self._read_topology()

    def _task_environment(self, service: str, info: DeployedStackInfo) -> dict[str, str]:
        """The environment the deployed task definition gives the service's container."""
        arns = info.physical_ids("AWS::ECS::TaskDefinition")
        if len(arns) != 1:
            raise TaskDefinitionError(f"stack {info.name}: expected one task definition, found {len(arns)}")
        try:
            task = self.client("ecs").describe_task_definition(taskDefinition=arns[0])["taskDefinition"]
        except (BotoCoreError, ClientError) as exc:
            raise TaskDefinitionError(
                f"{service}: {self.emulator.name} does not serve the deployed task definition"
                f" (ECS DescribeTaskDefinition: {exc}); MiniStack does"
            ) from exc
        containers = [c for c in task["containerDefinitions"] if c["name"] == CONTAINER]
        if not containers:
            raise TaskDefinitionError(
                f"stack {info.name}: its task definition has no {CONTAINER!r} container"
            )
        command = containers[0].get("command")
        if command != [SERVICE_COMMAND, service]:
            raise TaskDefinitionError(
                f"{service}: the task definition runs {command!r}, not the services' entry point"
                f" {[SERVICE_COMMAND, service]!r} (what the host runs as `python -m shared.run {service}`)"
            )
        env = {e["name"]: e["value"] for e in containers[0].get("environment", [])}
        if containers[0].get("secrets"):
            raise TaskDefinitionError(
                f"stack {info.name}: secrets in the task definition are not resolved here"
            )
        missing = [k for k in PLACEMENT if k not in env]
        if missing:
            raise TaskDefinitionError(f"{service}: the task definition does not set {missing}")
        if env.get("TRIBUTARY_SERVICE") != service:
            raise TaskDefinitionError(
                f"{service}: the task definition sets TRIBUTARY_SERVICE={env.get('TRIBUTARY_SERVICE')!r}"
            )
        return env

    def _read_topology(self) -> Topology:
        """The topology as deployed: outputs, task definitions, and the emulator's own answers."""
        events, sqs = self.client("events"), self.client("sqs")
        bus_arn = events.describe_event_bus(Name=self.bus_name)["Arn"]
        queues: dict[str, QueueInfo] = {}
        topics: dict[str, dict[str, str]] = {}
        bucket = ""
        for manifest in self.manifests:
            env = self._task_env[manifest.name]
            bucket = env.get("TRIBUTARY_BUCKET", bucket)
            topics[manifest.name] = {
                k.removeprefix(TOPIC_PREFIX).removesuffix(TOPIC_SUFFIX).lower(): v
                for k, v in env.items()
                if k.startswith(TOPIC_PREFIX) and k.endswith(TOPIC_SUFFIX)
            }
            if manifest.is_worker:
                queues[manifest.name] = self._queue_info(manifest, env, sqs, events)
        if bucket:
            self.bucket = bucket
            self.emulator.track_bucket(bucket)
        return Topology(
            bus_name=self.bus_name,
            bus_arn=bus_arn,
            bucket=bucket,
            queues=queues,
            topics={k: v for k, v in topics.items() if v},
        )

    def _queue_info(self, manifest: ServiceManifest, env: dict[str, str], sqs: Any, events: Any) -> QueueInfo:
        outputs = self.stacks[self._stack_of[manifest.name]].outputs
        url, dlq_url = outputs["QueueUrl"], outputs["DlqUrl"]
        if env.get("TRIBUTARY_QUEUE_URL") != url or env.get("TRIBUTARY_DLQ_URL") != dlq_url:
            raise TaskDefinitionError(
                f"{manifest.name}: the task definition's queue URLs are not its stack's queues"
            )

        def arn(queue_url: str) -> str:
            attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]
            return str(attributes["QueueArn"])

        rule_name = f"{self.bus_name}-{manifest.name}"
        rule = events.describe_rule(Name=rule_name, EventBusName=self.bus_name)
        return QueueInfo(
            url=url,
            arn=arn(url),
            dlq_url=dlq_url,
            dlq_arn=arn(dlq_url),
            rule_name=rule_name,
            rule_arn=rule["Arn"],
        )

    # -- running -----------------------------------------------------------------------------------------

    def _credential_store(self) -> CredentialStore:
        """The store ingest's task definition names (``TRIBUTARY_AUTH_STORE``: the ingest stack's Secrets
        Manager secret), where the stack's keys are issued as an operator would with `tributary producers`."""
        location = self._task_env.get("ingest", {}).get("TRIBUTARY_AUTH_STORE")
        if not location:
            return super()._credential_store()
        return credential_store(location, client=self.client("secretsmanager"))

    def _base_env(self) -> dict[str, str]:
        """The task role's stand-in and the X-Ray daemon's address: nothing of the topology."""
        return {k: v for k, v in self.aws_env().items() if k.startswith("AWS_")} | {
            "AWS_XRAY_DAEMON_ADDRESS": self.traces.address
        }

    def _spec(self, manifest: ServiceManifest) -> ServiceSpec:
        env = {k: v for k, v in self._task_env[manifest.name].items() if k not in PLACEMENT}
        if self._proxy is not None:
            env["AWS_ENDPOINT_URL"] = self._proxy.listen(manifest.name)
        return ServiceSpec(manifest=manifest, env=env)

    def update_service(self, service: str, settings: Mapping[str, str]) -> DeployedStackInfo:
        """A per-service deploy: :meth:`prepare_update`, then :meth:`apply_update`."""
        return self.apply_update(self.prepare_update(service, settings))

    def prepare_update(self, service: str, settings: Mapping[str, str]) -> StackArtifact:
        """Synthesize the app again with ``service``'s new settings; its stack, not deployed yet."""
        self.settings[service] = dict(settings)
        (artifact,) = [a for a in self.synthesize() if a.service == service]
        return artifact

    def apply_update(self, artifact: StackArtifact) -> DeployedStackInfo:
        """Update the service's stack (a new task definition revision) and restart only its processes,
        each drained first, with the new revision's environment; the other services keep running."""
        if artifact.service is None:
            raise ValueError(f"{artifact.name} is not a service stack")
        info = self.deploy(artifact)
        manifest = next(m for m in self.manifests if m.name == artifact.service)
        self.supervisor.restart(artifact.service, self._spec(manifest))
        self.write_stack_file()
        return info

    def task_environment(self, service: str) -> dict[str, str]:
        """The environment the service's deployed task definition declares."""
        return dict(self._task_env[service])

    def describe(self) -> dict[str, Any]:
        return super().describe() | {
            "deployed_by": DEPLOYED_BY,
            "cloudformation": {
                name: {
                    "status": info.status,
                    "outputs": info.outputs,
                    "placeholders": self.placeholders.get(name, {}),
                }
                for name, info in self.stacks.items()
            },
        }
