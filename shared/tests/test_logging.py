"""Tests of the logging set-up: HTTP and AWS client libraries never log request lines (URLs with queries)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog

from shared.logging import QUIET_LIBRARIES, configure_logging


@pytest.fixture
def configured() -> Iterator[None]:
    """configure_logging for one test; the root logger, library levels and structlog restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    configure_logging("test", "INFO")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
    structlog.reset_defaults()


def test_http_clients_request_lines_stay_out_of_the_log(
    configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    """At INFO, an httpx request to a URL with a token in its query reaches no log handler."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        client.get("https://hooks.example/h?token=CANARY-token")
    assert "CANARY" not in caplog.text
    assert all(not logging.getLogger(name).isEnabledFor(logging.INFO) for name in QUIET_LIBRARIES)
