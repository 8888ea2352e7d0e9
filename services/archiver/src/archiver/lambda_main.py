"""Entrypoint under AWS Lambda: ``handler`` for the SQS event source mapping (``ReportBatchItemFailures``).

The same :class:`~archiver.writer.ArchiveWriter` as the poller runs through
:func:`shared.lambda_adapter.lambda_handler`, with the same ledger: the DynamoDB table the CDK stack passes
as ``TRIBUTARY_STATE_TABLE`` (``TRIBUTARY_STATE_BACKEND=dynamodb``), shared by every execution environment
and by the Fargate tasks. The handler is built on the first invocation: nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from archiver.bootstrap import ArchiverSettings, build
from shared.lambda_adapter import LambdaHandler, lambda_handler
from shared.logging import configure_logging
from shared.runner import batch_observer


@cache
def _sqs_handler() -> LambdaHandler:
    settings = ArchiverSettings()  # type: ignore[call-arg]  # bucket and queue URLs come from the environment
    configure_logging(settings.service, settings.log_level)
    queue, writer = build(settings)
    return lambda_handler(
        writer,
        service=settings.service,
        retry_policy=settings.retry_policy(),
        queue=queue,
        observer=batch_observer(settings),
    )


def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The SQS event source mapping's handler: ``{"batchItemFailures": […]}``."""
    return _sqs_handler()(event, context)
