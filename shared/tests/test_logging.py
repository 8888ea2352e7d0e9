"""Tests of the logging set-up: HTTP and AWS client libraries never log request lines (URLs with queries)."""

from __future__ import annotations

import logging

import httpx
import pytest

from shared.logging import QUIET_LIBRARIES, configure_logging


def test_http_clients_request_lines_stay_out_of_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    """At INFO, an httpx request to a URL with a token in its query writes nothing to the log."""
    configure_logging("test", "INFO")
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        client.get("https://hooks.example/h?token=CANARY-token")
    assert "CANARY" not in capsys.readouterr().out
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in QUIET_LIBRARIES)
