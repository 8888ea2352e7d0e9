"""The :class:`~notifier.ports.NotificationStateStore` contract, run against the in-memory fake, SQLite and
DynamoDB (moto), so the fake cannot drift from the real stores."""

from __future__ import annotations

import pytest

from notifier.model import Alert
from notifier.ports import NotificationStateStore

NOW = 1_750_000_000.0
LEASE = 60.0


def _alert(key: str = "e-1", *, rule: str = "hot", subject: str = "dev-1") -> Alert:
    return Alert(
        rule=rule,
        key=key,
        subject=subject,
        severity="critical",
        message="dev-1 reads 81",
        channels=("sns", "hook"),
        cooldown_s=300.0,
    )


def test_the_first_claim_is_fresh(state: NotificationStateStore) -> None:
    """A new (rule, key) is created pending, holding the alert's fields, one attempt, nothing sent."""
    claim = state.claim(_alert(), now=NOW, lease_s=LEASE)
    assert claim.outcome == "fresh"
    record = claim.record
    assert (record.rule, record.key, record.subject, record.severity) == ("hot", "e-1", "dev-1", "critical")
    assert (record.message, record.channels, record.status) == ("dev-1 reads 81", ("sns", "hook"), "pending")
    assert (record.sent, record.attempts, record.created_at) == (frozenset(), 1, NOW)


def test_a_claim_is_busy_while_its_lease_runs(state: NotificationStateStore) -> None:
    """A second claim within the lease is ``busy``; the same key under another rule is its own claim."""
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    assert state.claim(_alert(), now=NOW + LEASE - 1, lease_s=LEASE).outcome == "busy"
    assert state.claim(_alert(rule="other"), now=NOW, lease_s=LEASE).outcome == "fresh"


def test_an_expired_lease_is_resumed_with_what_was_sent(state: NotificationStateStore) -> None:
    """After the lease (a crashed worker) the next claim resumes, knows the sent channels, counts attempts."""
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    state.mark_sent("hot", "e-1", "sns", now=NOW + 1)
    claim = state.claim(_alert(), now=NOW + LEASE, lease_s=LEASE)
    assert claim.outcome == "resumed"
    assert (claim.record.sent, claim.record.attempts, claim.record.status) == (
        frozenset({"sns"}),
        2,
        "pending",
    )
    assert state.claim(_alert(), now=NOW + LEASE + 1, lease_s=LEASE).outcome == "busy"


def test_a_failed_attempt_can_be_resumed_at_once(state: NotificationStateStore) -> None:
    """``failed`` releases the lease and keeps the error and the sent channels."""
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    state.mark_sent("hot", "e-1", "sns", now=NOW)
    state.settle("hot", "e-1", status="failed", now=NOW + 1, error="hook: answered 500")
    claim = state.claim(_alert(), now=NOW + 2, lease_s=LEASE)
    assert claim.outcome == "resumed"
    assert (claim.record.status, claim.record.error, claim.record.sent) == (
        "failed",
        "hook: answered 500",
        frozenset({"sns"}),
    )


@pytest.mark.parametrize("status", ["sent", "suppressed", "abandoned"])
def test_a_finished_notification_is_done_for_good(state: NotificationStateStore, status: str) -> None:
    """Once settled final, every later claim answers ``done`` (a redelivery or a redrive sends nothing)."""
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    state.settle("hot", "e-1", status=status, now=NOW + 1)  # type: ignore[arg-type]
    for later in (NOW + 2, NOW + LEASE * 10):
        claim = state.claim(_alert(), now=later, lease_s=LEASE)
        assert (claim.outcome, claim.record.status) == ("done", status)


def test_marking_sent_accumulates_channels(state: NotificationStateStore) -> None:
    """Each channel is marked on its own; marking twice is harmless."""
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    for channel in ("sns", "hook", "sns"):
        state.mark_sent("hot", "e-1", channel, now=NOW)
    state.settle("hot", "e-1", status="sent", now=NOW)
    assert state.claim(_alert(), now=NOW, lease_s=LEASE).record.sent == frozenset({"sns", "hook"})


def test_a_cooldown_admits_one_holder_until_it_ends(state: NotificationStateStore) -> None:
    """The first holder wins; others are refused until it ends; the holder itself is always admitted."""
    assert state.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW, cooldown_s=300)
    assert not state.hold_cooldown("hot", "dev-1", holder="e-2", now=NOW + 299, cooldown_s=300)
    assert state.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW + 299, cooldown_s=300)
    assert state.hold_cooldown("hot", "dev-2", holder="e-3", now=NOW + 1, cooldown_s=300)
    assert state.hold_cooldown("cold", "dev-1", holder="e-4", now=NOW + 1, cooldown_s=300)
    assert state.hold_cooldown("hot", "dev-1", holder="e-2", now=NOW + 300, cooldown_s=300)
    assert not state.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW + 301, cooldown_s=300)


