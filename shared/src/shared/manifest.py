"""Service manifests: the one source of truth for the topology.

Each service package declares a :class:`ServiceManifest` (module ``<service>.manifest``, exposed through the
``tributary.services`` entry-point group). Local provisioning and the CDK app both build their rules, queues
and DLQs from these manifests, so a service's subscription lives next to the code that handles it.

Importing a manifest must stay cheap: no boto3, no settings, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.service import Service
    from shared.settings import ServiceSettings

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
        builder: ``module:function`` of the service's ``build(settings) -> shared.service.Service``.
        settings: ``module:Class`` of its settings (a :class:`shared.settings.ServiceSettings`). Both are
            imported only when the service is started (:meth:`settings_class`, :meth:`build`), so importing
            a manifest stays cheap. Empty: a manifest that is only provisioned, never started (a
            benchmark's sink queue, tests).
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
    builder: str = ""
    settings: str = ""
    consumes: tuple[Subscription, ...] = ()
    http: bool = False
    queue: QueueSettings = field(default_factory=QueueSettings)
    url_key: str | None = None
    topics: tuple[str, ...] = ()
    state_table: bool = False

    @property
    def is_worker(self) -> bool:
        return bool(self.consumes)

    def settings_class(self) -> type[ServiceSettings]:
        """The settings class ``settings`` names (imported now).

        Raises:
            TypeError: it is not a :class:`~shared.settings.ServiceSettings`.
        """
        from shared.settings import ServiceSettings

        cls = _resolve(self.settings)
        if not (isinstance(cls, type) and issubclass(cls, ServiceSettings)):
            raise TypeError(f"{self.settings} is not a ServiceSettings class")
        return cls

    def build(self, settings: ServiceSettings) -> Service:
        """The service ``builder`` builds from ``settings``.

        Raises:
            shared.service.StartupError: the service refuses these settings or files.
            TypeError: the builder returned something other than a :class:`~shared.service.Service`.
        """
        from shared.service import Service

        service = _resolve(self.builder)(settings)
        if not isinstance(service, Service):
            raise TypeError(f"{self.builder} returned {type(service).__name__}, not a shared.service.Service")
        return service

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


def _resolve(reference: str) -> Any:
    """The object ``module:attribute`` names."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise LookupError(
            f"not a module:attribute reference: {reference!r} (a manifest that is never started?)"
        )
    return getattr(import_module(module_name), attribute)


def load_manifest(name: str) -> ServiceManifest:
    """The installed manifest of the service called ``name``.

    Raises:
        LookupError: no installed service has that name (the message lists those that do).
    """
    manifests = {m.name: m for m in load_manifests()}
    if name not in manifests:
        known = ", ".join(sorted(manifests)) or "none"
        raise LookupError(f"no service called {name!r} is installed (installed: {known})")
    return manifests[name]


def load_manifests() -> list[ServiceManifest]:
    """Every installed service's manifest, sorted by name."""
    manifests = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for m in manifests:
        if not isinstance(m, ServiceManifest):
            raise TypeError(f"entry point in {ENTRY_POINT_GROUP} is not a ServiceManifest: {m!r}")
    return sorted(manifests, key=lambda m: m.name)
