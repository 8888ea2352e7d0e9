"""Fixtures for the notifier's tests: a hand-moved clock, every state store in turn, moto's in-process AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from notifier.adapters.dynamodb import DynamoStateStore
from notifier.adapters.sqlite import SqliteStateStore
from notifier.ports import NotificationStateStore
from notifier.testing import InMemoryStateStore
from shared.testkit.envelopes import FakeClock

RETENTION_S = 3 * 24 * 3600.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_750_000_000.0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def dynamo_store(aws: None) -> DynamoStateStore:
    store = DynamoStateStore(
        client=boto3.client("dynamodb", region_name="us-east-1"),
        table="notifier-state",
        retention_s=RETENTION_S,
    )
    store.ensure_table()
    return store


@pytest.fixture(params=["in-memory", "sqlite", "dynamodb"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotificationStateStore]:
    """Each NotificationStateStore implementation in turn, empty."""
    if request.param == "in-memory":
        yield InMemoryStateStore(retention_s=RETENTION_S)
    elif request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "state.sqlite3", retention_s=RETENTION_S)
        yield sqlite
        sqlite.close()
    else:
        yield request.getfixturevalue("dynamo_store")
