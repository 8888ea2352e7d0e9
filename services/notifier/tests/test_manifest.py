"""Tests of the notifier's manifest."""

from __future__ import annotations

from notifier.manifest import MANIFEST


def test_it_consumes_every_type_the_example_rules_match() -> None:
    """Readings (v1, upcast, and v2), trades, cat sightings and DLQ depth alarms; the bus rule matches
    exactly those."""
    expected = [
        "cat.sighting.v1",
        "ops.dlq_depth.v1",
        "sensor.reading.v1",
        "sensor.reading.v2",
        "trade.completed.v1",
    ]
    assert sorted(d for s in MANIFEST.consumes for d in s.detail_types) == expected
    assert MANIFEST.event_pattern() == {"detail-type": expected}


def test_it_publishes_to_an_alerts_topic_and_serves_its_log() -> None:
    """Provisioning creates ``tributary-notifier-alerts``; stack.json names the API as ``notifier_url``."""
    assert (MANIFEST.name, MANIFEST.builder, MANIFEST.topics) == (
        "notifier",
        "notifier.bootstrap:build",
        ("alerts",),
    )
    assert MANIFEST.url_key == "notifier_url" and MANIFEST.is_worker
