"""What a deployment may choose: bus name, network size, compute per service, images, alarm thresholds.

Everything has a default, so ``cdk synth`` needs no context. ``DeployConfig.from_context`` reads the
``tributary`` context key (``cdk.json`` or ``cdk synth -c tributary='{…}'``), for example::

    {"bus_name": "tributary", "max_azs": 2,
     "compute": {"archiver": {"kind": "lambda", "memory_mib": 2048}},
     "alarm_email": "ops@example.com"}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

LAMBDA_HANDLER = "shared.lambda_entry.handler"
SERVICE_COMMAND = "tributary-service"


@dataclass(frozen=True, kw_only=True)
class FargateCompute:
    """An ECS Fargate service running the service's image (``tributary-service <svc>``), scaled on backlog.

    ``backlog_per_task`` is how many visible messages one task may have waiting before another task is
    added: roughly the task's throughput times the latency you accept.
    """

    kind: Literal["fargate"] = "fargate"
    cpu: int = 512
    memory_mib: int = 1024
    min_tasks: int = 1
    max_tasks: int = 4
    backlog_per_task: int = 1000


@dataclass(frozen=True, kw_only=True)
class LambdaCompute:
    """A Lambda function from the service's image (its ``lambda`` build target), fed by an SQS event source
    mapping with ``ReportBatchItemFailures``; ``handler`` is the one Lambda entry point of every worker
    (:mod:`shared.lambda_entry`, which builds the service ``TRIBUTARY_SERVICE`` names).

    ``timeout_s`` defaults to the queue's visibility timeout (Lambda refuses a longer one).
    """

    kind: Literal["lambda"] = "lambda"
    handler: str = LAMBDA_HANDLER
    memory_mib: int = 1024
    timeout_s: int | None = None
    batch_size: int = 100
    max_batching_window_s: int = 5
    max_concurrency: int = 10


Compute = FargateCompute | LambdaCompute


@dataclass(frozen=True, kw_only=True)
class ImageSource:
    """Where service images come from.

    ``asset`` (default): built by the CDK from ``services/Dockerfile`` (``SERVICE=<svc>``) with the
    repository root as the build context, and pushed to the bootstrap repository. ``registry``: pulled as
    ``<repository_prefix><svc>:<tag>`` (images a pipeline built and pushed).
    """

    kind: Literal["asset", "registry"] = "asset"
    repository_prefix: str = "tributary-"
    tag: str = "latest"


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When a service's alarms fire."""

    oldest_message_age_s: int = 600
    error_rate: float = 0.05
    end_to_end_lag_s: int = 60
    http_5xx_rate: float = 0.01


@dataclass(frozen=True, kw_only=True)
class DeployConfig:
    """One deployment of Tributary (one bus): every choice the stacks make that is not in a manifest.

    ``ingest_certificate_arn``: the ACM certificate of ingest's public HTTPS listener. Without one, synth
    refuses, unless ``ingest_plain_http`` says plain HTTP on purpose (a private test deployment).
    ``notifier_webhook_secret_arns``: the Secrets Manager secrets the notifier's rules name as webhook
    ``secret_arn``; its tasks may read those and no others.

    ``region`` applies when the CDK CLI resolved none (``CDK_DEFAULT_REGION``): the stacks always know their
    region (the load balancer's access-log delivery depends on it), while the account may stay open.
    """

    bus_name: str = "tributary"
    region: str = "us-east-1"
    max_azs: int = 2
    nat_gateways: int = 1
    archive_retention_days: int = 90
    log_retention_days: int = 30
    compute: Mapping[str, Compute] = field(default_factory=dict)
    image: ImageSource = field(default_factory=ImageSource)
    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)
    alarm_email: str | None = None
    schema_registry: bool = False
    ingest_certificate_arn: str | None = None
    ingest_plain_http: bool = False
    notifier_webhook_secret_arns: tuple[str, ...] = ()
    neptune_min_capacity: float = 1.0
    neptune_max_capacity: float = 8.0
    neptune_instances: int = 2

    def compute_for(self, service: str) -> Compute:
        """The compute chosen for ``service``: Fargate unless the config says otherwise."""
        return self.compute.get(service) or FargateCompute()

    @classmethod
    def from_context(cls, value: Mapping[str, Any] | None) -> DeployConfig:
        """A config from the ``tributary`` context value (a dict; ``None``: all defaults).

        Raises:
            ValueError: an unknown key or compute kind.
        """
        raw = dict(value or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown tributary context keys: {unknown} (known: {sorted(known)})")
        if "compute" in raw:
            raw["compute"] = {svc: _compute(svc, spec) for svc, spec in raw["compute"].items()}
        if "image" in raw:
            raw["image"] = ImageSource(**raw["image"])
        if "notifier_webhook_secret_arns" in raw:
            raw["notifier_webhook_secret_arns"] = tuple(raw["notifier_webhook_secret_arns"])
        if "alarms" in raw:
            raw["alarms"] = AlarmThresholds(**raw["alarms"])
        return cls(**raw)


def _compute(service: str, spec: Mapping[str, Any]) -> Compute:
    options = dict(spec)
    kind = options.pop("kind", "fargate")
    if kind == "fargate":
        return FargateCompute(**options)
    if kind == "lambda":
        return LambdaCompute(**options)
    raise ValueError(f"service {service!r}: unknown compute kind {kind!r} (fargate or lambda)")
