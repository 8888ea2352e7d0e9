"""Tests of graph_writer's manifest: it subscribes to exactly what its handlers map."""

from __future__ import annotations

from graph_writer.domain import HANDLED
from graph_writer.manifest import MANIFEST
from shared.manifest import load_manifests


def test_the_subscriptions_are_the_handled_contracts() -> None:
    """One subscription per handled type, its newest version the handled one; the rule routes every
    subscribed version (older ones are upcast by the runtime)."""
    newest = sorted((s.type, max(s.versions)) for s in MANIFEST.consumes)
    assert newest == sorted(HANDLED)
    assert MANIFEST.event_pattern() == {
        "detail-type": sorted([*(f"{t}.v{v}" for t, v in HANDLED), "sensor.reading.v1"])
    }


def test_it_serves_http_and_names_its_url_key() -> None:
    """A read API on its HTTP port, published as ``graph_url``; built by ``graph_writer.bootstrap:build``."""
    assert MANIFEST.http and MANIFEST.url_key == "graph_url"
    assert MANIFEST.builder == "graph_writer.bootstrap:build" and MANIFEST.name == "graph_writer"


def test_it_is_installed_as_a_service() -> None:
    """The ``tributary.services`` entry point exposes this manifest."""
    assert MANIFEST in load_manifests()
