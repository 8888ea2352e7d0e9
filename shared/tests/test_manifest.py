"""Tests of service manifests and the event patterns built from them."""

from __future__ import annotations

import pytest

from shared.manifest import ServiceManifest, Subscription, load_manifests


def test_typed_subscriptions_match_their_detail_types() -> None:
    """A worker consuming two versions of one type and one of another gets a detail-type list."""
    manifest = ServiceManifest(
        name="w",
        consumes=(
            Subscription(type="sensor.reading", versions=(1, 2)),
            Subscription(type="cat.sighting", versions=(1,)),
        ),
    )
    assert manifest.event_pattern() == {
        "detail-type": ["cat.sighting.v1", "sensor.reading.v1", "sensor.reading.v2"]
    }


def test_star_subscription_matches_every_envelope() -> None:
    """``*`` matches any event that carries an envelope id."""
    manifest = ServiceManifest(name="a", consumes=(Subscription(type="*"),))
    assert manifest.event_pattern() == {"detail": {"id": [{"exists": True}]}}


def test_http_only_service_has_no_pattern() -> None:
    """A service that consumes nothing has no rule."""
    with pytest.raises(ValueError, match="consumes no events"):
        ServiceManifest(name="ingest", http=True).event_pattern()


def test_installed_services_are_discovered() -> None:
    """The workspace's services register their manifests through entry points."""
    names = [m.name for m in load_manifests()]
    assert {"ingest", "archiver"} <= set(names)
