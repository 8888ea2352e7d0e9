"""Fixtures for ingest's tests: small request limits, and moto's in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from ingest.domain import Limits


@pytest.fixture
def limits() -> Limits:
    return Limits(max_events=10, max_event_bytes=4096)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTS", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield
