"""Entrypoint under AWS Lambda: ``handler`` for the SQS event source mapping (``ReportBatchItemFailures``).

The same :class:`~timeseries_writer.writer.SeriesWriter` as the poller runs through
:func:`shared.lambda_adapter.lambda_handler`. Under Lambda the store is Timestream or InfluxDB: an embedded
DuckDB file would live in one execution environment's ``/tmp`` and vanish with it. The handler is built on
the first invocation and kept while the execution environment lives: nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from shared.lambda_adapter import LambdaHandler, lambda_handler
from shared.logging import configure_logging
from shared.runner import batch_observer
from timeseries_writer.bootstrap import SeriesSettings, build
from timeseries_writer.manifest import MANIFEST


@cache
def _sqs_handler() -> LambdaHandler:
    settings = SeriesSettings()  # type: ignore[call-arg]  # queue URLs come from the environment
    configure_logging(settings.service, settings.log_level)
    if settings.store == "duckdb":
        raise ValueError("under Lambda timeseries_writer needs TRIBUTARY_STORE=timestream or influx")
    service = build(settings)
    return lambda_handler(
        service.writer,
        service=settings.service,
        retry_policy=settings.retry_policy(),
        queue=service.queue,
        observer=batch_observer(settings),
        consumes=MANIFEST.consumes,
    )


def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The SQS event source mapping's handler: ``{"batchItemFailures": […]}``."""
    return _sqs_handler()(event, context)
