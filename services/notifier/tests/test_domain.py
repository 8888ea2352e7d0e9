"""Rule evaluation as a table: events x rules -> alerts, sightings for absence rules, silence alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import Envelope
from notifier.domain import absence_alerts, evaluate, humanize, iso, rate_alert, rate_hits, sightings
from notifier.manifest import MANIFEST
from notifier.rules.loader import parse_rules
from notifier.rules.ruleset import RuleSet
from shared.testkit.envelopes import envelope
from shared.testkit.samples import load_sample

RULES = """\
defaults: {channels: [log], cooldown: 5m}
rules:
  - name: hot-s1
    match: {type: sensor.reading}
    when:
      - {path: data.site_id, eq: S1}
      - {path: data.quantity.value, gt: 80}
    subject: "{data.device_id}"
    severity: critical
    message: "{data.device_id} at {data.site_id}: {data.quantity.value} {data.quantity.unit}"
  - name: any-reading-s2
    match: {type: sensor.reading}
    when:
      - {path: data.site_id, in: [S2]}
    message: "reading at S2"
  - name: lal-trades
    match: {type: trade.completed}
    when:
      - any:
          - {path: "data.movements[*].from_team", eq: LAL}
          - {path: "data.movements[*].to_team", eq: LAL}
    subject: "{data.trade_id}"
    severity: info
    message: "{data.movements[*].player_name}"
  - name: injured-cat
    match: {type: cat.sighting}
    when:
      - {path: data.status, eq: injured}
    subject: "{data.cat_id}"
    message: "injured {data.cat_id} in {data.municipality_name}"
  - name: dlq
    match: {type: ops.dlq_depth}
    when:
      - {path: data.depth, gt: 0}
    subject: "{data.service}"
    message: "{data.depth} in {data.queue}, oldest {data.oldest_age_s}s"
  - name: cat-cluster
    kind: rate
    match: {type: cat.sighting}
    when:
      - {path: data.status, eq: injured}
    subject: "{data.municipality_code}"
    count: 3
    within: 1h
    message: "{rate.count} injured in {data.municipality_name} within {rate.within} from {rate.window_start}"
  - name: silent
    kind: absence
    match: {type: sensor.reading}
    when:
      - {path: data.site_id, ne: S3}
    subject: "{data.device_id}"
    after: 10m
    message: "{subject} silent for {silent_for}"
