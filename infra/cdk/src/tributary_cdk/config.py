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
SERIES_STORES = ("influxdb", "liveanalytics")
INFLUXDB_MIN_STORAGE_GIB = 20  # Timestream for InfluxDB's smallest allocation (InfluxIOIncludedT1)
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

    ``timeout_s`` defaults to a sixth of the queue's visibility timeout, and may not exceed it (AWS
    recommends the visibility timeout at six times the function's timeout).
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
    series_store: Literal["influxdb", "liveanalytics"] = "influxdb"
    """timeseries_writer's store on AWS: ``influxdb`` (default), a Timestream for InfluxDB instance in the
    isolated subnets; ``liveanalytics``, a Timestream for LiveAnalytics database and table, for accounts
    that had LiveAnalytics before AWS closed it to new customers (20 June 2025). docs/deploy.md compares
    them. The local profile ignores it (embedded DuckDB)."""
    influxdb_instance_type: str = "db.influx.medium"
    influxdb_storage_gib: int = 20
    influxdb_multi_az: bool = True
    """A standby in a second availability zone that InfluxDB fails over to (twice the instance-hours)."""
    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per service, more ``TRIBUTARY_*`` settings for its task definition or function (tuning knobs:
    ``{"archiver": {"TRIBUTARY_BATCH_MAX_WAIT_MS": "2000"}}``); they win over the stack's own."""
    profile: Literal["aws", "local"] = "aws"
    """``local``: the stacks ``tributary deploy-local`` deploys into an emulator's CloudFormation (no NAT
    gateway, registry images, embedded graph and series stores); see :data:`LOCAL_PROFILE`."""

    def __post_init__(self) -> None:
        for service, env in self.settings.items():
            stray = sorted(k for k in env if not k.startswith("TRIBUTARY_"))
            if stray:
                raise ValueError(f"settings of {service!r}: {stray} are not TRIBUTARY_* variables")
        if self.series_store not in SERIES_STORES:
            raise ValueError(f"series_store {self.series_store!r}: one of {', '.join(SERIES_STORES)}")
        if self.influxdb_storage_gib < INFLUXDB_MIN_STORAGE_GIB:
            raise ValueError(
                f"influxdb_storage_gib {self.influxdb_storage_gib}: at least {INFLUXDB_MIN_STORAGE_GIB} GiB"
            )
        if self.influxdb_multi_az and self.max_azs < 2 and self.series_store == "influxdb" and not self.local:
            raise ValueError(
                "influxdb_multi_az needs subnets in two availability zones (max_azs >= 2), not"
                f" max_azs={self.max_azs}; or set influxdb_multi_az: false"
            )
        if self.profile == "local" and (self.nat_gateways != 0 or self.image.kind != "registry"):
            raise ValueError(
                "the local profile has no NAT gateway and pulls registry images (nat_gateways=0,"
                f" image.kind=registry), not nat_gateways={self.nat_gateways}, image.kind={self.image.kind}"
            )

    @property
    def local(self) -> bool:
        """Deployed into a local emulator (``profile: local``), not AWS."""
        return self.profile == "local"

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
        if raw.get("profile") == "local":
            for key, default in LOCAL_PROFILE.items():
                raw.setdefault(key, default)
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


# What the local profile changes by default, each because no emulator serves the AWS choice on the host:
# an Elastic IP for a NAT gateway (LocalStack fails the allocation), images built by the CDK (no Docker).
# The graph and series stores are the services' embedded ones (FalkorDB, DuckDB): no emulator serves
# Neptune's openCypher endpoint or Timestream writes (tributary_cdk.constructs.stores.build_store).
# ingest's listener is plain HTTP: no ACM certificate exists for an emulator's load balancer (a record only).
LOCAL_PROFILE: dict[str, Any] = {"nat_gateways": 0, "image": {"kind": "registry"}, "ingest_plain_http": True}


def _compute(service: str, spec: Mapping[str, Any]) -> Compute:
    options = dict(spec)
    kind = options.pop("kind", "fargate")
    if kind == "fargate":
        return FargateCompute(**options)
    if kind == "lambda":
        return LambdaCompute(**options)
    raise ValueError(f"service {service!r}: unknown compute kind {kind!r} (fargate or lambda)")
