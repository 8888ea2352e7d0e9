"""Tests of the read API: the notification log and the rules in force."""

from __future__ import annotations

from fastapi.testclient import TestClient

from notifier.api import build_api
from notifier.manifest import MANIFEST
from notifier.model import Alert
from notifier.rules.loader import parse_rules
from notifier.testing import InMemoryStateStore

NOW = 1_750_000_000.0
RULES = parse_rules(
    "defaults: {channels: [log]}\nrules:\n"
    "  - {name: cats, match: {type: cat.sighting}, message: m, cooldown: 1m}\n"
    "  - {name: quiet, kind: absence, match: {type: sensor.reading}, subject: '{data.device_id}',"
    " after: 10m, message: '{subject}'}\n",
    source="rules.yaml",
    subscriptions=MANIFEST.consumes,
)


def _client(store: InMemoryStateStore) -> TestClient:
    return TestClient(build_api(store=store, rules=RULES, clock=lambda: NOW))


def test_alerts_lists_the_log_newest_first() -> None:
    """Each record with its status, channels sent and times in ISO; ``limit`` bounds the list."""
    store = InMemoryStateStore()
    for i in range(3):
        alert = Alert(
            rule="cats",
            key=f"e-{i}",
            subject="c",
            severity="info",
            message=f"m{i}",
            channels=("log",),
            cooldown_s=0,
        )
        store.claim(alert, now=NOW + i, lease_s=60)
    store.mark_sent("cats", "e-2", "log", now=NOW + 3)
    store.settle("cats", "e-2", status="sent", now=NOW + 3)
    body = _client(store).get("/v1/alerts", params={"limit": 2}).json()
    assert [(a["key"], a["status"], a["sent"]) for a in body["alerts"]] == [
        ("e-2", "sent", ["log"]),
        ("e-1", "pending", []),
    ]
    assert body["alerts"][0]["created_at"] == "2025-06-15T15:06:42.000+00:00"


def test_alerts_answers_503_while_the_store_is_down() -> None:
    store = InMemoryStateStore()
    store.down = True
    response = _client(store).get("/v1/alerts")
    assert response.status_code == 503 and "down" in response.json()["detail"]


def test_a_bad_limit_is_refused() -> None:
    assert _client(InMemoryStateStore()).get("/v1/alerts", params={"limit": 0}).status_code == 422


def test_rules_lists_what_is_in_force() -> None:
    """Name, kind, type, versions, severity, cooldown, channels (and ``after_s`` for absence rules)."""
    body = _client(InMemoryStateStore()).get("/v1/rules").json()
    assert body == {
        "source": "rules.yaml",
        "rules": [
            {
                "name": "cats",
                "kind": "event",
                "type": "cat.sighting",
                "versions": [1],
                "severity": "warning",
                "cooldown_s": 60.0,
                "channels": ["log"],
            },
            {
                "name": "quiet",
                "kind": "absence",
                "type": "sensor.reading",
                "versions": [2],
                "severity": "warning",
                "cooldown_s": 300.0,
                "channels": ["log"],
                "after_s": 600.0,
            },
        ],
    }
