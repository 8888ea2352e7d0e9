"""Fixtures for archiver's tests: a hand-moved clock, every idempotency ledger, and moto's in-process AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from archiver.testing import InMemoryArchiveStore
from shared.idempotency import IdempotencyLedger
from shared.idempotency.dynamodb import DynamoLedger
from shared.idempotency.sqlite import SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.envelopes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """Epoch time moved by hand (moto expires DynamoDB items by TTL against the real time)."""
    return FakeClock(start=float(int(time.time())))


@pytest.fixture(params=["in-memory", "sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[IdempotencyLedger]:
    """Each ledger implementation in turn (DynamoDB on moto), on the test's clock."""
    if request.param == "in-memory":
        yield InMemoryLedger(clock=clock)
        return
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
        dynamo = DynamoLedger(
            client=boto3.client("dynamodb", region_name="us-east-1"),
            table="ledger",
            window_s=30 * 24 * 3600,  # longer than any test moves the clock
            clock=clock,
        )
        dynamo.ensure_table()
        yield dynamo
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
