"""Running a worker as a process: logging, health endpoint (and the service's read API), SIGTERM drain.

A worker that owns a queryable store (graph, series) serves its read API from the same process: pass the
FastAPI app as ``api`` and it is served on the service's HTTP port with ``/healthz`` added. Other workers get
a bare ``/healthz`` server.
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
from fastapi.responses import JSONResponse

from shared.health import HealthServer
from shared.logging import configure_logging
from shared.manifest import Subscription
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
    consumes: Sequence[Subscription] = (),
) -> Worker:
    """The worker for ``handler`` over ``queue``, tuned by ``settings``; events of older versions in
    ``consumes`` (the service manifest's) are upcast to the newest one first."""
    processor = BatchProcessor(
        queue=queue,
        handler=handler,
        service=settings.service,
        policy=settings.retry_policy(),
        upcast=upcaster_for(consumes),
    )
    return Worker(queue_=queue, processor=processor, limits=settings.limits(), poll=settings.poll())


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
    worker = build_worker(settings, queue=queue, handler=handler, consumes=consumes)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("drain_requested", signal=signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def check() -> dict[str, Any]:
        return {"ok": worker.healthy, "service": settings.service}

    server: HealthServer | ApiServer | None = None
    if settings.http_port and api is not None:
        server = ApiServer(api, host=settings.http_host, port=settings.http_port, check=check)
    elif settings.http_port:
        server = HealthServer(host=settings.http_host, port=settings.http_port, check=check)
    if server:
        server.start()
    try:
        worker.run()
    finally:
        if server:
            server.stop()


class ApiServer:
    """A FastAPI app served by uvicorn in a background thread, with ``/healthz`` added."""

    def __init__(self, app: FastAPI, *, host: str, port: int, check: Callable[[], dict[str, Any]]) -> None:
        def healthz() -> JSONResponse:
            report = check()
            return JSONResponse(report, status_code=200 if report.get("ok") else 503)

        app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
