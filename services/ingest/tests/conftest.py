"""Fixtures for ingest's tests: small request limits, and moto's in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.domain import Limits
from shared.testkit.aws import in_process_aws


@pytest.fixture
def limits() -> Limits:
    return Limits(max_events=10, max_event_bytes=4096)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    with in_process_aws(monkeypatch):
        yield
