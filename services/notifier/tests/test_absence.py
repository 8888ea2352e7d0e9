"""Tests of the absence timer on a hand-moved clock: one alert per silence, retries, replicas, the thread."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from contracts import Envelope
from notifier.absence import PRUNE_EVERY_S, AbsenceWatch
from notifier.handler import Notifier
from notifier.manifest import MANIFEST
from notifier.rules.loader import parse_rules
from notifier.testing import InMemoryChannel, InMemoryStateStore
from shared.errors import RetryableError
from shared.testkit.envelopes import FakeClock, envelope
from shared.testkit.samples import load_sample

START = datetime(2025, 6, 1, 0, 0, tzinfo=UTC).timestamp()
RULES = """\
defaults: {channels: [a]}
webhooks:
  a: {url: "http://127.0.0.1:9/a", secret: s, allow_private: true}
rules:
  - name: quiet
    kind: absence
    match: {type: sensor.reading}
    subject: "{data.device_id}"
    after: 10m
    cooldown: 0s
    severity: critical
    message: "no reading from {subject} for {silent_for}"
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=START)


@pytest.fixture
def store() -> InMemoryStateStore:
    return InMemoryStateStore()


@pytest.fixture
def channel() -> InMemoryChannel:
    return InMemoryChannel("a")


def _notifier(store: InMemoryStateStore, channel: InMemoryChannel, clock: FakeClock) -> Notifier:
    rules = parse_rules(RULES, subscriptions=MANIFEST.consumes)
    return Notifier(rules=rules, store=store, channels={"a": channel}, lease_s=60, clock=clock)


@pytest.fixture
def notifier(store: InMemoryStateStore, channel: InMemoryChannel, clock: FakeClock) -> Notifier:
    return _notifier(store, channel, clock)


@pytest.fixture
def watch(notifier: Notifier, store: InMemoryStateStore, clock: FakeClock) -> AbsenceWatch:
    return AbsenceWatch(notifier=notifier, store=store, interval_s=30, max_attempts=3, clock=clock)


def _reading(device: str, at: float) -> Envelope:
    data = load_sample("sensor.reading", 2)["data"] | {"device_id": device}
    return envelope("sensor.reading", 2, data=data, time=datetime.fromtimestamp(at, UTC).isoformat())


def test_a_silent_device_raises_one_alert(
    notifier: Notifier, watch: AbsenceWatch, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """Seen at t0: quiet before t0+10m, one alert after, and no second one for the same silence."""
    notifier([_reading("dev-1", START), _reading("dev-2", START + 300)])
    clock.advance(599)
    assert watch.check() == {}
    clock.advance(2)
    assert watch.check() == {"sent": 1}
    [sent] = channel.sent
    assert (sent.alert.subject, sent.alert.severity) == ("dev-1", "critical")
    assert sent.alert.message == "no reading from dev-1 for 10m"
    clock.advance(60)
    assert watch.check() == {}
    clock.advance(300)
    assert watch.check() == {"sent": 1}
    assert [n.alert.subject for n in channel.sent] == ["dev-1", "dev-2"]


def test_a_new_sighting_ends_the_silence_and_a_later_one_alerts_again(
    notifier: Notifier, watch: AbsenceWatch, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """Each silence is its own alert (keyed by the last sighting)."""
    notifier([_reading("dev-1", START)])
    clock.advance(700)
    watch.check()
    notifier([_reading("dev-1", clock())])
    clock.advance(300)
    assert watch.check() == {}
    clock.advance(400)
    watch.check()
    assert [n.alert.key for n in channel.sent] == [
        f"absence:dev-1:{round(START * 1000)}",
        f"absence:dev-1:{round((START + 700) * 1000)}",
    ]


def test_a_late_old_reading_does_not_reopen_a_silence(
    notifier: Notifier, watch: AbsenceWatch, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """Sightings only move forward: a replayed older reading changes nothing."""
    notifier([_reading("dev-1", START + 100)])
    notifier([_reading("dev-1", START)])
    clock.advance(701)
    watch.check()
    assert [n.alert.key for n in channel.sent] == [f"absence:dev-1:{round((START + 100) * 1000)}"]


def test_a_failing_delivery_is_retried_each_pass_then_abandoned(
    notifier: Notifier,
    watch: AbsenceWatch,
    channel: InMemoryChannel,
    clock: FakeClock,
    store: InMemoryStateStore,
) -> None:
    """No DLQ for timer alerts: after ``max_attempts`` the alert is abandoned with an error log."""
    notifier([_reading("dev-1", START)])
    clock.advance(601)
    channel.fail_with.extend(RetryableError("down") for _ in range(5))
    with capture_logs() as logs:
        outcomes = [watch.check() for _ in range(5)]
    assert outcomes == [{"failed": 1}] * 3 + [{"abandoned": 1}, {}]
    [abandoned] = [e for e in logs if e["event"] == "alert_abandoned"]
    assert (abandoned["log_level"], abandoned["attempts"], abandoned["error"]) == ("error", 3, "a: down")
    assert channel.sent == []


def test_a_failure_that_recovers_is_delivered_on_the_next_pass(
    notifier: Notifier, watch: AbsenceWatch, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """A channel that fails once gets the alert on the next pass."""
    notifier([_reading("dev-1", START)])
    clock.advance(601)
    channel.fail_with.append(RetryableError("down"))
    assert watch.check() == {"failed": 1}
    assert watch.check() == {"sent": 1}


def test_two_replicas_alert_once(
    store: InMemoryStateStore, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """Every replica runs the timer; the state store's claim lets one notification through."""
    watches = []
    for _ in range(2):
        notifier = _notifier(store, channel, clock)
        watches.append(AbsenceWatch(notifier=notifier, store=store, interval_s=30, clock=clock))
    watches[0]._notifier([_reading("dev-1", START)])
    clock.advance(601)
    assert [w.check() for w in watches] == [{"sent": 1}, {"duplicate": 1}]
    assert [w.check() for w in watches] == [{}, {}]
    assert len(channel.sent) == 1


def test_state_is_pruned_at_most_hourly(
    watch: AbsenceWatch, store: InMemoryStateStore, clock: FakeClock
) -> None:
    """The timer prunes expired state on its first pass and then once an hour."""
    calls: list[float] = []
    store.prune = lambda *, now: calls.append(now) or 0  # type: ignore[method-assign]
    for _ in range(3):
        watch.check()
        clock.advance(PRUNE_EVERY_S / 2)
    assert calls == [START, START + PRUNE_EVERY_S]


def test_the_timer_thread_checks_until_stopped(
    notifier: Notifier, store: InMemoryStateStore, channel: InMemoryChannel, clock: FakeClock
) -> None:
    """``start`` checks every ``interval_s`` on a thread; ``stop`` ends it; store outages are survived."""
    notifier([_reading("dev-1", START)])
    clock.advance(601)
    store.down = True
    watch = AbsenceWatch(notifier=notifier, store=store, interval_s=0.02, clock=clock)
    with capture_logs() as logs:
        watch.start()
        time.sleep(0.1)
        store.down = False
        deadline = time.monotonic() + 5
        while not channel.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        watch.stop()
    assert len(channel.sent) == 1
    assert any(e["event"] == "absence_check_failed" for e in logs)
    assert watch._thread is not None and not watch._thread.is_alive()
