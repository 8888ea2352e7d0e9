"""Running a worker as a process: logging, health endpoint, SIGTERM/SIGINT drain."""

from __future__ import annotations

import signal
from types import FrameType

import structlog

from shared.health import HealthServer
from shared.logging import configure_logging
from shared.ports import BatchHandler, MessageQueue
from shared.processing import BatchProcessor
from shared.settings import WorkerSettings
from shared.worker import Worker

log = structlog.get_logger()


def build_worker(settings: WorkerSettings, *, queue: MessageQueue, handler: BatchHandler) -> Worker:
    """The worker for ``handler`` over ``queue``, tuned by ``settings``."""
    processor = BatchProcessor(
        queue=queue, handler=handler, service=settings.service, policy=settings.retry_policy()
    )
    return Worker(queue_=queue, processor=processor, limits=settings.limits(), poll=settings.poll())


def run_worker(settings: WorkerSettings, *, queue: MessageQueue, handler: BatchHandler) -> None:
    """Run until SIGTERM or SIGINT, then drain: finish the messages in hand and return."""
    configure_logging(settings.service, settings.log_level)
    worker = build_worker(settings, queue=queue, handler=handler)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("drain_requested", signal=signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    health = None
    if settings.http_port:
        health = HealthServer(
            host=settings.http_host,
            port=settings.http_port,
            check=lambda: {"ok": worker.healthy, "service": settings.service},
        )
        health.start()
    try:
        worker.run()
    finally:
        if health:
            health.stop()
