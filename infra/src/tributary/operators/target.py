"""What the operator commands act on: a local stack or an AWS account, and the clients to reach it.

On a local stack everything comes from its ``stack.json`` (endpoint, bus, bucket, queues, service URLs). On
AWS the services come from the installed manifests and each worker's queue and DLQ URLs from their names,
``<bus>-<service>`` and ``<bus>-<service>-dlq``, resolved with ``GetQueueUrl`` — the names local
provisioning and the CDK app both use. A service missing from ``stack.json`` (a consumer provisioned after
the stack started) is resolved by name too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.manifest import ServiceManifest, load_manifests
from tributary.aws import REGION, ClientFactory, emulator_client
from tributary.stack import read_stack_file

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

AWS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
MISSING_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


class TargetError(RuntimeError):
    """The command cannot find what it was asked to act on (no stack, no such service or queue, no bucket)."""


def queue_name(bus_name: str, service: str) -> str:
    """A worker's queue name; its DLQ is the same with ``-dlq``."""
    return f"{bus_name}-{service}"


@dataclass(frozen=True, kw_only=True)
class QueuePair:
    """A worker's queue and its DLQ."""

    service: str
    url: str
    dlq_url: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def dlq_name(self) -> str:
        return self.dlq_url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(kw_only=True)
class Target:
    """A place the operator commands act on.

    Args:
        where: how to name it in output (``local stack at http://…``, ``AWS eu-west-1 (profile ops)``).
        bus_name: the EventBridge bus (also the prefix of queue and rule names).
        bucket: the archive bucket, if known.
        make_client: builds a boto3 client for a service name; called once per service.
        queues: the workers' queues already known (from ``stack.json``); others are resolved by name.
        health_urls: ``{service: [base URL per replica]}`` for ``/healthz``; empty on AWS.
        restarts: ``{service: [(restarts, last exit reason) per replica]}`` from the local supervisor.
        manifests: the installed services (topology, and what a service consumes).
        services: the services that run here, when the target knows (a local stack runs a chosen few of
            the installed ones); ``None``: every installed one (AWS).
    """

    where: str
    bus_name: str
    bucket: str | None
    make_client: Callable[[str], Any]
    queues: dict[str, QueuePair] = field(default_factory=dict)
    health_urls: dict[str, list[str]] = field(default_factory=dict)
    restarts: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    manifests: list[ServiceManifest] = field(default_factory=list)
    services: set[str] | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def client(self) -> ClientFactory:
        """``client(service)``: the target's client for ``service``, built once (typed per service)."""
        return self._client

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.make_client(service)
        return self._clients[service]

    def manifest(self, service: str) -> ServiceManifest | None:
        return next((m for m in self.manifests if m.name == service), None)

    def service_names(self) -> list[str]:
        """The services that run here (local stack), else every installed one and every known worker."""
        if self.services is not None:
            return sorted(self.services | set(self.queues))
        return sorted({m.name for m in self.manifests} | set(self.queues))

    def workers(self) -> list[str]:
        """The worker services: those with known queues, and those of :meth:`service_names` whose manifest
        consumes events."""
        workers = {m.name for m in self.manifests if m.is_worker and m.name in self.service_names()}
        return sorted(set(self.queues) | workers)

    def queue_pair(self, service: str) -> QueuePair:
        """The service's queue and DLQ.

        Raises:
            TargetError: neither is known and ``<bus>-<service>`` does not exist.
        """
        if service not in self.queues:
            name = queue_name(self.bus_name, service)
            self.queues[service] = QueuePair(
                service=service, url=self._queue_url(name), dlq_url=self._queue_url(f"{name}-dlq")
            )
        return self.queues[service]

    def require_bucket(self) -> str:
        if not self.bucket:
            raise TargetError("the archive bucket is unknown here: pass --bucket (or set TRIBUTARY_BUCKET)")
        return self.bucket

    def _queue_url(self, name: str) -> str:
        try:
            return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] in MISSING_QUEUE_CODES:
                known = ", ".join(self.workers()) or "none"
                raise TargetError(f"no queue {name!r} (worker services here: {known})") from exc
            raise


def queue_arn(sqs: SQSClient, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def local_target(
    data_dir: Path | None = None, *, manifests: Sequence[ServiceManifest] | None = None
) -> Target:
    """The local stack running on ``data_dir`` (default ``.tributary/``), from its ``stack.json``.

    Raises:
        tributary.stack.StackError: no stack runs there.
    """
    return description_target(read_stack_file(data_dir), manifests=manifests)


def description_target(info: dict[str, Any], *, manifests: Sequence[ServiceManifest] | None = None) -> Target:
    """The stack a description (``stack.json``) names: at its ``aws_endpoint`` with the emulator's
    credentials, or on AWS through the usual credential chain when ``aws_endpoint`` is null."""
    endpoint, region = info.get("aws_endpoint"), str(info.get("region") or REGION)
    if endpoint:
        where = f"{info.get('emulator', 'local')} stack at {endpoint}"

        def make_client(service: str) -> Any:
            return emulator_client(service, endpoint, region=region)

    else:
        session = boto3.session.Session(region_name=region)
        where = f"AWS {session.region_name or ''}".strip()

        def make_client(service: str) -> Any:
            return session.client(service, config=AWS_CONFIG)

    return Target(
        where=where,
        bus_name=info["bus_name"],
        bucket=info.get("bucket"),
        make_client=make_client,
        queues={
            name: QueuePair(service=name, url=q["url"], dlq_url=q["dlq_url"])
            for name, q in info.get("queues", {}).items()
        },
        health_urls={name: list(s.get("urls") or [s["url"]]) for name, s in info.get("services", {}).items()},
        restarts={
            name: list(zip(s.get("restarts", []), s.get("last_exit", []), strict=False))
            for name, s in info.get("services", {}).items()
        },
        manifests=list(load_manifests() if manifests is None else manifests),
        services=set(info.get("services", {})) | set(info.get("queues", {})),
    )


def aws_target(
    *,
    profile: str | None,
    region: str | None,
    bus_name: str,
    bucket: str | None,
    manifests: Sequence[ServiceManifest] | None = None,
) -> Target:
    """An AWS account through the usual credential chain (``profile`` and ``region`` if given)."""
    session = boto3.session.Session(profile_name=profile, region_name=region)
    label = " ".join(p for p in (session.region_name, f"(profile {profile})" if profile else "") if p)
    return Target(
        where=f"AWS {label}".strip(),
        bus_name=bus_name,
        bucket=bucket,
        make_client=lambda service: session.client(service, config=AWS_CONFIG),
        manifests=list(load_manifests() if manifests is None else manifests),
    )
