"""Entrypoints under AWS Lambda: ``handler`` for the SQS event source mapping, ``absence_handler`` for a
schedule.

``handler`` runs the same batch handler as the poller through :func:`shared.lambda_adapter.lambda_handler`
(``ReportBatchItemFailures``). A Lambda function has no long-lived thread for absence rules, so an
EventBridge schedule (every minute, say) invokes ``absence_handler``, which runs one pass of the timer's
check. The service is built on the first invocation and kept while the execution environment lives:
nothing connects at import time. A rules file it cannot run fails every invocation with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from notifier.bootstrap import NotifierSettings, Service, build
from notifier.manifest import MANIFEST
from shared.lambda_adapter import LambdaHandler, lambda_handler
from shared.logging import configure_logging
from shared.runner import batch_observer


@dataclass(frozen=True)
class _Runtime:
    service: Service
    sqs: LambdaHandler


@cache
def _runtime() -> _Runtime:
    settings = NotifierSettings()  # queue URLs and the rest come from the function's environment
    configure_logging(settings.service, settings.log_level)
    service = build(settings)
    sqs = lambda_handler(
        service.notifier,
        service=settings.service,
        retry_policy=settings.retry_policy(),
        queue=service.queue,
        observer=batch_observer(settings),
        consumes=MANIFEST.consumes,
    )
    return _Runtime(service, sqs)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The SQS event source mapping's handler: ``{"batchItemFailures": […]}``."""
    return _runtime().sqs(event, context)


def absence_handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    """One absence check (a scheduled invocation); returns how many alerts ended how."""
    return _runtime().service.watch.check()
