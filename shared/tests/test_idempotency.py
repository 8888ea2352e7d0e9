"""The ledger contract, run against the in-memory fake and the SQLite ledger alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.idempotency import IdempotencyLedger, SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.envelopes import FakeClock

LEASE = 60.0


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> IdempotencyLedger:
    if request.param == "memory":
        return InMemoryLedger(clock=clock)
    return SqliteLedger(tmp_path / "ledger.sqlite3", clock=clock)


def _never(_: str) -> bool:
    raise AssertionError("landed() must not be asked here")


def test_new_ids_are_fresh_and_completed_ids_are_done(ledger: IdempotencyLedger) -> None:
    """First claim gets everything; after completion a second claim gets nothing to write."""
    first = ledger.claim(["a", "b"], location="k1", lease_s=LEASE, landed=_never)
    assert first.fresh == ["a", "b"]
    ledger.complete("k1")
    second = ledger.claim(["a", "b", "c"], location="k2", lease_s=LEASE, landed=_never)
    assert second.fresh == ["c"] and sorted(second.done) == ["a", "b"]


def test_ids_held_by_a_live_lease_are_busy(ledger: IdempotencyLedger) -> None:
    """Another writer's unexpired claim makes the ids busy."""
    ledger.claim(["a"], location="k1", lease_s=LEASE, landed=_never)
    claim = ledger.claim(["a"], location="k2", lease_s=LEASE, landed=_never)
    assert claim.busy == ["a"] and not claim.fresh


def test_expired_claim_whose_write_landed_counts_as_done(ledger: IdempotencyLedger, clock: FakeClock) -> None:
    """A writer that died after writing: the object exists, so its ids are done."""
    ledger.claim(["a", "b"], location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)
    asked: list[str] = []
    claim = ledger.claim(
        ["a", "b"], location="k2", lease_s=LEASE, landed=lambda loc: asked.append(loc) or True
    )
    assert sorted(claim.done) == ["a", "b"] and not claim.fresh
    assert asked == ["k1"], "one existence check per earlier location"
    assert ledger.claim(["a"], location="k3", lease_s=LEASE, landed=_never).done == ["a"]


def test_expired_claim_whose_write_never_landed_is_taken_over(
    ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """A writer that died before writing: the next one takes the ids over."""
    ledger.claim(["a"], location="k1", lease_s=LEASE, landed=_never)
    clock.advance(LEASE + 1)
    claim = ledger.claim(["a"], location="k2", lease_s=LEASE, landed=lambda _: False)
    assert claim.fresh == ["a"]
    ledger.complete("k2")
    assert ledger.claim(["a"], location="k3", lease_s=LEASE, landed=_never).done == ["a"]


def test_released_claims_can_be_claimed_at_once(ledger: IdempotencyLedger) -> None:
    """After a failed write is released, a retry claims the ids without waiting for the lease."""
    ledger.claim(["a"], location="k1", lease_s=LEASE, landed=_never)
    ledger.release("k1")
    assert ledger.claim(["a"], location="k2", lease_s=LEASE, landed=_never).fresh == ["a"]


def test_prune_forgets_only_old_completed_ids(ledger: IdempotencyLedger, clock: FakeClock) -> None:
    """Completed ids past the window are pruned; pending ones are kept."""
    ledger.claim(["old"], location="k1", lease_s=LEASE, landed=_never)
    ledger.complete("k1")
    ledger.claim(["pending"], location="k2", lease_s=LEASE, landed=_never)
    clock.advance(1000)
    assert ledger.prune(older_than_s=500) == 1
    assert ledger.claim(["old"], location="k3", lease_s=LEASE, landed=_never).fresh == ["old"]


def test_duplicate_ids_in_one_claim_are_claimed_once(ledger: IdempotencyLedger) -> None:
    """The same id twice in a claim appears once."""
    assert ledger.claim(["a", "a"], location="k1", lease_s=LEASE, landed=_never).fresh == ["a"]


def test_sqlite_ledger_is_shared_between_processes_on_one_file(tmp_path: Path, clock: FakeClock) -> None:
    """Two ledgers on one file (two replicas) see each other's claims."""
    one = SqliteLedger(tmp_path / "l.sqlite3", clock=clock)
    two = SqliteLedger(tmp_path / "l.sqlite3", clock=clock)
    one.claim(["a"], location="k1", lease_s=LEASE, landed=_never)
    assert two.claim(["a"], location="k2", lease_s=LEASE, landed=_never).busy == ["a"]
    one.complete("k1")
    assert two.claim(["a"], location="k2", lease_s=LEASE, landed=_never).done == ["a"]
