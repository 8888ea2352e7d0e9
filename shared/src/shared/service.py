"""One service definition: what every service's ``bootstrap.build(settings)`` returns.

A :class:`Service` is everything a process runs: the queue and the batch handler (workers), the read or
ingest HTTP API, background tasks, and what to release on the way out. The same object is run by the
process entry point (:mod:`shared.run`: the poller and its HTTP server, or the HTTP API alone) and by the
Lambda entry point (:mod:`shared.lambda_entry`), so no runtime can wire a service differently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import structlog
from fastapi import FastAPI

from shared.manifest import Subscription
from shared.ports import BatchHandler, MessageQueue
from shared.settings import ServiceSettings

log = structlog.get_logger()


class StartupError(Exception):
    """The service refuses to start: its settings or files cannot run (exit status 2, no traceback).

    Services raise it (or a subclass) from ``build``; :meth:`lines` are the problems, one a line, safe to
    print: they never hold a secret.
    """

    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]


class BackgroundTask(Protocol):
    """Work beside the batch handler (the notifier's absence timer): started before, stopped after."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class ScheduledCheck(Protocol):
    """A background task that can also run one pass on demand (a scheduled Lambda invocation)."""

    def check(self) -> dict[str, int]: ...


@dataclass(frozen=True, kw_only=True)
class Service:
    """A built service.

    Args:
        name: the service name (the manifest's).
        settings: the settings it was built from.
        queue: the queue and DLQ it consumes (workers), else ``None``.
        handler: its batch handler (workers), else ``None``.
        consumes: the manifest's subscriptions: the handler sees only their newest versions.
        api: its HTTP API (ingest's, or a worker's read API served beside ``/healthz``).
        tasks: background tasks, started before the worker runs and stopped after.
        closers: what releases its resources, run once on shutdown in reverse order.
    """

    name: str
    settings: ServiceSettings
    queue: MessageQueue | None = None
    handler: BatchHandler | None = None
    consumes: tuple[Subscription, ...] = ()
    api: FastAPI | None = None
    tasks: Sequence[BackgroundTask] = ()
    closers: Sequence[Callable[[], None]] = ()

    def __post_init__(self) -> None:
        if (self.queue is None) != (self.handler is None):
            raise ValueError(f"service {self.name!r}: a worker needs both a queue and a batch handler")
        if self.queue is None and self.api is None:
            raise ValueError(f"service {self.name!r} has neither a queue nor an HTTP API: nothing to run")

    @property
    def is_worker(self) -> bool:
        return self.handler is not None

    def close(self) -> None:
        """Run every closer, last first; one that fails is logged and the others still run."""
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # releasing one resource must not keep the others held
                log.exception("close_failed", service=self.name)
