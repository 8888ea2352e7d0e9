"""Tests of publishing through ingest's HTTP API: the real ingest app over an in-memory bus."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tenacity import wait_none

from contracts import Envelope
from ingest.app import create_app
from ingest.auth import Authenticator
from ingest.domain import Limits
from ingest.ports import PublishFailure
from ingest.ratelimit import RateLimit, RateLimiter
from ingest.testing import InMemoryPublisher
from shared.credential_stores import InMemoryCredentialStore
from shared.credentials import CredentialDocument
from shared.putevents import entry_size
from tributary_sdk import INVALID, AsyncPublisher, Publisher
from tributary_sdk.events import prepare
from tributary_sdk.ingest import (
    API_KEY_ENV,
    MAX_EVENTS_PER_REQUEST,
    AsyncIngestTransport,
    IngestTransport,
    auth_headers,
)

from .conftest import sample_event

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"


class FlakyBus(InMemoryPublisher):
    """Fails each event's first publish as retryable (ingest then answers 503 naming it)."""

    def __init__(self) -> None:
        self.tried: set[str] = set()
        super().__init__(fail=self._first_time)

    def _first_time(self, envelope: Envelope) -> PublishFailure | None:
        if envelope.id in self.tried:
            return None
        self.tried.add(envelope.id)
        return PublishFailure(index=0, code="ThrottlingException", message="slow down", retryable=True)


def _app(bus: InMemoryPublisher) -> Any:
    return create_app(publisher=bus, limits=Limits(), max_body_bytes=16 * 1024 * 1024)


def test_events_go_in_requests_of_at_most_ingest_limit_with_the_trace() -> None:
    """1,100 events: three requests; every event published once, with the caller's trace."""
    bus = InMemoryPublisher()
    client = TestClient(_app(bus))
    publisher = Publisher(transport=IngestTransport(client=client), source="tests.sdk")
    results = publisher.publish(
        [sample_event() for _ in range(2 * MAX_EVENTS_PER_REQUEST + 100)], trace=TRACE
    )
    assert all(r.ok for r in results) and len(results) == 1100
    assert sorted(e.id for e in bus.published) == sorted(r.id for r in results if r.id)
    assert {e.trace for e in bus.published} == {TRACE}


def test_events_ingest_could_not_publish_are_resent_with_the_same_id() -> None:
    """ingest's 503 names the retryable events; only those are sent again, and arrive once."""
    bus = FlakyBus()
    publisher = Publisher(
        transport=IngestTransport(client=TestClient(_app(bus)), wait=wait_none()), source="tests.sdk"
    )
    results = publisher.publish([sample_event() for _ in range(20)])
    assert all(r.ok for r in results)
    assert sorted(e.id for e in bus.published) == sorted(r.id for r in results if r.id)


def test_invalid_events_never_reach_ingest() -> None:
    bus = InMemoryPublisher()
    publisher = Publisher(transport=IngestTransport(client=TestClient(_app(bus))), source="tests.sdk")
    bad = sample_event()
    bad.data["quality"] = "fine"  # type: ignore[index]
    results = publisher.publish([bad, sample_event()])
    assert [(r.ok, r.code) for r in results] == [(False, INVALID), (True, None)]
    assert len(bus.published) == 1


def test_an_unreachable_ingest_is_a_result_per_event() -> None:
    """Nothing listens: each event fails with the transport error after the attempts, nothing raises."""
    publisher = Publisher.to_ingest(
        "http://127.0.0.1:9", source="tests.sdk", max_attempts=2, wait=wait_none()
    )
    results = publisher.publish([sample_event(), sample_event()])
    assert [r.ok for r in results] == [False, False] and results[0].code == "ConnectError"


def test_async_publisher_through_ingest() -> None:
    bus = FlakyBus()
    transport = httpx.ASGITransport(app=_app(bus))

    async def run() -> list[Any]:
        client = httpx.AsyncClient(transport=transport, base_url="http://ingest")
        async with AsyncPublisher(
            transport=AsyncIngestTransport(client=client, wait=wait_none()), source="tests.sdk"
        ) as publisher:
            return await publisher.publish([sample_event() for _ in range(30)])

    results = asyncio.run(run())
    assert all(r.ok for r in results)
    assert sorted(e.id for e in bus.published) == sorted(r.id for r in results if r.id)


def test_requests_are_cut_by_size_too() -> None:
    """Events adding up past the body budget go in more than one request."""
    bus = InMemoryPublisher()
    client = TestClient(_app(bus))
    sizes: list[int] = []
    client.event_hooks["request"].append(lambda request: sizes.append(len(request.content)))
    events = [sample_event() for _ in range(400)]
    one = entry_size(prepare(events[:1], source="s", bus_name="b", trace=TRACE)[0][0].entry)
    transport = IngestTransport(client=client, max_body_bytes=one * 150)
    results = Publisher(transport=transport, source="tests.sdk").publish(events)
    assert all(r.ok for r in results) and len(sizes) == 3


def _keyed_app(bus: InMemoryPublisher, limiter: RateLimiter | None = None) -> tuple[Any, str]:
    doc, key = CredentialDocument().with_key("sdk", sources=("tests.*",), types=("*",))
    app = create_app(
        publisher=bus,
        limits=Limits(),
        max_body_bytes=16 * 1024 * 1024,
        authenticator=Authenticator(InMemoryCredentialStore(doc)),
        rate_limiter=limiter,
    )
    return app, key


def test_the_api_key_authenticates_the_publisher() -> None:
    """With its key the publisher's events go through; without, each event fails with ingest's 401 reason,
    and is not retried."""
    bus = InMemoryPublisher()
    app, key = _keyed_app(bus)
    keyed = Publisher(
        transport=IngestTransport(client=TestClient(app, headers=auth_headers(key))), source="tests.sdk"
    )
    assert all(r.ok for r in keyed.publish([sample_event(), sample_event()]))
    sent: list[int] = []
    anonymous = TestClient(app)
    anonymous.event_hooks["request"].append(lambda request: sent.append(1))
    results = Publisher(transport=IngestTransport(client=anonymous), source="tests.sdk").publish(
        [sample_event()]
    )
    assert [(r.ok, r.code) for r in results] == [(False, "HTTP401")]
    assert "API key" in (results[0].message or "") and len(sent) == 1
    assert len(bus.published) == 2


def test_the_api_key_comes_from_the_environment_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRIBUTARY_API_KEY`` is the default key; an explicit one wins; no key, no header."""
    monkeypatch.setenv(API_KEY_ENV, "trb_env")
    assert auth_headers() == {"authorization": "Bearer trb_env"}
    assert auth_headers("trb_given") == {"authorization": "Bearer trb_given"}
    monkeypatch.delenv(API_KEY_ENV)
    assert auth_headers() == {}


def test_a_rate_limited_request_is_sent_again() -> None:
    """ingest's 429 is retried (the whole request), and the events then arrive once."""
    ticks = iter(range(0, 1000, 5))
    bus = InMemoryPublisher()
    app, key = _keyed_app(bus, RateLimiter(RateLimit(rate=1, burst=10), clock=lambda: float(next(ticks))))
    client = TestClient(app, headers=auth_headers(key))
    statuses: list[int] = []
    client.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
    publisher = Publisher(transport=IngestTransport(client=client, wait=wait_none()), source="tests.sdk")
    assert all(r.ok for r in publisher.publish([sample_event() for _ in range(10)]))
    assert all(r.ok for r in publisher.publish([sample_event() for _ in range(10)]))
    assert statuses == [202, 429, 202] and len(bus.published) == 20
