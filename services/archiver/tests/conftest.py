"""Fixtures for archiver's tests: a hand-moved clock, both idempotency ledgers, and moto's in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.testing import InMemoryArchiveStore
from shared.idempotency import IdempotencyLedger, SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.aws import in_process_aws
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
    with in_process_aws(monkeypatch):
        yield
