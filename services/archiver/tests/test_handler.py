"""Tests of the archiver's batch handler: one object per partition per batch, each event archived once.

Most tests run against both ledgers (the in-memory fake and SQLite on disk) through the ``ledger`` fixture.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from archiver.domain import content_digest, decode, encode, object_key, partition_of
from archiver.handler import ArchiveWriter
from archiver.ports import WriteOutcomeUnknown
from archiver.testing import InMemoryArchiveStore
from contracts import Envelope
from shared.errors import ContractError, PermanentError, RetryableError, StoreUnavailable
from shared.idempotency import IdConflict, IdempotencyLedger
from shared.idempotency.sqlite import SqliteLedger
from shared.testing import InMemoryLedger
from shared.testkit.envelopes import FakeClock, envelope

LEASE_S = 120.0
WINDOW_S = 600.0


def _flush_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"flush-{next(counter)}"


def _writer(store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock) -> ArchiveWriter:
    return ArchiveWriter(
        store=store,
        ledger=ledger,
        lease_s=LEASE_S,
        dedupe_window_s=WINDOW_S,
        new_flush_id=_flush_ids(),
        clock=clock,
    )


def _events(*ids: str, type_: str = "sensor.reading", time: str = "2025-06-01T00:10:00Z") -> list[Envelope]:
    return [envelope(type_, id=id_, time=time) for id_ in ids]


def _digests(events: list[Envelope]) -> dict[str, str]:
    return {e.id: content_digest(e) for e in events}


def _archived(store: InMemoryArchiveStore) -> dict[str, list[str]]:
    return {key: [e.id for e in decode(body)] for key, body in store.objects.items()}


def _key(event: Envelope, flush_id: str) -> str:
    return object_key(partition_of(event), flush_id)


def test_a_batch_makes_one_object_per_partition(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Events of one type, version and hour share an object; the batch's objects share one flush id."""
    batch = [
        *_events("s1", "s2", time="2025-06-01T00:10:00Z"),
        *_events("o1", type_="order.placed", time="2025-06-01T09:20:00+09:00"),
        *_events("s3", time="2025-06-01T01:05:00Z"),
        *_events("s4", time="2025-06-01T09:50:00+09:00"),
    ]
    assert _writer(store, ledger, clock)(batch) == {}
    assert _archived(store) == {
        "events/type=sensor.reading/version=1/dt=2025-06-01/hour=00/flush-1.ndjson.gz": ["s1", "s2", "s4"],
        "events/type=order.placed/version=1/dt=2025-06-01/hour=00/flush-1.ndjson.gz": ["o1"],
        "events/type=sensor.reading/version=1/dt=2025-06-01/hour=01/flush-1.ndjson.gz": ["s3"],
    }
    assert decode(store.objects[_key(batch[0], "flush-1")]) == [batch[0], batch[1], batch[4]]


