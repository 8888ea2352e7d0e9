"""Each service's store, keyed by service name: the one place that knows which service owns which store.

A store construct creates its resources, tells the compute the environment its service's settings read
(``TRIBUTARY_*``), grants a role exactly the calls its adapter makes, and opens its network to the compute
where it lives in the VPC. ingest owns no store: its entry is the bus it publishes to. :func:`build_store`
refuses a service it has no construct for, naming the known ones, so a new service fails at synth rather
than deploying without a store.
"""

from __future__ import annotations

from collections.abc import Callable

from constructs import Construct

from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext


class UnknownServiceError(LookupError):
    """No store construct exists for the service."""


StoreBuilder = Callable[[Construct, str, StoreContext], ServiceStore]


def _archive(scope: Construct, id: str, context: StoreContext) -> ServiceStore:
    from tributary_cdk.constructs.stores.archive import ArchiveStore

    return ArchiveStore(scope, id, context=context)


def _graph(scope: Construct, id: str, context: StoreContext) -> ServiceStore:
    from tributary_cdk.constructs.stores.graph import GraphStore

    return GraphStore(scope, id, context=context)


def _series(scope: Construct, id: str, context: StoreContext) -> ServiceStore:
    if context.config.series_store == "liveanalytics":
        from tributary_cdk.constructs.stores.series import SeriesStore

        return SeriesStore(scope, id, context=context)
    from tributary_cdk.constructs.stores.series_influx import InfluxSeriesStore

    return InfluxSeriesStore(scope, id, context=context)


def _notifier(scope: Construct, id: str, context: StoreContext) -> ServiceStore:
    from tributary_cdk.constructs.stores.notifier import NotifierStateStore

    return NotifierStateStore(scope, id, context=context)


def _bus(scope: Construct, id: str, context: StoreContext) -> ServiceStore:
    from tributary_cdk.constructs.stores.bus import BusPublisher

    return BusPublisher(scope, id, context=context)


STORES: dict[str, StoreBuilder] = {
    "archiver": _archive,
    "graph_writer": _graph,
    "timeseries_writer": _series,
    "notifier": _notifier,
    "ingest": _bus,
}


# The local profile's stores for services whose AWS store no emulator serves: the service's embedded one, a
# file in its data folder (``TRIBUTARY_DATA_DIR``), as ``tributary up`` runs it.
EMBEDDED: dict[str, dict[str, str]] = {
    "graph_writer": {"TRIBUTARY_GRAPH_STORE": "falkordb"},
    "timeseries_writer": {"TRIBUTARY_STORE": "duckdb"},
}


def build_store(scope: Construct, id: str, *, service: str, context: StoreContext) -> ServiceStore:
    """The store construct of ``service``.

    Raises:
        UnknownServiceError: no construct is registered for ``service``.
    """
    if context.config.local and service in EMBEDDED:
        from tributary_cdk.constructs.stores.embedded import EmbeddedStore

        return EmbeddedStore(scope, id, context=context, environment=EMBEDDED[service])
    try:
        builder = STORES[service]
    except KeyError:
        raise UnknownServiceError(
            f"no store construct for service {service!r}: add one to tributary_cdk.constructs.stores.STORES"
            f" (known: {', '.join(sorted(STORES))})"
        ) from None
    return builder(scope, id, context)


__all__ = ["EMBEDDED", "STORES", "ServiceStore", "StoreContext", "UnknownServiceError", "build_store"]