def test_sightings_only_move_forward(state: NotificationStateStore) -> None:
    """An older sighting never lowers a newer one (a replay cannot make a device look silent)."""
    state.record_sightings({("quiet", "dev-1"): NOW - 100, ("quiet", "dev-2"): NOW - 50}, now=NOW)
    state.record_sightings({("quiet", "dev-1"): NOW - 500, ("quiet", "dev-2"): NOW - 10}, now=NOW)
    assert state.silent("quiet", before=NOW, now=NOW) == [("dev-1", NOW - 100), ("dev-2", NOW - 10)]


def test_silent_lists_subjects_seen_before_the_cutoff_oldest_first(state: NotificationStateStore) -> None:
    """Only this rule's subjects, only those last seen before ``before``."""
    state.record_sightings(
        {
            ("quiet", "dev-b"): NOW - 900,
            ("quiet", "dev-a"): NOW - 900,
            ("quiet", "dev-c"): NOW - 1200,
            ("quiet", "fresh"): NOW - 10,
            ("other", "dev-x"): NOW - 5000,
        },
        now=NOW,
    )
    assert state.silent("quiet", before=NOW - 600, now=NOW) == [
        ("dev-c", NOW - 1200),
        ("dev-a", NOW - 900),
        ("dev-b", NOW - 900),
    ]
    assert state.silent("none", before=NOW, now=NOW) == []


def test_sightings_expire_after_the_retention(state: NotificationStateStore) -> None:
    """A subject not seen for longer than the retention is forgotten (no alerts about long-gone devices)."""
    retention = state.retention_s  # type: ignore[attr-defined]
    state.record_sightings({("quiet", "gone"): NOW}, now=NOW)
    assert state.silent("quiet", before=NOW + retention, now=NOW + retention - 1) == [("gone", NOW)]
    assert state.silent("quiet", before=NOW + retention + 1, now=NOW + retention + 1) == []


def test_recent_lists_the_log_newest_first(state: NotificationStateStore) -> None:
    """The notification log: latest first, with status, limited."""
    for i in range(4):
        state.claim(_alert(f"e-{i}"), now=NOW + i, lease_s=LEASE)
    state.settle("hot", "e-1", status="sent", now=NOW + 5)
    records = state.recent(limit=3, now=NOW + 10)
    assert [(r.key, r.status) for r in records] == [("e-3", "pending"), ("e-2", "pending"), ("e-1", "sent")]
    assert state.recent(limit=10, now=NOW + 10)[-1].key == "e-0"


def test_recent_spans_days(state: NotificationStateStore) -> None:
    """Records from earlier days are listed too (DynamoDB keeps the log by day)."""
    state.claim(_alert("old"), now=NOW - 2 * 86400, lease_s=LEASE)
    state.claim(_alert("new"), now=NOW, lease_s=LEASE)
    assert [r.key for r in state.recent(limit=10, now=NOW)] == ["new", "old"]


def test_prune_forgets_expired_notifications(state: NotificationStateStore) -> None:
    """After the retention, a notification may be claimed afresh (where the store prunes by itself it
    reports 0 and leaves expiry to TTL)."""
    retention = state.retention_s  # type: ignore[attr-defined]
    state.claim(_alert(), now=NOW, lease_s=LEASE)
    state.settle("hot", "e-1", status="sent", now=NOW)
    pruned = state.prune(now=NOW + retention + 1)
    outcome = state.claim(_alert(), now=NOW + retention + 1, lease_s=LEASE).outcome
    assert (pruned, outcome) in {(1, "fresh"), (0, "done")}


def test_text_is_kept_exactly(state: NotificationStateStore) -> None:
    """Non-ASCII subjects and messages, and keys with colons, round-trip."""
    alert = Alert(
        rule="cat",
        key="absence:猫-1:1750000000000",
        subject="猫-1",
        severity="info",
        message="新宿区 🐈",
        channels=("log",),
        cooldown_s=0,
    )
    state.claim(alert, now=NOW, lease_s=LEASE)
    [record] = state.recent(limit=1, now=NOW)
    assert (record.key, record.subject, record.message) == (alert.key, "猫-1", "新宿区 🐈")


