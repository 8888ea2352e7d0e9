"""structlog JSON logging: one event per line, context bound once.

Every line carries ``service``; per-message context (``event_id``, ``type``, ``trace_id``) is bound with
:func:`structlog.contextvars.bound_contextvars` where a message is handled.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

QUIET_LIBRARIES = ("httpx", "httpcore", "urllib3", "botocore", "boto3", "uvicorn.access")
"""Libraries whose own INFO and DEBUG lines never reach our logs."""


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON log lines to stdout with ``service`` on each; idempotent."""
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper(), force=True)
    for chatty in QUIET_LIBRARIES:  # their INFO lines carry whole URLs, query (tokens) included
        logging.getLogger(chatty).setLevel(
            max(logging.WARNING, logging.getLevelNamesMapping()[level.upper()])
        )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(**context: Any) -> Any:
    """A structlog logger with ``context`` bound."""
    return structlog.get_logger().bind(**context)
