"""Tests of the notifier's batch handler: once-only per channel, cooldowns, failures and their retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from contracts import Envelope
from notifier.domain import evaluate
from notifier.handler import DeliveryError, Notifier
from notifier.manifest import MANIFEST
from notifier.rules.loader import parse_rules
from notifier.rules.ruleset import RuleSet
from notifier.testing import InMemoryChannel, InMemoryStateStore
from shared.errors import PermanentError, RetryableError
from shared.testkit.envelopes import FakeClock, envelope
from shared.testkit.samples import load_sample
from shared.testkit.waiting import wait_for

LEASE_S = 60.0
RULES = """\
defaults: {channels: [a, b], cooldown: 5m}
webhooks:
  a: {url: "http://127.0.0.1:9/a", secret: s, allow_private: true}
  b: {url: "http://127.0.0.1:9/b", secret: s, allow_private: true}
rules:
  - name: hot
    match: {type: sensor.reading}
    when: [{path: data.quantity.value, gt: 80}]
    subject: "{data.device_id}"
    message: "{data.device_id}: {data.quantity.value}"
  - name: every-cat
    match: {type: cat.sighting}
    cooldown: 0s
    channels: [a]
    message: "{data.cat_id}"
  - name: cat-cluster
    kind: rate
    match: {type: cat.sighting}
    subject: "{data.municipality_code}"
    count: 3
    within: 10m
    cooldown: 0s
    channels: [b]
    message: "{rate.count} cats"
  - name: quiet
    kind: absence
    match: {type: sensor.reading}
    subject: "{data.device_id}"
    after: 20m
    message: "{subject}"
"""


@pytest.fixture
def rules() -> RuleSet:
    return parse_rules(RULES, subscriptions=MANIFEST.consumes)


@pytest.fixture
def store() -> InMemoryStateStore:
    return InMemoryStateStore()


@pytest.fixture
def channels() -> dict[str, InMemoryChannel]:
    return {"a": InMemoryChannel("a"), "b": InMemoryChannel("b")}


@pytest.fixture
def notifier(
    rules: RuleSet, store: InMemoryStateStore, channels: dict[str, InMemoryChannel], clock: FakeClock
) -> Notifier:
    return Notifier(rules=rules, store=store, channels=channels, lease_s=LEASE_S, clock=clock)


def _hot(device: str = "dev-1", value: float = 90.0, **overrides: Any) -> Envelope:
    data = load_sample("sensor.reading", 2)["data"] | {"device_id": device}
    data["quantity"]["value"] = value
    return envelope("sensor.reading", 2, data=data, **overrides)


def _cat(minute: int, second: int = 0, municipality: str = "131041") -> Envelope:
    data = load_sample("cat.sighting", 1)["data"] | {"municipality_code": municipality}
    return envelope("cat.sighting", data=data, time=f"2025-06-01T10:{minute:02d}:{second:02d}Z")


def _sent(channel: InMemoryChannel) -> list[tuple[str, str]]:
    return [(n.alert.rule, n.alert.key) for n in channel.sent]


def test_an_alert_reaches_every_channel_once(
    notifier: Notifier, channels: dict[str, InMemoryChannel]
) -> None:
    """A matching event is delivered to each of the rule's channels, once, and logged as sent."""
    event = _hot()
    with capture_logs() as logs:
        assert notifier([event, _hot(value=20)]) == {}
    assert _sent(channels["a"]) == _sent(channels["b"]) == [("hot", event.id)]
    [sent] = [e for e in logs if e["event"] == "alert_sent"]
    assert (sent["rule"], sent["subject"], sent["key"], sent["channels"]) == (
        "hot",
        "dev-1",
        event.id,
        ["a", "b"],
    )


def test_a_redelivered_event_sends_nothing(
    notifier: Notifier, channels: dict[str, InMemoryChannel], clock: FakeClock
) -> None:
    """The same event again (a redelivery, a redrive, a producer resend) finds its notification done."""
    event = _hot()
    notifier([event])
    clock.advance(3600)
    with capture_logs() as logs:
        assert notifier([event]) == {}
    assert len(channels["a"].sent) == len(channels["b"].sent) == 1
    assert [e["status"] for e in logs if e["event"] == "alert_duplicate"] == ["sent"]