def test_occurrences_count_each_event_once_per_window(state: NotificationStateStore) -> None:
    """A rate window counts distinct events: a redelivered one counts once; windows and subjects apart."""
    hour = (NOW, NOW + 3600)
    counts = [
        state.count_occurrence("busy", "13101", window=hour, event_id=event_id)
        for event_id in ("e-1", "e-2", "e-1", "e-3")
    ]
    assert counts == [1, 2, 2, 3]
    assert state.count_occurrence("busy", "13102", window=hour, event_id="e-1") == 1
    assert state.count_occurrence("busy", "13101", window=(NOW + 3600, NOW + 7200), event_id="e-4") == 1
    assert state.count_occurrence("other", "13101", window=hour, event_id="e-4") == 1


def test_occurrences_expire_after_the_retention_past_their_window(state: NotificationStateStore) -> None:
    """A window is forgotten ``retention`` after its end (where the store prunes; TTL does it otherwise)."""
    retention = state.retention_s  # type: ignore[attr-defined]
    hour = (NOW, NOW + 3600)
    state.count_occurrence("busy", "13101", window=hour, event_id="e-1")
    state.prune(now=NOW + 3600 + retention - 1)
    assert state.count_occurrence("busy", "13101", window=hour, event_id="e-2") == 2
    pruned = state.prune(now=NOW + 3600 + retention + 1)
    count = state.count_occurrence("busy", "13101", window=hour, event_id="e-3")
    assert (pruned >= 1, count) in {(True, 1), (False, 3)}


def test_a_lease_is_extended_while_its_claim_holds_it(state: NotificationStateStore) -> None:
    """Extending moves the lease on, so a rival claim after the first lease is still ``busy``."""
    claim = state.claim(_alert(), now=NOW, lease_s=LEASE)
    assert state.extend_lease("hot", "e-1", attempt=claim.record.attempts, now=NOW + 50, lease_s=LEASE)
    assert state.claim(_alert(), now=NOW + LEASE + 1, lease_s=LEASE).outcome == "busy"
    assert state.claim(_alert(), now=NOW + 50 + LEASE, lease_s=LEASE).outcome == "resumed"


def test_a_lease_is_not_extended_once_its_claim_is_lost(state: NotificationStateStore) -> None:
    """After another worker resumed the notification, or it was settled, the old claim cannot extend it."""
    first = state.claim(_alert(), now=NOW, lease_s=LEASE)
    second = state.claim(_alert(), now=NOW + LEASE, lease_s=LEASE)
    assert second.outcome == "resumed"
    assert not state.extend_lease("hot", "e-1", attempt=first.record.attempts, now=NOW + LEASE, lease_s=LEASE)
    assert state.extend_lease("hot", "e-1", attempt=second.record.attempts, now=NOW + LEASE, lease_s=LEASE)
    for status in ("failed", "sent"):
        state.settle("hot", "e-1", status=status, now=NOW + LEASE + 1)  # type: ignore[arg-type]
        assert not state.extend_lease(
            "hot", "e-1", attempt=second.record.attempts, now=NOW + LEASE + 1, lease_s=LEASE
        )
    assert not state.extend_lease("hot", "no-such", attempt=1, now=NOW, lease_s=LEASE)


def test_extending_never_shortens_a_lease(state: NotificationStateStore) -> None:
    """An extension asking for less than the lease already runs keeps the longer one (and still holds)."""
    claim = state.claim(_alert(), now=NOW, lease_s=10 * LEASE)
    assert state.extend_lease("hot", "e-1", attempt=claim.record.attempts, now=NOW, lease_s=LEASE)
    assert state.claim(_alert(), now=NOW + 2 * LEASE, lease_s=LEASE).outcome == "busy"


def test_a_released_cooldown_admits_the_next_holder(state: NotificationStateStore) -> None:
    """Releasing ends only the releasing holder's cooldown; another holder's stays."""
    assert state.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW, cooldown_s=300)
    state.release_cooldown("hot", "dev-1", holder="e-2")  # not the holder: nothing happens
    assert not state.hold_cooldown("hot", "dev-1", holder="e-2", now=NOW + 1, cooldown_s=300)
    state.release_cooldown("hot", "dev-1", holder="e-1")
    state.release_cooldown("hot", "dev-1", holder="e-1")  # idempotent
    assert state.hold_cooldown("hot", "dev-1", holder="e-2", now=NOW + 2, cooldown_s=300)
    assert not state.hold_cooldown("hot", "dev-1", holder="e-1", now=NOW + 3, cooldown_s=300)
