"""Tracing and metrics of the ingest API over the EventBridge adapter (moto): one trace per request.

Requests run concurrently on one event loop, as under uvicorn; each request's segment, its PutEvents
subsegments and the ``trace`` of the envelopes it published must belong to that request alone.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from ingest.app import create_app
from ingest.domain import Limits
from ingest.testing import Bus, eventbridge_bus
from shared.metrics import Registry
from shared.testing import InMemoryEmitter
from shared.testkit.emf import check_emf
from shared.testkit.samples import load_sample
from shared.tracing import TraceContext, Tracer, new_trace_header

CALLER = "0123456789abcdef"


@pytest.fixture
def bus(aws: None) -> Bus:
    return eventbridge_bus()


@pytest.fixture
def emitter() -> InMemoryEmitter:
    return InMemoryEmitter()


def _app(bus: Bus, emitter: InMemoryEmitter | None, registry: Registry | None = None) -> FastAPI:
    return create_app(
        publisher=bus.publisher,
        limits=Limits(max_events=50, max_event_bytes=4096),
        max_body_bytes=1024 * 1024,
        tracer=Tracer(service="ingest", emitter=emitter, sample_rate=1.0),
        registry=registry,
    )


def _event(n: int) -> dict[str, Any]:
    return load_sample("sensor.reading", 1) | {"id": f"evt-{n:04d}"}


async def _post_all(
    app: FastAPI, bodies: list[tuple[list[dict[str, Any]], str | None]]
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:

        async def post(events: list[dict[str, Any]], header: str | None) -> httpx.Response:
            headers = {"content-type": "application/json"} | ({"x-amzn-trace-id": header} if header else {})
            return await client.post("/v1/events", content=json.dumps({"events": events}), headers=headers)

        return await asyncio.gather(*(post(events, header) for events, header in bodies))


def _subsegments(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in doc.get("subsegments", [])}


def test_concurrent_requests_make_distinct_complete_traces(bus: Bus, emitter: InMemoryEmitter) -> None:
    """100 concurrent requests: 100 traces, each continuing its caller, each event under its own PutEvents."""
    headers = [
        new_trace_header().replace(";Sampled=1", f";Parent={CALLER};Sampled=1") if n % 2 else None
        for n in range(100)
    ]
    responses = asyncio.run(_post_all(_app(bus, emitter), [([_event(n)], headers[n]) for n in range(100)]))
    assert [r.status_code for r in responses] == [202] * 100
    segments = {d["trace_id"]: d for d in emitter.documents}
    assert len(emitter.documents) == 100 and len(segments) == 100
    delivered = {e.id: e for e in bus.delivered()}
    assert len(delivered) == 100
    for n, response in enumerate(responses):
        answered = TraceContext.parse(response.headers["x-amzn-trace-id"])
        doc = segments[answered.root or ""]
        assert doc["name"] == "ingest" and answered.parent == doc["id"]
        if headers[n]:
            assert (doc["trace_id"], doc["parent_id"]) == (TraceContext.parse(headers[n]).root, CALLER)
        else:
            assert "parent_id" not in doc
        [put] = doc["subsegments"]
        assert (put["name"], put["aws"]["operation"]) == ("EventBridge", "PutEvents")
        carried = TraceContext.parse(delivered[f"evt-{n:04d}"].trace)
        assert carried == TraceContext(root=doc["trace_id"], parent=put["id"], sampled=True)


def test_a_big_request_parents_each_event_on_the_call_that_carried_it(
    bus: Bus, emitter: InMemoryEmitter
) -> None:
    """25 events go out in three PutEvents calls; each envelope names its own call as parent."""
    [response] = asyncio.run(_post_all(_app(bus, emitter), [([_event(n) for n in range(25)], None)]))
    assert response.status_code == 202
    [doc] = emitter.documents
    calls = _subsegments(doc)
    assert len(calls) == 3
    parents = [TraceContext.parse(e.trace) for e in bus.delivered()]
    assert len(parents) == 25 and {p.root for p in parents} == {doc["trace_id"]}
    per_call = {call_id: sum(p.parent == call_id for p in parents) for call_id in calls}
    assert sorted(per_call.values()) == [5, 10, 10]


def test_unsampled_and_disabled_tracing_record_nothing_and_keep_the_root(
    bus: Bus, emitter: InMemoryEmitter
) -> None:
    """Sampled=0 is obeyed and a tracer without emitter sends nothing; the caller's root still travels."""
    unsampled = new_trace_header(sampled=False)
    asyncio.run(_post_all(_app(bus, emitter), [([_event(1)], unsampled)]))
    asyncio.run(_post_all(_app(bus, None), [([_event(2)], new_trace_header())]))
    assert emitter.documents == []
    roots = {e.id: TraceContext.parse(e.trace) for e in bus.delivered()}
    assert roots["evt-0001"].root == TraceContext.parse(unsampled).root and roots["evt-0001"].sampled is False


def test_each_request_logs_emf_and_counts_in_prometheus(bus: Bus) -> None:
    """The events_received line is valid EMF; /metrics parses and counts requests and events."""
    registry = Registry()
    app = _app(bus, None, registry)
    bad = load_sample("sensor.reading", 1) | {"type": "Not A Type"}
    with capture_logs() as logs:
        asyncio.run(_post_all(app, [([_event(1), bad], None), ([_event(2)], None)]))
    lines = [entry for entry in logs if entry["event"] == "events_received"]
    values = [check_emf(line) for line in lines]
    assert sorted((v["Accepted"], v["Rejected"], v["BusFailures"]) for v in values) == [(1, 0, 0), (1, 1, 0)]

    async def scrape() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as c:
            return (await c.get("/metrics")).text

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(asyncio.run(scrape()))
        for s in family.samples
    }
    assert samples[("tributary_ingest_requests_total", (("service", "ingest"), ("status", "202")))] == 2
    assert samples[("tributary_ingest_events_total", (("outcome", "accepted"), ("service", "ingest")))] == 2
    assert samples[("tributary_ingest_events_total", (("outcome", "rejected"), ("service", "ingest")))] == 1