def test_cooldown_suppresses_the_subject_until_it_ends(
    notifier: Notifier, channels: dict[str, InMemoryChannel], store: InMemoryStateStore, clock: FakeClock
) -> None:
    """Within the cooldown a second alert for the subject is suppressed; another subject is not; after it,
    the subject alerts again."""
    first, second, other, later = _hot(), _hot(), _hot("dev-2"), _hot()
    notifier([first])
    clock.advance(299)
    with capture_logs() as logs:
        assert notifier([second, other]) == {}
    assert [e["key"] for e in logs if e["event"] == "alert_suppressed"] == [second.id]
    clock.advance(1)
    notifier([later])
    assert _sent(channels["a"]) == [("hot", first.id), ("hot", other.id), ("hot", later.id)]
    assert store.notifications[("hot", second.id)].record.status == "suppressed"


def test_no_cooldown_alerts_every_event(notifier: Notifier, channels: dict[str, InMemoryChannel]) -> None:
    """``cooldown: 0s``: every matching event alerts."""
    cats = [envelope("cat.sighting") for _ in range(3)]
    notifier(cats)
    assert _sent(channels["a"]) == [("every-cat", c.id) for c in cats]


def test_a_failed_channel_is_retried_alone_with_the_same_delivery_id(
    notifier: Notifier, channels: dict[str, InMemoryChannel]
) -> None:
    """a succeeds, b fails: the event fails as retryable; its next delivery sends to b only."""
    event = _hot()
    channels["b"].fail_with.append(RetryableError("b: answered 503"))
    failures = notifier([event])
    assert list(failures) == [event.id] and isinstance(failures[event.id], RetryableError)
    assert "answered 503" in str(failures[event.id])
    assert notifier([event]) == {}
    assert (channels["a"].calls, channels["b"].calls) == (1, 2)
    assert _sent(channels["a"]) == _sent(channels["b"]) == [("hot", event.id)]
    assert channels["b"].sent[0].delivery_id == channels["b"].sent[0].alert.delivery_id("b")


def test_a_permanent_refusal_dead_letters_and_a_redrive_resumes(
    notifier: Notifier, channels: dict[str, InMemoryChannel], store: InMemoryStateStore
) -> None:
    """A channel that refuses for good fails the event permanently (DLQ); after a fix, a redrive sends
    only to that channel."""
    event = _hot()
    channels["b"].fail_with.append(PermanentError("b: answered 401"))
    failures = notifier([event])
    assert isinstance(failures[event.id], PermanentError)
    record = store.notifications[("hot", event.id)].record
    assert (record.status, record.sent, record.error) == ("failed", frozenset({"a"}), "b: b: answered 401")
    assert notifier([event]) == {}
    assert (len(channels["a"].sent), len(channels["b"].sent)) == (1, 1)


def test_retryable_wins_over_permanent(notifier: Notifier, channels: dict[str, InMemoryChannel]) -> None:
    """If any channel may recover, the event is retried rather than dead-lettered at once."""
    channels["a"].fail_with.append(PermanentError("a refused"))
    channels["b"].fail_with.append(RetryableError("b down"))
    failure = notifier([_hot()]).popitem()[1]
    assert isinstance(failure, DeliveryError) and "a refused" in str(failure) and "b down" in str(failure)


def test_a_channel_down_fails_the_rest_of_the_batch_fast(
    notifier: Notifier, channels: dict[str, InMemoryChannel]
) -> None:
    """After a channel gave up once in a batch, later alerts to it fail at once instead of retrying again."""
    channels["b"].fail_with.append(RetryableError("b down"))
    events = [_hot(f"dev-{i}") for i in range(3)]
    failures = notifier(events)
    assert set(failures) == {e.id for e in events}
    assert channels["b"].calls == 1 and channels["a"].calls == 3
    assert "failed earlier in this batch" in str(failures[events[2].id])


def test_an_alert_another_worker_holds_is_retried_later(
    notifier: Notifier, store: InMemoryStateStore, channels: dict[str, InMemoryChannel], clock: FakeClock
) -> None:
    """A claim leased by another replica: the event fails as retryable and nothing is sent."""
    event = _hot()
    [hot] = evaluate(event, notifier.rules.rules)
    store.claim(hot, now=clock(), lease_s=LEASE_S)
    failures = notifier([event])
    assert isinstance(failures[event.id], RetryableError) and "another worker" in str(failures[event.id])
    assert channels["a"].calls == 0
    clock.advance(LEASE_S)
    assert notifier([event]) == {}
    assert channels["a"].calls == 1


