"""Tests of the lease heartbeat: it extends a held claim, retries a failing store and stops once lost."""

from __future__ import annotations

from structlog.testing import capture_logs

from notifier.lease import LeaseKeeper
from notifier.model import Alert
from notifier.testing import InMemoryStateStore
from shared.testkit.envelopes import FakeClock
from shared.testkit.waiting import wait_for

LEASE_S = 60.0
ALERT = Alert(
    rule="hot", key="e-1", subject="dev-1", severity="critical", message="m", channels=("a",), cooldown_s=0
)


def _keeper(store: InMemoryStateStore, clock: FakeClock, attempt: int = 1) -> LeaseKeeper:
    return LeaseKeeper(
        store, rule="hot", key="e-1", attempt=attempt, lease_s=LEASE_S, every_s=0.01, clock=clock
    )


def test_the_lease_follows_the_clock_while_open_and_stops_when_closed() -> None:
    """Each beat pushes the lease to now + lease; closing stops the thread."""
    store, clock = InMemoryStateStore(), FakeClock(start=1_000.0)
    store.claim(ALERT, now=clock(), lease_s=LEASE_S)
    held = store.notifications[("hot", "e-1")]
    with _keeper(store, clock) as keeper:
        clock.advance(500)
        wait_for(lambda: held.lease_until == 1_500 + LEASE_S, timeout_s=30, interval_s=0.01)
        assert store.claim(ALERT, now=clock(), lease_s=LEASE_S).outcome == "busy"
    assert not keeper.running


def test_a_store_that_fails_a_beat_is_tried_again() -> None:
    """An outage costs beats, not the claim: the next beat after it extends the lease."""
    store, clock = InMemoryStateStore(), FakeClock(start=1_000.0)
    store.claim(ALERT, now=clock(), lease_s=LEASE_S)
    held = store.notifications[("hot", "e-1")]
    with capture_logs() as logs, _keeper(store, clock) as keeper:
        store.down = True
        failed = lambda: any(e["event"] == "lease_extend_failed" for e in logs)  # noqa: E731
        wait_for(failed, timeout_s=30, interval_s=0.01)
        clock.advance(100)
        store.down = False
        wait_for(lambda: held.lease_until == 1_100 + LEASE_S, timeout_s=30, interval_s=0.01)
        assert keeper.running


def test_a_lost_claim_is_never_extended() -> None:
    """Once another worker resumed the alert, the old claim's keeper stops and leaves the new lease alone."""
    store, clock = InMemoryStateStore(), FakeClock(start=1_000.0)
    store.claim(ALERT, now=clock(), lease_s=LEASE_S)
    clock.advance(LEASE_S)
    assert store.claim(ALERT, now=clock(), lease_s=LEASE_S).outcome == "resumed"
    held = store.notifications[("hot", "e-1")]
    with capture_logs() as logs, _keeper(store, clock, attempt=1) as keeper:
        wait_for(lambda: not keeper.running, timeout_s=30, interval_s=0.01)
    assert [e["attempt"] for e in logs if e["event"] == "lease_lost"] == [1]
    assert held.lease_until == 1_000 + 2 * LEASE_S