"""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return parse_rules(RULES, subscriptions=MANIFEST.consumes)


def _reading(*, value: float = 23.4, **data: Any) -> Envelope:
    sample = load_sample("sensor.reading", 2)["data"]
    sample["quantity"]["value"] = value
    return envelope("sensor.reading", 2, data=sample | data)


def _trade(*moves: tuple[str, str]) -> Envelope:
    movements = [
        {"player_id": f"p{i}", "player_name": f"Player {i}", "from_team": a, "to_team": b}
        for i, (a, b) in enumerate(moves)
    ]
    return envelope("trade.completed", data={"trade_id": "t-1", "season": "2024-25", "movements": movements})


def _cat(status: str) -> Envelope:
    return envelope("cat.sighting", data=load_sample("cat.sighting", 1)["data"] | {"status": status})


def _dlq(depth: int) -> Envelope:
    return envelope("ops.dlq_depth", data=load_sample("ops.dlq_depth", 1)["data"] | {"depth": depth})


TABLE = [
    ("hot-reading-at-s1", _reading(site_id="S1", value=80.5), [("hot-s1", "dev-0042", "critical")]),
    ("at-threshold", _reading(site_id="S1", value=80), []),
    ("hot-elsewhere", _reading(site_id="site-tokyo-01", value=99), []),
    ("cool-at-s1", _reading(site_id="S1", value=20), []),
    ("reading-at-s2", _reading(site_id="S2", value=99), [("any-reading-s2", "*", "warning")]),
    ("lal-sends", _trade(("LAL", "DAL"), ("DAL", "LAL")), [("lal-trades", "t-1", "info")]),
    (
        "lal-receives-in-3-team",
        _trade(("BOS", "NYK"), ("NYK", "LAL"), ("LAL", "BOS")),
        [("lal-trades", "t-1", "info")],
    ),
    ("no-lal", _trade(("BOS", "NYK"), ("NYK", "BOS")), []),
    ("injured-cat", _cat("injured"), [("injured-cat", "cat-shinjuku-0107", "warning")]),
    ("healthy-cat", _cat("healthy"), []),
    ("dlq-with-messages", _dlq(3), [("dlq", "archiver", "warning")]),
    ("dlq-emptied", _dlq(0), []),
    ("other-type", envelope("order.placed"), []),
    ("unmatched-site", _reading(site_id="S9"), []),
]


@pytest.mark.parametrize(("event", "expected"), [(e, x) for _, e, x in TABLE], ids=[i for i, _, _ in TABLE])
def test_evaluation_table(rules: RuleSet, event: Envelope, expected: list[tuple[str, str, str]]) -> None:
    """Each event raises exactly the alerts of the rules it satisfies, with their subject and severity."""
    assert [(a.rule, a.subject, a.severity) for a in evaluate(event, rules.rules)] == expected


def test_an_alert_carries_the_event_and_its_rendered_message(rules: RuleSet) -> None:
    """Key = the event id; message from the event's fields; channels and cooldown from the rule."""
    event = _reading(site_id="S1", value=81.25)
    [alert] = evaluate(event, rules.rules)
    assert alert.key == event.id
    assert alert.message == "dev-0042 at S1: 81.25 celsius"
    assert (alert.channels, alert.cooldown_s) == (("log",), 300.0)
    assert alert.event is not None
    assert (alert.event.id, alert.event.type, alert.event.version) == (event.id, "sensor.reading", 2)
    assert alert.event.time == "2025-06-01T09:30:00+09:00"


def test_list_paths_render_every_value(rules: RuleSet) -> None:
    """``{data.movements[*].player_name}`` lists every player."""
    [alert] = evaluate(_trade(("LAL", "DAL"), ("DAL", "LAL")), rules.rules)
    assert alert.message == "Player 0, Player 1"


def test_one_event_can_raise_several_alerts_in_rule_order() -> None:
    """Two rules over the same event: two alerts, each with its own rule."""
    both = parse_rules(
        "defaults: {channels: [log]}\nrules:\n"
        "  - {name: a, match: {type: cat.sighting}, message: a}\n"
        "  - {name: b, match: {type: cat.sighting}, when: [{path: data.ear_tipped, eq: true}], message: b}\n",
        subscriptions=MANIFEST.consumes,
    )
    assert [a.rule for a in evaluate(_cat("healthy"), both.rules)] == ["a", "b"]


def test_sightings_keep_the_latest_time_per_subject(rules: RuleSet) -> None:
    """Absence rules see matching events as sightings: the latest event time per device, in any order."""
    events = [
        envelope(
            "sensor.reading", 2, time="2025-06-01T10:00:00Z", data=load_sample("sensor.reading", 2)["data"]
        ),
        envelope(
            "sensor.reading", 2, time="2025-06-01T10:05:00Z", data=load_sample("sensor.reading", 2)["data"]
        ),
        envelope(
            "sensor.reading", 2, time="2025-06-01T09:00:00Z", data=load_sample("sensor.reading", 2)["data"]
        ),
        _reading(device_id="dev-s3", site_id="S3"),
        _cat("injured"),
    ]
    not_after = datetime(2025, 6, 1, 12, 0, tzinfo=UTC).timestamp()
    assert sightings(events, rules.rules, not_after=not_after) == {
        ("silent", "dev-0042"): datetime(2025, 6, 1, 10, 5, tzinfo=UTC).timestamp()
    }