def test_a_crash_between_send_and_mark_resends_once_with_the_same_delivery_id(
    notifier: Notifier, store: InMemoryStateStore, channels: dict[str, InMemoryChannel], clock: FakeClock
) -> None:
    """The documented edge: sent but not marked (the store went down) -> the next delivery, after the lease,
    sends to that channel again, carrying the same delivery id so the receiver can drop it."""
    event = _hot()
    real_mark = store.mark_sent

    def mark_then_crash(rule: str, key: str, channel: str, *, now: float) -> None:
        store.down = True
        raise RetryableError("state store is down")

    store.mark_sent = mark_then_crash  # type: ignore[method-assign]
    failures = notifier([event])
    assert isinstance(failures[event.id], RetryableError)
    store.mark_sent = real_mark  # type: ignore[method-assign]
    store.down = False
    clock.advance(LEASE_S)
    assert notifier([event]) == {}
    ids = [n.delivery_id for n in channels["a"].sent]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert len(channels["b"].sent) == 1


def test_a_partly_sent_alert_is_finished_even_after_its_cooldown_passed_to_another(
    notifier: Notifier, channels: dict[str, InMemoryChannel], clock: FakeClock
) -> None:
    """Once a channel has an alert, its remaining channels get it too: the cooldown is not asked again."""
    first = _hot()
    channels["b"].fail_with.append(RetryableError("b down"))
    notifier([first])
    clock.advance(301)
    second = _hot()
    assert notifier([second]) == {}
    assert notifier([first]) == {}
    assert _sent(channels["b"]) == [("hot", second.id), ("hot", first.id)]


def test_a_store_outage_fails_the_events_as_retryable(
    notifier: Notifier, store: InMemoryStateStore, channels: dict[str, InMemoryChannel]
) -> None:
    """No state, no sending: the batch fails as retryable and nothing reaches a channel."""
    store.down = True
    with pytest.raises(RetryableError):
        notifier([_hot()])
    cats_only = Notifier(
        rules=parse_rules(RULES.split("  - name: quiet")[0], subscriptions=MANIFEST.consumes),
        store=store,
        channels=channels,
        lease_s=LEASE_S,
    )
    event = envelope("cat.sighting")
    assert isinstance(cats_only([event])[event.id], RetryableError)
    assert channels["a"].calls == 0


def test_events_no_rule_matches_touch_nothing(channels: dict[str, InMemoryChannel], clock: FakeClock) -> None:
    """Orders match no rule: no state is read or written."""
    store = InMemoryStateStore()
    store.down = True
    notifier = Notifier(
        rules=parse_rules("rules: []\n", subscriptions=MANIFEST.consumes), store=store, channels={}, lease_s=1
    )
    assert notifier([envelope("order.placed"), _hot()]) == {}


def test_sightings_are_written_at_most_every_twentieth_of_the_silence(
    notifier: Notifier, store: InMemoryStateStore
) -> None:
    """A chatty device costs one write per ``after / 20`` (here 60 s) of event time, not one per event."""
    writes: list[dict[tuple[str, str], float]] = []
    real = store.record_sightings

    def counting(seen: Any, *, now: float) -> None:
        writes.append(dict(seen))
        real(seen, now=now)

    store.record_sightings = counting  # type: ignore[method-assign]
    for second in (0, 30, 59, 60, 61, 200):
        notifier([_hot(value=10, time=f"2025-06-01T00:{second // 60:02d}:{second % 60:02d}Z")])
    assert [w[("quiet", "dev-1")] - 1748736000 for w in writes] == [0, 60, 200]


def test_a_rule_without_a_built_channel_is_refused(rules: RuleSet, store: InMemoryStateStore) -> None:
    """Wiring must provide every channel the rules use."""
    with pytest.raises(ValueError, match="no channel built for b"):
        Notifier(rules=rules, store=store, channels={"a": InMemoryChannel("a")}, lease_s=1)


def test_a_rate_window_alerts_once_when_it_reaches_the_count(
    notifier: Notifier, channels: dict[str, InMemoryChannel]
) -> None:
    """The third event of a window raises one alert; more events, redeliveries and other windows do not
    raise it again, and another subject's window is its own."""
    first = [_cat(1), _cat(2)]
    assert notifier(first) == {}
    assert _sent(channels["b"]) == []
    third = _cat(9, 59)
    assert notifier([third, _cat(5, municipality="131013")]) == {}
    assert [(n.alert.rule, n.alert.message) for n in channels["b"].sent] == [("cat-cluster", "3 cats")]
    assert notifier([*first, third, _cat(4), _cat(3, municipality="131013")]) == {}  # redelivered + a 4th
    assert notifier([_cat(10), _cat(11)]) == {}  # the next window holds 2
    assert len(channels["b"].sent) == 1
    assert channels["b"].sent[0].alert.event is not None
    assert channels["b"].sent[0].alert.event.id == third.id


