"""Fixtures for the notifier's tests: a hand-moved clock, every state store in turn, moto's in-process AWS."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.credentials import Credentials

from notifier.adapters.dynamodb import DynamoStateStore
from notifier.adapters.sqlite import SqliteStateStore
from notifier.ports import NotificationStateStore
from notifier.testing import InMemoryStateStore
from shared.aws import json_api_like
from shared.testkit.aws import in_process_aws
from shared.testkit.envelopes import FakeClock
from tributary.aws import EMULATOR_CREDENTIALS, emulator_client
from tributary.ministack import MiniStackEmulator

RETENTION_S = 3 * 24 * 3600.0
_tables = itertools.count(1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_750_000_000.0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and no endpoint override that could reach a real stack."""
    with in_process_aws(monkeypatch):
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


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One MiniStack for the session's DynamoDB-over-the-lean-caller tests (a table each); its endpoint."""
    with MiniStackEmulator(tmp_path_factory.mktemp("ministack")) as emulator:
        yield emulator.endpoint


@pytest.fixture
def lean_dynamo_store(ministack: str) -> DynamoStateStore:
    """The store as the notifier runs it: its calls through the lean JSON caller, on MiniStack."""
    client = emulator_client("dynamodb", ministack)
    keys = EMULATOR_CREDENTIALS
    store = DynamoStateStore(
        client=client,
        api=json_api_like(client, Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"])),
        table=f"notifier-state-{next(_tables)}",
        retention_s=RETENTION_S,
    )
    store.ensure_table()
    return store


@pytest.fixture(params=["in-memory", "sqlite", "dynamodb", "dynamodb-lean"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotificationStateStore]:
    """Each NotificationStateStore implementation in turn, empty."""
    if request.param == "dynamodb-lean":
        yield request.getfixturevalue("lean_dynamo_store")
    elif request.param == "in-memory":
        yield InMemoryStateStore(retention_s=RETENTION_S)
    elif request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "state.sqlite3", retention_s=RETENTION_S)
        yield sqlite
        sqlite.close()
    else:
        yield request.getfixturevalue("dynamo_store")
