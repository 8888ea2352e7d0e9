"""Tests of ingest's bounds on what a request may cost: parser limits, capped error lists, body deadline,
and the same event id twice in one request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ingest.app import create_app
from ingest.domain import Limits
from ingest.testing import InMemoryPublisher
from shared.boundedjson import JsonLimits
from shared.testkit.samples import load_sample

JSON = {"content-type": "application/json"}


def _app(publisher: InMemoryPublisher, **kwargs: Any) -> FastAPI:
    return create_app(
        publisher=publisher,
        limits=Limits(max_events=500, max_event_bytes=256 * 1024),
        max_body_bytes=16 * 1024 * 1024,
        **kwargs,
    )


def test_a_million_extra_keys_get_a_short_400() -> None:
    """The attack from issue 17: one event with 1,000,000 extra keys is refused by the parser, in a small
    body naming the limit."""
    event = load_sample("sensor.reading", 1)
    extra = ",".join(f'"k{i}":0' for i in range(1_000_000))
    body = json.dumps({"events": [event]})[:-3] + "," + extra + "}]}"
    with TestClient(_app(InMemoryPublisher())) as client:
        response = client.post("/v1/events", content=body, headers=JSON)
    assert response.status_code == 400
    assert "keys; the limit is 1000" in response.json()["error"]["message"]
    assert len(response.content) < 300


def test_deep_nesting_and_huge_numbers_are_400() -> None:
    """Depth and number size over the limits are refused before validation."""
    with TestClient(_app(InMemoryPublisher(), json_limits=JsonLimits(max_depth=8))) as client:
        deep = client.post("/v1/events", content='{"events": [' + "[" * 20 + "]" * 20 + "]}", headers=JSON)
        big = client.post("/v1/events", content='{"events": [' + "9" * 5000 + "]}", headers=JSON)
    assert deep.status_code == 400 and "deeper than 8" in deep.json()["error"]["message"]
    assert big.status_code == 400 and "more than 100 characters" in big.json()["error"]["message"]


def test_error_lists_are_capped_per_event_and_in_total() -> None:
    """An event with many bad fields lists the first ten and a count; 500 such events stay under the total
    cap; long key names are cut."""
    event = load_sample("sensor.reading", 1)
    event["data"] |= {f"{'x' * 300}{i}": i for i in range(30)}
    events = [event | {"id": None} for _ in range(500)]
    with TestClient(_app(InMemoryPublisher())) as client:
        response = client.post("/v1/events", content=json.dumps({"events": events}), headers=JSON)
    assert response.status_code == 202
    rejected = response.json()["rejected"]
    assert len(rejected) == 500
    first = rejected[0]["errors"]
    assert len(first) == 11 and first[-1] == {"loc": "", "msg": "20 more errors not listed"}
    assert all(len(e["loc"]) <= 200 for e in first)
    assert sum(len(r["errors"]) - 1 for r in rejected) == 1000
    assert len(response.content) < 1024 * 1024


def test_a_body_not_sent_in_time_is_408() -> None:
    """A client that stops sending its body is answered 408 after the body deadline."""
    app = _app(InMemoryPublisher(), body_timeout_s=0.2)

    async def trickle() -> httpx.Response:
        async def body() -> Any:
            yield b'{"events": ['
            await asyncio.sleep(5)
            yield b"]}"

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            return await client.post("/v1/events", content=body(), headers=JSON)

    response = asyncio.run(trickle())
    assert response.status_code == 408
    assert response.json()["error"]["code"] == "body_timeout"


def test_the_same_event_twice_is_published_once_and_a_conflicting_id_is_rejected() -> None:
    """An identical repeat shares the first event's outcome; other content under the same id is an
    id_conflict at ``id``, and the first event's data is what the bus gets."""
    publisher = InMemoryPublisher()
    event = load_sample("sensor.reading", 1)
    conflicting = json.loads(json.dumps(event))
    conflicting["data"]["value"] = -1.0
    with TestClient(_app(publisher)) as client:
        response = client.post(
            "/v1/events", content=json.dumps({"events": [event, event, conflicting]}), headers=JSON
        )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == [{"index": 0, "id": event["id"]}, {"index": 1, "id": event["id"]}]
    [rejected] = body["rejected"]
    assert (rejected["index"], rejected["id"]) == (2, event["id"])
    assert rejected["errors"] == [
        {"loc": "id", "msg": "id_conflict: event 0 has this id with different content"}
    ]
    assert [e.id for e in publisher.published] == [event["id"]]
    assert publisher.published[0].data["value"] == event["data"]["value"]
