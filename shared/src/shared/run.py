"""The process entry point of every service: ``tributary-service <name>`` (``python -m shared.run <name>``).

It finds the installed manifest called ``<name>`` (default: ``TRIBUTARY_SERVICE``), reads its settings,
configures logging, builds the service and runs it until SIGTERM: a worker through
:func:`shared.runner.run_worker` (with its read API, if any, on the HTTP port), an HTTP-only service (ingest)
with uvicorn. Background tasks start before the worker and stop after it; the service's closers run last.

A start the service refuses (settings missing or invalid, a :class:`~shared.service.StartupError` from its
build) prints every problem to stderr, logs ``startup_refused`` and exits with status 2. Settings problems
name the variable, never its value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import structlog
import uvicorn

from shared.httpserver import server_options
from shared.logging import configure_logging
from shared.manifest import load_manifest
from shared.runner import run_worker
from shared.service import Service, StartupError
from shared.settings import WorkerSettings
from shared.start import load_settings

log = structlog.get_logger()

EXIT_REFUSED = 2
HTTP_DEFAULT_PORT = 8080
GRACEFUL_SHUTDOWN_S = 20


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tributary-service", description="Run one Tributary service.")
    parser.add_argument(
        "service", nargs="?", default=os.environ.get("TRIBUTARY_SERVICE"), help="default: $TRIBUTARY_SERVICE"
    )
    args = parser.parse_args(argv)
    if not args.service:
        parser.error("name the service (or set TRIBUTARY_SERVICE)")
    try:
        manifest = load_manifest(args.service)
    except LookupError as exc:
        parser.exit(EXIT_REFUSED, f"tributary-service: {exc}\n")
    try:
        settings = load_settings(manifest)
    except StartupError as exc:
        _refuse(manifest.name, exc)
    configure_logging(settings.service, settings.log_level)  # the build's own logs are JSON lines too
    try:
        service = manifest.build(settings)
    except StartupError as exc:
        _refuse(manifest.name, exc, logged=True)
    try:
        run(service)
    finally:
        service.close()


def run(service: Service) -> None:
    """Run ``service`` until SIGTERM or SIGINT (its closers are the caller's to run)."""
    settings = service.settings
    if service.queue is None or service.handler is None:
        assert service.api is not None  # a Service without a queue has an API
        uvicorn.run(
            service.api,
            host=settings.http_host,
            port=settings.http_port or HTTP_DEFAULT_PORT,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            **server_options(settings.server_limits()),
        )
        return
    if not isinstance(settings, WorkerSettings):
        raise TypeError(f"service {service.name!r} consumes a queue but its settings are not WorkerSettings")
    started = []
    try:
        for task in service.tasks:
            task.start()
            started.append(task)
        run_worker(
            settings, queue=service.queue, handler=service.handler, api=service.api, consumes=service.consumes
        )
    finally:
        for task in reversed(started):
            task.stop()


def _refuse(name: str, exc: StartupError, *, logged: bool = False) -> NoReturn:
    problems = exc.lines()
    if logged:
        log.error("startup_refused", problems=problems)
    print(f"{name}: refusing to start:\n" + "\n".join(problems), file=sys.stderr)
    raise SystemExit(EXIT_REFUSED) from None


if __name__ == "__main__":
    main()
