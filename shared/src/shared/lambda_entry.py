"""The AWS Lambda entry point of every worker: ``shared.lambda_entry.handler`` (and ``scheduled_handler``).

``TRIBUTARY_SERVICE`` names the service; its manifest, settings and ``build`` are the ones the process entry
point (:mod:`shared.run`) uses, so a function runs exactly what a poller runs (traced stores included). The
service is built on the first invocation and kept while the execution environment lives: nothing connects
at import time. A start the service refuses fails every invocation with the reason.

- ``handler``: the SQS event source mapping's (``ReportBatchItemFailures``), through
  :func:`shared.lambda_adapter.lambda_handler`.
- ``scheduled_handler``: for an EventBridge schedule. A function has no long-lived thread, so each background
  task that can run one pass on demand (a ``check()`` method, e.g. the notifier's absence timer) runs it
  once; the result maps each task's counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.lambda_adapter import LambdaHandler, lambda_handler
from shared.logging import configure_logging
from shared.manifest import load_manifest
from shared.runner import batch_observer
from shared.service import BackgroundTask, ScheduledCheck, Service, StartupError
from shared.settings import WorkerSettings
from shared.start import load_settings

SERVICE_ENV = "TRIBUTARY_SERVICE"


@dataclass(frozen=True)
class _Runtime:
    service: Service
    sqs: LambdaHandler


@cache
def _runtime() -> _Runtime:
    name = os.environ.get(SERVICE_ENV)
    if not name:
        raise StartupError(f"{SERVICE_ENV} is not set: it names the service this function runs")
    manifest = load_manifest(name)
    settings = load_settings(manifest)
    configure_logging(settings.service, settings.log_level)
    if not isinstance(settings, WorkerSettings):
        raise StartupError(f"{name} is not a queue worker: it cannot run under Lambda")
    refusal = settings.lambda_refusal()
    if refusal:
        raise StartupError(refusal)
    service = manifest.build(settings)
    if service.queue is None or service.handler is None:
        raise StartupError(f"{name} built no queue and batch handler: it cannot run under Lambda")
    sqs = lambda_handler(
        service.handler,
        service=settings.service,
        retry_policy=settings.retry_policy(),
        queue=service.queue,
        observer=batch_observer(settings),
        consumes=service.consumes,
    )
    return _Runtime(service, sqs)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The SQS event source mapping's handler: ``{"batchItemFailures": […]}``."""
    return _runtime().sqs(event, context)


def scheduled_handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    """One pass of every background task's ``check()`` (a scheduled invocation); their counts, summed."""
    return run_checks(_runtime().service.tasks)


def run_checks(tasks: Iterable[BackgroundTask]) -> dict[str, int]:
    """One ``check()`` of each task that has one (others are left alone); the counts summed by outcome."""
    totals: dict[str, int] = {}
    for task in tasks:
        if isinstance(task, ScheduledCheck):
            for outcome, count in task.check().items():
                totals[outcome] = totals.get(outcome, 0) + count
    return totals


def reset() -> None:
    """Forget the built service, closing it (tests; a new environment gets a fresh build anyway)."""
    if _runtime.cache_info().currsize:
        _runtime().service.close()
    _runtime.cache_clear()
