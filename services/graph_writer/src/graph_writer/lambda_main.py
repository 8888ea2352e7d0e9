"""Entrypoint under AWS Lambda: ``handler`` for the SQS event source mapping (``ReportBatchItemFailures``).

The same :class:`~graph_writer.writer.GraphWriter` as the poller runs through
:func:`shared.lambda_adapter.lambda_handler`. Under Lambda the store is Neptune: an embedded FalkorDB would
live in one execution environment's ``/tmp`` and vanish with it, so ``TRIBUTARY_GRAPH_STORE`` must be
``neptune``. The handler is built on the first invocation and kept while the execution environment lives:
nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from graph_writer.bootstrap import GraphWriterSettings, build_queue, build_store
from graph_writer.manifest import MANIFEST
from graph_writer.writer import GraphWriter
from shared.lambda_adapter import LambdaHandler, lambda_handler
from shared.logging import configure_logging
from shared.runner import batch_observer


@cache
def _sqs_handler() -> LambdaHandler:
    settings = GraphWriterSettings()  # type: ignore[call-arg]  # queue URLs come from the environment
    configure_logging(settings.service, settings.log_level)
    if settings.graph_store != "neptune":
        raise ValueError("under Lambda graph_writer writes to Neptune: set TRIBUTARY_GRAPH_STORE=neptune")
    store, _ = build_store(settings)
    return lambda_handler(
        GraphWriter(store=store),
        service=settings.service,
        retry_policy=settings.retry_policy(),
        queue=build_queue(settings),
        observer=batch_observer(settings),
        consumes=MANIFEST.consumes,
    )


def handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The SQS event source mapping's handler: ``{"batchItemFailures": […]}``."""
    return _sqs_handler()(event, context)