def test_each_object_written_is_logged(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """One ``object_written`` line per object, with its key and how many events it holds."""
    batch = _events("a", "b") + _events("c", type_="order.placed")
    with capture_logs() as logs:
        _writer(store, ledger, clock)(batch)
    written = sorted((e["key"], e["events"]) for e in logs if e["event"] == "object_written")
    assert written == sorted([(_key(batch[0], "flush-1"), 2), (_key(batch[2], "flush-1"), 1)])


def test_the_same_batch_twice_writes_nothing_the_second_time(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """A redelivered batch is skipped: no new object, and no failure."""
    writer = _writer(store, ledger, clock)
    batch = _events("a", "b") + _events("c", type_="order.placed")
    writer(batch)
    before = dict(store.objects)
    clock.advance(LEASE_S * 10)
    assert writer(batch) == {}
    assert store.objects == before


def test_only_the_new_events_of_an_overlapping_batch_are_written(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Events archived before are skipped; the rest go into the new flush's object."""
    writer = _writer(store, ledger, clock)
    writer(_events("a", "b"))
    assert writer(_events("b", "c", "a", "d")) == {}
    assert _archived(store) == {
        "events/type=sensor.reading/version=1/dt=2025-06-01/hour=00/flush-1.ndjson.gz": ["a", "b"],
        "events/type=sensor.reading/version=1/dt=2025-06-01/hour=00/flush-2.ndjson.gz": ["c", "d"],
    }


def test_a_duplicate_id_in_one_batch_is_archived_once(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """The same event twice in one batch (a redelivery, or a producer resend) lands once."""
    [a] = _events("a")
    assert _writer(store, ledger, clock)([a, *_events("b"), a]) == {}
    assert list(_archived(store).values()) == [["a", "b"]]


def test_a_store_outage_fails_every_event_as_retryable_and_releases_the_claims(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Store down: every event is a RetryableError and the claims are dropped, so a retry at once succeeds."""
    writer = _writer(store, ledger, clock)
    batch = _events("a", "b") + _events("c", type_="order.placed")
    store.down = True
    failures = writer(batch)
    assert set(failures) == {"a", "b", "c"}
    assert all(isinstance(error, StoreUnavailable) for error in failures.values())
    store.down = False
    assert writer(batch) == {}
    assert sorted(i for ids in _archived(store).values() for i in ids) == ["a", "b", "c"]


def test_a_crash_after_the_write_is_settled_by_the_object_in_the_store(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Claimed and written but never completed: busy during the lease, then found in the store and skipped."""
    batch = _events("a", "b")
    crashed_key = _key(batch[0], "crashed")
    ledger.claim(_digests(batch), location=crashed_key, lease_s=LEASE_S, landed=store.exists)
    store.put(crashed_key, encode(batch))  # ... and the process dies before ledger.complete()
    writer = _writer(store, ledger, clock)

    clock.advance(LEASE_S - 1)
    failures = writer(batch)
    assert set(failures) == {"a", "b"} and all(isinstance(e, RetryableError) for e in failures.values())
    assert all(e.retry_after_s == LEASE_S for e in failures.values() if isinstance(e, RetryableError))
    assert list(store.objects) == [crashed_key]

    clock.advance(2)
    assert writer(batch) == {}
    assert _archived(store) == {crashed_key: ["a", "b"]}
    store.down = True  # the ids are now done in the ledger: the store is not asked again
    assert writer(batch) == {}


def test_a_crash_before_the_write_is_taken_over_after_the_lease(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Claimed but never written: once the lease runs out, the next writer writes the events."""
    batch = _events("a", "b")
    ledger.claim(_digests(batch), location=_key(batch[0], "crashed"), lease_s=LEASE_S, landed=store.exists)
    clock.advance(LEASE_S + 1)
    assert _writer(store, ledger, clock)(batch) == {}
    assert _archived(store) == {_key(batch[0], "flush-1"): ["a", "b"]}


def test_ids_another_writer_holds_are_retried_later_and_only_those(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Ids claimed by another writer within its lease fail as retryable; the rest of the batch is written."""
    other = _key(_events("x")[0], "other-replica")
    ledger.claim(_digests(_events("a", "b")), location=other, lease_s=LEASE_S, landed=store.exists)
    writer = _writer(store, ledger, clock)
    failures = writer(_events("a", "b", "c", "d"))
    assert set(failures) == {"a", "b"}
    assert all(isinstance(e, RetryableError) and "another writer" in str(e) for e in failures.values())
    assert _archived(store) == {_key(_events("c")[0], "flush-1"): ["c", "d"]}

    ledger.complete(other)  # the other replica finished: the retry skips them
    assert writer(_events("a", "b")) == {}
    assert len(store.objects) == 1


def test_an_outage_while_checking_an_earlier_write_fails_the_batch(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """If the store cannot say whether a crashed write landed, the whole batch fails as retryable."""
    batch = _events("a", "b")
    crashed_key = _key(batch[0], "crashed")
    ledger.claim(_digests(batch[:1]), location=crashed_key, lease_s=LEASE_S, landed=store.exists)
    store.put(crashed_key, encode(batch[:1]))
    clock.advance(LEASE_S + 1)
    store.down = True
    writer = _writer(store, ledger, clock)
    with pytest.raises(RetryableError):
        writer(batch)
    store.down = False
    assert writer(batch) == {}
    assert _archived(store) == {crashed_key: ["a"], _key(batch[0], "flush-2"): ["b"]}


@pytest.mark.parametrize("kind", ["in-memory", "sqlite"])
def test_the_ledger_forgets_archived_ids_after_the_window_pruning_at_most_hourly(
    store: InMemoryArchiveStore, kind: str, clock: FakeClock, tmp_path: Path
) -> None:
    """Ids older than the dedupe window are pruned, but pruning runs only once an hour (DynamoDB: TTL)."""
    ledger: IdempotencyLedger = (
        InMemoryLedger(clock=clock)
        if kind == "in-memory"
        else SqliteLedger(tmp_path / "l.sqlite3", clock=clock)
    )
    writer = _writer(store, ledger, clock)
    batch = _events("a")
    writer(batch)
    clock.advance(WINDOW_S * 2)  # past the window, but within the hour since the last prune
    writer(batch)
    assert len(store.objects) == 1
    clock.advance(3600)
    writer(batch)  # pruned first: "a" is new again (redeliveries this late are out of the dedupe window)
    assert len(store.objects) == 2


def test_pruning_reports_how_many_ids_it_dropped(store: InMemoryArchiveStore, clock: FakeClock) -> None:
    """The prune is logged with the number of ids forgotten."""
    ledger = InMemoryLedger(clock=clock)
    writer = _writer(store, ledger, clock)
    writer(_events("a", "b"))
    clock.advance(3601)
    with capture_logs() as logs:
        writer(_events("c"))
    assert [e["ids"] for e in logs if e["event"] == "ledger_pruned"] == [2]
    assert set(ledger.rows) == {"c"}


def test_an_event_whose_data_breaks_its_contract_alone_is_refused(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Lax data that skipped ingest (a raw PutEvents) is a ContractError naming the field, never archived;
    its batch-mates are archived; the reason holds no value from the event."""
    good = envelope(id="good", time="2025-06-01T00:10:00Z")
    stringly = envelope(id="stringly", time="2025-06-01T00:10:00Z")
    stringly = stringly.model_copy(update={"data": stringly.data | {"value": "21.5"}})
    unknown = good.model_copy(update={"id": "unknown", "type": "archive.note"})
    failures = _writer(store, ledger, clock)([good, stringly, unknown])
    assert set(failures) == {"stringly", "unknown"}
    assert all(isinstance(f, ContractError) for f in failures.values())
    assert "data.value" in str(failures["stringly"]) and "21.5" not in str(failures["stringly"])
    assert "archive.note" in str(failures["unknown"])
    assert [ids for ids in _archived(store).values()] == [["good"]]


def test_an_id_resent_with_other_content_is_a_conflict_and_an_identical_resend_is_skipped(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Same id, other data: IdConflict (permanent, reason id_conflict); same id and data: skipped quietly."""
    writer = _writer(store, ledger, clock)
    [a] = _events("a")
    writer([a])
    resent = a.model_copy(update={"ingested_at": a.ingested_at.replace(year=2030), "trace": "Root=1-x"})
    changed = a.model_copy(update={"data": {**a.data, "value": -1}})
    failures = writer([resent, *_events("b")])
    assert failures == {}
    failures = writer([changed])
    assert list(failures) == ["a"] and isinstance(failures["a"], IdConflict)
    assert isinstance(failures["a"], PermanentError) and IdConflict.reason == "id_conflict"
    assert sorted(i for ids in _archived(store).values() for i in ids) == ["a", "b"]


def test_a_put_that_landed_despite_its_error_is_completed_not_rewritten(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """A PutObject that timed out but landed is found by HEAD: the batch succeeds and nothing is rewritten."""
    writer = _writer(store, ledger, clock)
    store.put_error, store.lands_despite_error = WriteOutcomeUnknown("read timeout"), True
    assert writer(_events("a", "b")) == {}
    store.put_error = None
    clock.advance(LEASE_S * 10)
    assert writer(_events("a", "b")) == {}
    assert store.puts == 1 and list(_archived(store).values()) == [["a", "b"]]


def test_a_put_with_an_unknown_outcome_keeps_its_claim_until_the_lease_ends(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """Timed out and not (yet) in the store: the claim is kept, so a retry waits for the lease, then asks."""
    writer = _writer(store, ledger, clock)
    store.put_error = WriteOutcomeUnknown("read timeout")
    failures = writer(_events("a"))
    assert list(failures) == ["a"]
    store.put_error = None
    assert "another writer" in str(writer(_events("a"))["a"]), "the claim is still held"
    clock.advance(LEASE_S + 1)
    assert writer(_events("a")) == {}
    assert list(_archived(store).values()) == [["a"]]


def test_a_definite_put_failure_releases_the_claim_at_once(
    store: InMemoryArchiveStore, ledger: IdempotencyLedger, clock: FakeClock
) -> None:
    """The store said no (and HEAD confirms nothing landed): a retry writes at once."""
    writer = _writer(store, ledger, clock)
    store.put_error = RetryableError("SlowDown")
    assert list(writer(_events("a"))) == ["a"]
    store.put_error = None
    assert writer(_events("a")) == {}
    assert list(_archived(store).values()) == [["a"]]
