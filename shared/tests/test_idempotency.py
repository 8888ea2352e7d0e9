"""The ledger contract, run against the in-memory fake, SQLite, DynamoDB on moto and DynamoDB on MiniStack."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from moto import mock_aws

from shared.aws import json_api_like
from shared.awsjson import JsonApi
from shared.idempotency import IdempotencyLedger
from shared.idempotency.dynamodb import DynamoLedger
from shared.idempotency.sqlite import SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.envelopes import FakeClock
from tributary.aws import EMULATOR_CREDENTIALS, emulator_client
from tributary.ministack import MiniStackEmulator

LEASE = 60.0
WINDOW = 600.0
_tables = itertools.count(1)


@pytest.fixture
def clock() -> FakeClock:
    """Real epoch time, moved by hand: an emulator's TTL reaper must not see the items as long expired."""
    return FakeClock(start=float(int(time.time())))


@pytest.fixture(scope="module")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One MiniStack for the module's DynamoDB tests (each test uses its own table); its endpoint."""
    with MiniStackEmulator(tmp_path_factory.mktemp("ministack")) as emulator:
        yield emulator.endpoint


@pytest.fixture
def moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1").client("dynamodb")


def _dynamo(client: Any, clock: FakeClock) -> DynamoLedger:
    ledger = DynamoLedger(client=client, table=f"ledger-{next(_tables)}", window_s=WINDOW, clock=clock)
    assert ledger.ensure_table()
    return ledger


