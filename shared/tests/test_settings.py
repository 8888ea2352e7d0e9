"""Tests of the settings every service reads: tracing switches and the daemon address."""

from __future__ import annotations

import pytest

from shared.settings import ServiceSettings


def test_tracing_is_on_by_default_and_sends_to_the_daemon_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_XRAY_DAEMON_ADDRESS names the daemon; sampling follows the TRIBUTARY_TRACE_* settings."""
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2999")
    monkeypatch.setenv("TRIBUTARY_TRACE_SAMPLE_RATE", "1.0")
    settings = ServiceSettings(service="svc")
    assert (settings.xray_daemon_address, settings.trace_sample_rate) == ("127.0.0.1:2999", 1.0)
    tracer = settings.tracer()
    assert tracer.enabled and tracer.service == "svc"


def test_tracing_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIBUTARY_TRACE_ENABLED=false gives a tracer that records nothing."""
    monkeypatch.setenv("TRIBUTARY_TRACE_ENABLED", "false")
    assert not ServiceSettings(service="svc").tracer().enabled


def test_a_sample_rate_outside_0_to_1_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad rate fails at start-up, naming the field."""
    monkeypatch.setenv("TRIBUTARY_TRACE_SAMPLE_RATE", "5")
    with pytest.raises(ValueError, match="trace_sample_rate"):
        ServiceSettings(service="svc")
