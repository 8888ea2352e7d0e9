"""Tests of producer authentication, authorisation and rate limits at the HTTP API (in-memory store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.app import create_app
from ingest.auth import Authenticator
from ingest.domain import Limits
from ingest.ratelimit import RateLimit, RateLimiter
from ingest.testing import InMemoryPublisher
from shared.credential_stores import InMemoryCredentialStore
from shared.credentials import CredentialDocument, key_id_of
from shared.testkit.samples import load_sample

JSON = {"content-type": "application/json"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Keys:
    """A credential store with a shop producer, a platform producer, and a clock for refreshes."""

    def __init__(self) -> None:
        doc, self.shop = CredentialDocument().with_key("shop", sources=("shop.*",), types=("order.*",))
        doc, self.platform = doc.with_key(
            "platform", sources=("tributary.*",), types=("ops.*",), platform=True
        )
        self.store = InMemoryCredentialStore(doc)
        self.clock = Clock()


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def client(keys: Keys, publisher: InMemoryPublisher) -> Iterator[TestClient]:
    app = create_app(
        publisher=publisher,
        limits=Limits(max_events=10, max_event_bytes=4096),
        max_body_bytes=64 * 1024,
        authenticator=Authenticator(keys.store, refresh_s=5, clock=keys.clock),
        rate_limiter=RateLimiter(RateLimit(rate=1, burst=12), clock=keys.clock),
    )
    with TestClient(app) as client:
        yield client


def _post(client: TestClient, events: list[dict[str, Any]], **headers: str) -> Any:
    return client.post("/v1/events", content=json.dumps({"events": events}), headers=JSON | headers)


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_a_producer_with_its_key_publishes_its_events(
    client: TestClient, keys: Keys, publisher: InMemoryPublisher
) -> None:
    """Bearer or X-Api-Key: both authenticate."""
    assert _post(client, [load_sample("order.placed", 1)], **_bearer(keys.shop)).status_code == 202
    event = load_sample("order.placed", 1) | {"id": "01JWQ71Y28YK5BJFWQ57TP60K3"}
    assert _post(client, [event], **{"x-api-key": keys.shop}).status_code == 202
    assert len(publisher.published) == 2


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "send a producer API key"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "must be 'Bearer <API key>'"),
        ({"authorization": "Bearer not-a-key-CANARY"}, "not a Tributary API key"),
    ],
)
def test_no_or_a_bad_key_is_401_with_a_reason_that_never_echoes_the_key(
    client: TestClient, publisher: InMemoryPublisher, headers: dict[str, str], says: str
) -> None:
    """401 with WWW-Authenticate and a reason; nothing published; the presented key is not repeated."""
    response = _post(client, [load_sample("order.placed", 1)], **headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["connection"] == "close"  # an unread body is not drained for a stranger
    assert says in response.json()["error"]["message"]
    assert "CANARY" not in response.text and publisher.published == []


def test_a_revoked_key_stops_working_within_the_refresh_interval(client: TestClient, keys: Keys) -> None:
    """The store is re-read after refresh_s: a revoked key then gets 401 naming its key id only."""
    assert _post(client, [load_sample("order.placed", 1)], **_bearer(keys.shop)).status_code == 202
    key_id = key_id_of(keys.shop)
    assert key_id is not None
    keys.store.save(keys.store.document.without("shop", key_id))
    keys.clock.now = 5.0
    response = _post(client, [load_sample("order.placed", 1)], **_bearer(keys.shop))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == f"key {key_id} is unknown or revoked"
    assert keys.shop not in response.text


def test_the_store_is_read_once_per_refresh_interval(client: TestClient, keys: Keys) -> None:
    """Requests within refresh_s share one load of the store."""
    for _ in range(3):
        _post(client, [load_sample("order.placed", 1)], **_bearer(keys.shop))
    assert keys.store.loads == 1


def test_events_of_another_type_or_source_are_403_and_none_is_published(
    client: TestClient, keys: Keys, publisher: InMemoryPublisher
) -> None:
    """One forbidden event refuses the whole request, listing each forbidden event by index and field."""
    trade = load_sample("trade.completed", 1)
    foreign = load_sample("order.placed", 1) | {"source": "nba.feed", "id": None}
    response = _post(client, [load_sample("order.placed", 1), trade, foreign], **_bearer(keys.shop))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert [(e["index"], e["loc"]) for e in error["events"]] == [(1, "type"), (2, "source")]
    assert publisher.published == []


def test_ops_events_are_refused_to_producers_and_taken_from_the_platform(
    client: TestClient, keys: Keys, publisher: InMemoryPublisher
) -> None:
    """The attack from issue 17: a producer sending ops.dlq_depth gets 403; the platform's key is taken."""
    alarm = load_sample("ops.dlq_depth", 1)
    response = _post(client, [alarm | {"source": "shop.api"}], **_bearer(keys.shop))
    assert response.status_code == 403
    assert (
        response.json()["error"]["events"][0]["msg"]
        == "ops.dlq_depth events come only from the platform itself"
    )
    assert _post(client, [alarm], **_bearer(keys.platform)).status_code == 202
    assert [e.type for e in publisher.published] == ["ops.dlq_depth"]


def test_a_producer_over_its_rate_is_429_with_retry_after(client: TestClient, keys: Keys) -> None:
    """Events count against the producer's bucket; over it, 429 and when to come back; others unaffected."""
    events = [load_sample("order.placed", 1) | {"id": None} for _ in range(10)]
    assert _post(client, events, **_bearer(keys.shop)).status_code == 202
    response = _post(client, events[:5], **_bearer(keys.shop))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limited"
    assert _post(client, [load_sample("ops.dlq_depth", 1)], **_bearer(keys.platform)).status_code == 202
    keys.clock.now = 3.0
    assert _post(client, events[:5], **_bearer(keys.shop)).status_code == 202


def test_unauthenticated_requests_are_refused_before_the_body_is_read(client: TestClient) -> None:
    """A 401 does not depend on the body: even a malformed one gets it."""
    response = client.post("/v1/events", content=b"{not json", headers=JSON)
    assert response.status_code == 401


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
