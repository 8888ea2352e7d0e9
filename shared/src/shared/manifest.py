"""Service manifests: the one source of truth for the topology.

Each service package declares a :class:`ServiceManifest` (module ``<service>.manifest``, exposed through the
``tributary.services`` entry-point group). Local provisioning and the CDK app both build their rules, queues
and DLQs from these manifests, so a service's subscription lives next to the code that handles it.

Importing a manifest must stay cheap: no boto3, no settings, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "tributary.services"


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """Event types a worker consumes: one contract type and the versions it accepts.

    ``type="*"`` subscribes to every event on the bus (the archiver).
    """

    type: str
    versions: tuple[int, ...] = ()

    @property
    def detail_types(self) -> list[str]:
        """The EventBridge ``DetailType`` values this subscription matches (``sensor.reading.v1``)."""
        return [f"{self.type}.v{v}" for v in self.versions]


@dataclass(frozen=True, kw_only=True)
class QueueSettings:
    """How the service's queue and DLQ are provisioned.

    ``max_receive_count`` is the queue's own redrive policy: a safety net for messages that crash the worker
    before it can route them itself. It is set above the runtime's ``max_attempts`` so the runtime normally
    dead-letters first, with the failure reason attached.
    """

    visibility_timeout_s: int = 60
    max_receive_count: int = 10
    retention_s: int = 4 * 24 * 3600
    dlq_retention_s: int = 14 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class ServiceManifest:
    """What a service is, what it consumes and how it is started.

    Args:
        name: the service name; also its queue name suffix and log ``service`` field.
        module: the module run as ``python -m <module>`` to start one process of the service.
        consumes: subscriptions; empty for services fed by HTTP (ingest).
        http: whether the process serves HTTP (it then gets a port in the local stack).
        queue: queue/DLQ settings, used only when ``consumes`` is not empty.
        url_key: the top-level ``stack.json`` key naming the service's URL (``ingest_url``, ``graph_url``),
            for services whose HTTP API users call.
        topics: SNS topics the service publishes to (short names). Provisioning creates
            ``tributary-<service>-<name>`` and passes its ARN as ``TRIBUTARY_TOPIC_<NAME>_ARN``.
        state_table: the service keeps its state in a DynamoDB table where the endpoint serves DynamoDB
            (AWS, MiniStack) and in an embedded file where it does not (LocalStack on the host); the stack
            tells it which with ``TRIBUTARY_STATE_BACKEND`` and ``TRIBUTARY_STATE_TABLE``.
    """

    name: str
    module: str
    consumes: tuple[Subscription, ...] = ()
    http: bool = False
    queue: QueueSettings = field(default_factory=QueueSettings)
    url_key: str | None = None
    topics: tuple[str, ...] = ()
    state_table: bool = False

    @property
    def is_worker(self) -> bool:
        return bool(self.consumes)

    def event_pattern(self) -> dict[str, Any]:
        """The EventBridge event pattern of this service's rule.

        Raises:
            ValueError: if the service consumes nothing.
        """
        if not self.consumes:
            raise ValueError(f"service {self.name!r} consumes no events")
        if any(s.type == "*" for s in self.consumes):
            # Every Tributary envelope has an id; this matches all of them and nothing foreign.
            return {"detail": {"id": [{"exists": True}]}}
        detail_types = sorted({dt for s in self.consumes for dt in s.detail_types})
        return {"detail-type": detail_types}


def load_manifests() -> list[ServiceManifest]:
    """Every installed service's manifest, sorted by name."""
    manifests = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for m in manifests:
        if not isinstance(m, ServiceManifest):
            raise TypeError(f"entry point in {ENTRY_POINT_GROUP} is not a ServiceManifest: {m!r}")
    return sorted(manifests, key=lambda m: m.name)
