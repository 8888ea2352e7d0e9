"""Running a worker as a process: logging, health and metrics endpoints (and the service's read API), traces,
SIGTERM drain.

A worker that owns a queryable store (graph, series) serves its read API from the same process: pass the
FastAPI app as ``api`` and it is served on the service's HTTP port with ``/healthz`` and ``/metrics``
added. Other workers get a bare ``/healthz`` + ``/metrics`` server.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from shared.batch_tracing import BatchTracer
from shared.health import HealthServer
from shared.httpserver import ServerLimits, server_options
from shared.logging import configure_logging
from shared.manifest import Subscription
from shared.metrics import PROMETHEUS_CONTENT_TYPE, BatchMetrics, Registry
from shared.observe import QUEUE, BatchObserver, traced
from shared.ports import BatchHandler, MessageQueue
from shared.processing import BatchProcessor
from shared.settings import WorkerSettings
from shared.upcasting import upcaster_for
from shared.worker import Worker

log = structlog.get_logger()


def build_worker(
    settings: WorkerSettings,
    *,
    queue: MessageQueue,
    handler: BatchHandler,
    registry: Registry,
    consumes: Sequence[Subscription] = (),
) -> Worker:
    """The worker for ``handler`` over ``queue``, tuned by ``settings``, counting into ``registry``; events
    of older versions in ``consumes`` (the service manifest's) are upcast to the newest one first."""
    processor = BatchProcessor(
        queue=traced(queue, store=QUEUE, aws=True),
        handler=handler,
        service=settings.service,
        policy=settings.retry_policy(),
        observer=batch_observer(settings, registry),
        upcast=upcaster_for(consumes),
    )
    return Worker(
        queue_=queue,
        processor=processor,
        limits=settings.limits(),
        poll=settings.poll(),
        breaker=settings.breaker(),
    )


def batch_observer(settings: WorkerSettings, registry: Registry | None = None) -> BatchObserver:
    """What every batch reports to: its traces (a segment per message) and metrics (EMF line, counters)."""
    return BatchObserver(
        service=settings.service,
        sinks=[
            BatchTracer(settings.tracer()),
            BatchMetrics(registry or Registry(), service=settings.service),
        ],
    )


def run_worker(
    settings: WorkerSettings,
    *,
    queue: MessageQueue,
    handler: BatchHandler,
    api: FastAPI | None = None,
    consumes: Sequence[Subscription] = (),
) -> None:
    """Run until SIGTERM or SIGINT, then drain: finish the messages in hand and return.

    Args:
        settings: the worker's settings; ``http_port`` 0 serves no HTTP at all.
        queue: the queue to consume.
        handler: the service's batch handler.
        api: the service's read API, served beside ``/healthz`` on the HTTP port.
        consumes: the service manifest's subscriptions: the handler sees only their newest versions.
    """
    configure_logging(settings.service, settings.log_level)
    registry = Registry()
    worker = build_worker(settings, queue=queue, handler=handler, registry=registry, consumes=consumes)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("drain_requested", signal=signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def check() -> dict[str, Any]:
        return {
            "ok": worker.healthy,
            "service": settings.service,
            "breaker": worker.breaker.state.value,
            "held": worker.held,
        }

    server: HealthServer | ApiServer | None = None
    if settings.http_port and api is not None:
        server = ApiServer(
            api,
            host=settings.http_host,
            port=settings.http_port,
            check=check,
            metrics=registry.exposition,
            limits=settings.server_limits(),
        )
    elif settings.http_port:
        server = HealthServer(
            host=settings.http_host, port=settings.http_port, check=check, metrics=registry.exposition
        )
    if server:
        server.start()
    try:
        worker.run()
    finally:
        if server:
            server.stop()


class ApiServer:
    """A FastAPI app served by uvicorn in a background thread, with ``/healthz`` and ``/metrics`` added."""

    def __init__(
        self,
        app: FastAPI,
        *,
        host: str,
        port: int,
        check: Callable[[], dict[str, Any]],
        metrics: Callable[[], bytes] | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        def healthz() -> JSONResponse:
            report = check()
            return JSONResponse(report, status_code=200 if report.get("ok") else 503)

        app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
        if metrics is not None:
            add_metrics_route(app, metrics)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            **server_options(limits or ServerLimits()),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def add_metrics_route(app: FastAPI, metrics: Callable[[], bytes]) -> None:
    """Serve ``metrics()`` (Prometheus text) at ``GET /metrics`` of ``app``."""

    def metrics_page() -> Response:
        return Response(metrics(), media_type=PROMETHEUS_CONTENT_TYPE)

    app.add_api_route("/metrics", metrics_page, methods=["GET"], include_in_schema=False)