def test_a_rate_window_counts_events_whatever_order_they_arrive_in(
    notifier: Notifier, channels: dict[str, InMemoryChannel]
) -> None:
    """Windows are placed by event time: late events count in their own window, and duplicates once."""
    late = _cat(2)
    assert notifier([_cat(15), late, late, _cat(12)]) == {}
    assert _sent(channels["b"]) == []
    assert notifier([_cat(8), _cat(19)]) == {}
    assert len(channels["b"].sent) == 1


def test_a_rate_count_the_store_cannot_take_is_retried(
    notifier: Notifier, store: InMemoryStateStore, channels: dict[str, InMemoryChannel]
) -> None:
    """A store outage while counting fails the event as retryable; its retry counts it once."""
    notifier([_cat(1), _cat(2)])
    third = _cat(3)
    store.down = True
    failures = notifier([third])
    assert isinstance(failures[third.id], RetryableError)
    store.down = False
    assert notifier([third]) == {}
    assert len(channels["b"].sent) == 1


def test_an_alert_that_reached_no_channel_does_not_hold_the_cooldown(
    notifier: Notifier, channels: dict[str, InMemoryChannel], store: InMemoryStateStore, clock: FakeClock
) -> None:
    """Every channel failed: the cooldown is released, so the subject's next alert is sent, not suppressed;
    the failed one, retried after it, is then the suppressed one (one notification per cooldown)."""
    failed, next_ = _hot(), _hot()
    channels["a"].fail_with.append(RetryableError("a down"))
    channels["b"].fail_with.append(RetryableError("b down"))
    assert set(notifier([failed])) == {failed.id}
    clock.advance(10)
    assert notifier([next_]) == {}
    assert _sent(channels["a"]) == _sent(channels["b"]) == [("hot", next_.id)]
    assert notifier([failed]) == {}
    assert store.notifications[("hot", failed.id)].record.status == "suppressed"
    assert store.notifications[("hot", next_.id)].record.status == "sent"


def test_an_alert_that_reached_a_channel_keeps_the_cooldown(
    notifier: Notifier, channels: dict[str, InMemoryChannel], store: InMemoryStateStore, clock: FakeClock
) -> None:
    """One channel has it: the subject was notified, so its next alert within the cooldown is suppressed."""
    partly, next_ = _hot(), _hot()
    channels["b"].fail_with.append(RetryableError("b down"))
    assert set(notifier([partly])) == {partly.id}
    clock.advance(10)
    assert notifier([next_]) == {}
    assert store.notifications[("hot", next_.id)].record.status == "suppressed"


class _SlowChannel(InMemoryChannel):
    """Calls ``during_send`` inside each send: a channel that takes its time."""

    def __init__(self, name: str, during_send: Any) -> None:
        super().__init__(name)
        self._during_send = during_send

    def send(self, notification: Any) -> None:
        self._during_send()
        super().send(notification)


def test_a_slow_send_keeps_its_claim_from_other_replicas(
    rules: RuleSet, store: InMemoryStateStore, clock: FakeClock
) -> None:
    """While a channel takes longer than the lease, the heartbeat extends it: another replica reaching the
    same alert finds it busy and sends nothing."""
    event = _hot()
    [alert] = evaluate(event, rules.rules)
    rival: list[str] = []

    def outlast_the_lease() -> None:
        clock.advance(2 * LEASE_S)
        held = store.notifications[("hot", event.id)]
        wait_for(lambda: held.lease_until > clock(), timeout_s=30, interval_s=0.01, what="lease extended")
        rival.append(store.claim(alert, now=clock(), lease_s=LEASE_S).outcome)

    channels = {"a": _SlowChannel("a", outlast_the_lease), "b": InMemoryChannel("b")}
    notifier = Notifier(
        rules=rules, store=store, channels=channels, lease_s=LEASE_S, heartbeat_s=0.01, clock=clock
    )
    assert notifier([event]) == {}
    assert rival == ["busy"]
    assert len(channels["a"].sent) == len(channels["b"].sent) == 1
    assert store.notifications[("hot", event.id)].record.status == "sent"


def test_an_event_from_the_far_future_does_not_pin_last_seen(
    notifier: Notifier, store: InMemoryStateStore, clock: FakeClock
) -> None:
    """A year-2099 reading is no sighting; one within the tolerance of now is."""
    notifier([_hot(value=10, time="2099-12-31T23:59:59Z")])
    assert store.last_seen == {}
    soon = clock() + 600
    notifier([_hot(value=10, time=datetime.fromtimestamp(soon, UTC).isoformat())])
    assert store.last_seen[("quiet", "dev-1")][0] == soon
