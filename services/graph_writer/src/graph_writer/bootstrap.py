"""The only place graph_writer reads settings and builds clients: the queue, the graph store, the read API.

``TRIBUTARY_GRAPH_STORE=falkordb`` (the default) starts the embedded FalkorDB server with its files under
``<TRIBUTARY_DATA_DIR>/falkordb``; ``neptune`` talks to the cluster at ``TRIBUTARY_NEPTUNE_ENDPOINT``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import boto3
from botocore.config import Config
from pydantic import Field

from graph_writer.adapters.cypher_store import CypherGraphStore
from graph_writer.adapters.falkor import FalkorGraphStore
from graph_writer.adapters.falkor_server import EmbeddedFalkorServer
from graph_writer.adapters.neptune import NeptuneGraphStore
from graph_writer.api import create_app
from graph_writer.handler import GraphWriter
from graph_writer.manifest import MANIFEST
from shared.observe import traced
from shared.service import Service, StartupError
from shared.settings import WorkerSettings
from shared.sqs import worker_queue

STORE_NAMES = {"falkordb": "FalkorDB", "neptune": "Neptune"}  # as traces name them


class GraphWriterSettings(WorkerSettings):
    """graph_writer's settings (``TRIBUTARY_*``): large batches make few graph calls per event."""

    service: str = MANIFEST.name
    visibility_timeout_s: int = MANIFEST.queue.visibility_timeout_s
    batch_max_events: int = 1000
    batch_max_wait_ms: int = 1000
    graph_store: Literal["falkordb", "neptune"] = "falkordb"
    graph_name: str = Field(default="tributary", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    graph_rows_per_call: int = Field(default=200, ge=100, le=200)
    falkordb_appendfsync: Literal["always", "everysec"] = "always"
    # A stalled server raises RetryableError after the socket timeout instead of hanging the worker. It is
    # above the adapter's server-side query limit (30 s), so a slow but live query is never cut short.
    falkordb_connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    falkordb_socket_timeout_s: float = Field(default=40.0, gt=0, le=600)
    neptune_endpoint: str | None = None

    def lambda_refusal(self) -> str | None:
        if self.graph_store != "neptune":
            return "under Lambda graph_writer writes to Neptune: set TRIBUTARY_GRAPH_STORE=neptune"
        return None


def build_store(settings: GraphWriterSettings) -> tuple[CypherGraphStore, Callable[[], None]]:
    """The configured graph store and how to release it."""
    if settings.graph_store == "neptune":
        if not settings.neptune_endpoint:
            raise StartupError("TRIBUTARY_NEPTUNE_ENDPOINT is required when TRIBUTARY_GRAPH_STORE=neptune")
        client = boto3.session.Session().client(
            "neptunedata",
            endpoint_url=settings.neptune_endpoint,
            # the adapter retries conflicts and throttling itself, with backoff and jitter
            config=Config(
                retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=60
            ),
        )
        return NeptuneGraphStore(client=client, rows_per_call=settings.graph_rows_per_call), lambda: None

    from falkordb import FalkorDB

    server = EmbeddedFalkorServer(settings.data_dir / "falkordb", appendfsync=settings.falkordb_appendfsync)
    server.start_or_attach()  # replicas share one server: the first owns it
    try:
        db = FalkorDB(
            **server.client_kwargs(),
            socket_connect_timeout=settings.falkordb_connect_timeout_s,
            socket_timeout=settings.falkordb_socket_timeout_s,
        )
        store = FalkorGraphStore(
            graph=db.select_graph(settings.graph_name), rows_per_call=settings.graph_rows_per_call
        )
        store.ensure_indexes()
    except BaseException:
        server.stop()
        raise

    def close() -> None:
        db.close()
        server.stop()

    return store, close


def build(settings: GraphWriterSettings) -> Service:
    """The queue, the batch handler and the read API, wired to SQS and the graph store."""
    store, close = build_store(settings)
    neptune = settings.graph_store == "neptune"
    return Service(
        name=MANIFEST.name,
        settings=settings,
        queue=worker_queue(settings),
        handler=GraphWriter(store=traced(store, store=STORE_NAMES[settings.graph_store], aws=neptune)),
        consumes=MANIFEST.consumes,
        api=create_app(store),
        closers=[close],
    )