def _lean(endpoint: str, clock: FakeClock) -> DynamoLedger:
    """The ledger as the archiver runs it: claims and completions through the lean JSON caller."""
    client = emulator_client("dynamodb", endpoint)
    keys = EMULATOR_CREDENTIALS
    api = json_api_like(client, Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"]))
    table = f"ledger-{next(_tables)}"
    ledger = DynamoLedger(client=client, api=api, table=table, window_s=WINDOW, clock=clock)
    assert ledger.ensure_table()
    return ledger


def _ledger(kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> IdempotencyLedger:
    if kind == "memory":
        return InMemoryLedger(clock=clock)
    if kind == "sqlite":
        return SqliteLedger(tmp_path / "ledger.sqlite3", clock=clock)
    if kind == "dynamodb-moto":
        return _dynamo(request.getfixturevalue("moto_dynamodb"), clock)
    if kind == "dynamodb-ministack-lean":
        return _lean(request.getfixturevalue("ministack"), clock)
    return _dynamo(emulator_client("dynamodb", request.getfixturevalue("ministack")), clock)


@pytest.fixture(params=["memory", "sqlite", "dynamodb-moto", "dynamodb-ministack", "dynamodb-ministack-lean"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> IdempotencyLedger:
    return _ledger(request.param, request, tmp_path, clock)


@pytest.fixture(params=["sqlite", "dynamodb-moto", "dynamodb-ministack", "dynamodb-ministack-lean"])
def shared_ledgers(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> tuple[IdempotencyLedger, IdempotencyLedger]:
    """Two ledgers over one store, as two replicas (or two tasks) have."""
    if request.param == "sqlite":
        path = tmp_path / "l.sqlite3"
        return SqliteLedger(path, clock=clock), SqliteLedger(path, clock=clock)
    one = _ledger(request.param, request, tmp_path, clock)
    assert isinstance(one, DynamoLedger)
    lean = one._caller if isinstance(one._caller, JsonApi) else None
    other = DynamoLedger(client=one._client, api=lean, table=one.table, window_s=WINDOW, clock=clock)
    return one, other


def _ids(*ids: str) -> dict[str, str]:
    """Ids with a digest each (the same id always gets the same digest here)."""
    return {id_: f"digest-{id_}" for id_ in ids}


def _never(_: str) -> bool:
    raise AssertionError("landed() must not be asked here")


def _forget(ledger: IdempotencyLedger, clock: FakeClock, seconds: float) -> None:
    """Let ``seconds`` pass and prune what the backend prunes (DynamoDB expires by TTL instead)."""
    clock.advance(seconds)
    ledger.prune(older_than_s=WINDOW)


def test_new_ids_are_fresh_and_completed_ids_are_done(ledger: IdempotencyLedger) -> None:
    """First claim gets everything; after completion a second claim gets nothing to write."""
    first = ledger.claim(_ids("a", "b"), location="k1", lease_s=LEASE, landed=_never)
    assert first.fresh == ["a", "b"]
    ledger.complete("k1")
    second = ledger.claim(_ids("a", "b", "c"), location="k2", lease_s=LEASE, landed=_never)
    assert second.fresh == ["c"] and sorted(second.done) == ["a", "b"]


def test_an_id_with_other_content_is_a_conflict_and_an_identical_resend_is_done(
    ledger: IdempotencyLedger,
) -> None:
    """Same id, other digest: conflict (pending or done); same id, same digest: done."""
    ledger.claim({"a": "one", "b": "two"}, location="k1", lease_s=LEASE, landed=_never)
    pending = ledger.claim({"a": "other"}, location="k2", lease_s=LEASE, landed=_never)
    assert pending.conflict == ["a"] and not pending.fresh and not pending.busy
    ledger.complete("k1")
    claim = ledger.claim({"a": "other", "b": "two"}, location="k3", lease_s=LEASE, landed=_never)
    assert claim.conflict == ["a"] and claim.done == ["b"] and not claim.fresh


def test_ids_held_by_a_live_lease_are_busy(ledger: IdempotencyLedger) -> None:
    """Another writer's unexpired claim makes the ids busy."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    claim = ledger.claim(_ids("a"), location="k2", lease_s=LEASE, landed=_never)
    assert claim.busy == ["a"] and not claim.fresh


def test_a_claim_for_its_own_location_again_is_fresh(ledger: IdempotencyLedger) -> None:
    """A writer retrying the same location gets its pending ids back."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    assert ledger.claim(_ids("a", "b"), location="k1", lease_s=LEASE, landed=_never).fresh == ["a", "b"]


def test_expired_claim_whose_write_landed_counts_as_done(ledger: IdempotencyLedger, clock: FakeClock) -> None:
    """A writer that died after writing: the object exists, so its ids are done."""
    ledger.claim(_ids("a", "b"), location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)
    asked: list[str] = []
    claim = ledger.claim(
        _ids("a", "b"), location="k2", lease_s=LEASE, landed=lambda loc: asked.append(loc) or True
    )
    assert sorted(claim.done) == ["a", "b"] and not claim.fresh
    assert asked == ["k1"], "one existence check per earlier location"
    assert ledger.claim(_ids("a"), location="k3", lease_s=LEASE, landed=_never).done == ["a"]


def test_expired_claim_whose_write_never_landed_is_taken_over(
    ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """A writer that died before writing: the next one takes the ids over."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)
    claim = ledger.claim(_ids("a"), location="k2", lease_s=LEASE, landed=lambda _: False)
    assert claim.fresh == ["a"]
    ledger.complete("k2")
    assert ledger.claim(_ids("a"), location="k3", lease_s=LEASE, landed=_never).done == ["a"]


def test_the_store_is_asked_outside_the_ledger(ledger: IdempotencyLedger, clock: FakeClock) -> None:
    """While ``landed`` runs, another writer can use the ledger (no lock or transaction is held)."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)
    seen: list[list[str]] = []

    def landed(_: str) -> bool:
        seen.append(ledger.claim(_ids("x"), location="k9", lease_s=LEASE, landed=_never).fresh)
        return True

    assert ledger.claim(_ids("a"), location="k2", lease_s=LEASE, landed=landed).done == ["a"]
    assert seen == [["x"]]


def test_a_stale_claim_changed_while_the_store_was_asked_is_busy(
    ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """If another writer takes the ids over while the store is asked, the first writer does not write them."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)

    def landed(_: str) -> bool:
        assert ledger.claim(_ids("a"), location="k3", lease_s=LEASE, landed=lambda _: False).fresh == ["a"]
        return False

    claim = ledger.claim(_ids("a"), location="k2", lease_s=LEASE, landed=landed)
    assert claim.busy == ["a"] and not claim.fresh


def test_released_claims_can_be_claimed_at_once(ledger: IdempotencyLedger) -> None:
    """After a failed write is released, a retry claims the ids without waiting for the lease."""
    ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    ledger.release("k1")
    assert ledger.claim(_ids("a"), location="k2", lease_s=LEASE, landed=_never).fresh == ["a"]


def test_completed_ids_are_forgotten_after_the_window_and_pending_ones_kept(
    ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Past the dedupe window a completed id is new again; within it, it stays done."""
    ledger.claim(_ids("old"), location="k1", lease_s=LEASE, landed=_never)
    ledger.complete("k1")
    _forget(ledger, clock, WINDOW / 2)
    assert ledger.claim(_ids("old"), location="k2", lease_s=LEASE, landed=_never).done == ["old"]
    _forget(ledger, clock, WINDOW)
    assert ledger.claim(_ids("old"), location="k3", lease_s=LEASE, landed=_never).fresh == ["old"]


def test_duplicate_ids_in_one_claim_are_claimed_once(ledger: IdempotencyLedger) -> None:
    """A claim names each id once (a mapping), and a large claim spans many store calls."""
    ids = _ids(*(f"id-{n:04d}" for n in range(250)))
    assert ledger.claim(ids, location="k1", lease_s=LEASE, landed=_never).fresh == list(ids)
    ledger.complete("k1")
    assert sorted(ledger.claim(ids, location="k2", lease_s=LEASE, landed=_never).done) == sorted(ids)


def test_sqlite_prune_counts_what_it_forgot(tmp_path: Path, clock: FakeClock) -> None:
    """SQLite prunes completed ids past the window, and only those."""
    ledger = SqliteLedger(tmp_path / "l.sqlite3", clock=clock)
    ledger.claim(_ids("old"), location="k1", lease_s=LEASE, landed=_never)
    ledger.complete("k1")
    ledger.claim(_ids("pending"), location="k2", lease_s=LEASE, landed=_never)
    clock.advance(1000)
    assert ledger.prune(older_than_s=500) == 1


def test_two_ledgers_on_one_store_see_each_other(
    shared_ledgers: tuple[IdempotencyLedger, IdempotencyLedger],
) -> None:
    """Two replicas on one store see each other's claims."""
    one, two = shared_ledgers
    one.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never)
    assert two.claim(_ids("a"), location="k2", lease_s=LEASE, landed=_never).busy == ["a"]
    one.complete("k1")
    assert two.claim(_ids("a"), location="k2", lease_s=LEASE, landed=_never).done == ["a"]


def test_sqlite_ledger_reads_a_file_written_before_digests(tmp_path: Path, clock: FakeClock) -> None:
    """A ledger file from before content digests gains the column; its rows never conflict."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE claims (id TEXT PRIMARY KEY, location TEXT NOT NULL, done INTEGER NOT NULL,"
        " updated REAL NOT NULL)"
    )
    db.execute("INSERT INTO claims VALUES ('a', 'k0', 1, ?)", (clock(),))
    db.commit()
    db.close()
    ledger = SqliteLedger(path, clock=clock)
    assert ledger.claim(_ids("a"), location="k1", lease_s=LEASE, landed=_never).done == ["a"]