def test_an_event_timed_after_the_tolerance_is_no_sighting(rules: RuleSet) -> None:
    """An event from the far future does not raise last-seen (it would pin it there for good)."""
    data = load_sample("sensor.reading", 2)["data"]
    events = [
        envelope("sensor.reading", 2, time="2025-06-01T10:00:00Z", data=data),
        envelope("sensor.reading", 2, time="2099-12-31T23:59:59Z", data=data),
        envelope("sensor.reading", 2, time="2025-06-01T12:15:01Z", data=data),
    ]
    not_after = datetime(2025, 6, 1, 12, 15, tzinfo=UTC).timestamp()
    assert sightings(events, rules.rules, not_after=not_after) == {
        ("silent", "dev-0042"): datetime(2025, 6, 1, 10, 0, tzinfo=UTC).timestamp()
    }
    assert sightings(events[:1] + events[2:], rules.rules, not_after=not_after + 1) == {
        ("silent", "dev-0042"): not_after + 1
    }


def test_a_silence_is_one_alert_keyed_by_its_last_sighting(rules: RuleSet) -> None:
    """Silent subjects become alerts whose key names the subject and the last sighting."""
    [rule] = rules.absence_rules
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC).timestamp()
    alerts = absence_alerts(rule, [("dev-1", now - 754.5), ("dev-2", now - 7200)], now=now)
    assert [(a.rule, a.subject, a.key) for a in alerts] == [
        ("silent", "dev-1", f"absence:dev-1:{round((now - 754.5) * 1000)}"),
        ("silent", "dev-2", f"absence:dev-2:{round((now - 7200) * 1000)}"),
    ]
    assert [a.message for a in alerts] == ["dev-1 silent for 12m", "dev-2 silent for 2h"]
    assert alerts[0].event is None
    assert alerts[0].details == {"last_seen": "2025-06-01T11:47:25.500+00:00", "silent_s": 754.5}


def test_a_rate_rule_counts_matching_events_in_the_window_of_their_time(rules: RuleSet) -> None:
    """Each matching event lands in the fixed window holding its time, per subject; others count nowhere."""
    injured = _cat("injured").model_copy(update={"time": datetime(2025, 6, 1, 10, 59, 59, tzinfo=UTC)})
    [hit] = rate_hits(injured, rules.rules)
    start = datetime(2025, 6, 1, 10, 0, tzinfo=UTC).timestamp()
    assert (hit.rule.name, hit.subject, hit.window) == ("cat-cluster", "131041", (start, start + 3600))
    assert hit.key == f"rate:131041:{round(start * 1000)}"
    assert rate_hits(_cat("healthy"), rules.rules) == []
    assert rate_hits(_reading(), rules.rules) == []


@pytest.mark.parametrize(("count", "raised"), [(1, False), (2, False), (3, True), (7, True)])
def test_a_rate_window_raises_its_alert_from_the_rules_count(
    rules: RuleSet, count: int, raised: bool
) -> None:
    """Below the count nothing; at or above it one alert keyed by the window, carrying the event."""
    event = _cat("injured").model_copy(update={"time": datetime(2025, 6, 1, 10, 30, tzinfo=UTC)})
    [hit] = rate_hits(event, rules.rules)
    alert = rate_alert(hit, count)
    if not raised:
        assert alert is None
        return
    assert alert is not None
    assert (alert.rule, alert.key, alert.subject) == ("cat-cluster", hit.key, "131041")
    assert alert.message == f"{count} injured in 新宿区 within 1h from 2025-06-01T10:00:00.000+00:00"
    assert alert.event is not None and alert.event.id == event.id
    assert alert.details == {
        "count": count,
        "within_s": 3600.0,
        "window_start": "2025-06-01T10:00:00.000+00:00",
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (3900, "1h5m"),
        (90000, "1d1h"),
        (172800, "2d"),
        (-5, "0s"),
    ],
)
def test_humanize(seconds: float, text: str) -> None:
    """Durations read the way people say them."""
    assert humanize(seconds) == text


def test_iso_is_utc_to_the_millisecond() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000+00:00"
