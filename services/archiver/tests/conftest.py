"""Fixtures for archiver's tests: a hand-moved clock, both idempotency ledgers, and moto's in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from archiver.testing import InMemoryArchiveStore
from shared.idempotency import IdempotencyLedger, SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.envelopes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["in-memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[IdempotencyLedger]:
    """Each ledger implementation in turn, on the test's clock."""
    if request.param == "in-memory":
        yield InMemoryLedger(clock=clock)
        return
    sqlite = SqliteLedger(tmp_path / "ledger.sqlite3", clock=clock)
    yield sqlite
    sqlite.close()


@pytest.fixture
def store() -> InMemoryArchiveStore:
    return InMemoryArchiveStore()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield
