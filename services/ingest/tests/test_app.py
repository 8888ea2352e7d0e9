"""Tests of the HTTP API over the in-memory publisher: status codes, bodies, trace propagation, fuzzing."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from contracts import Envelope
from ingest.app import create_app
from ingest.domain import Limits
from ingest.ports import PublishFailure
from ingest.testing import InMemoryPublisher
from shared.testkit.samples import all_samples, load_sample
from shared.tracing import trace_id

NOW = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
MAX_BODY = 16 * 1024
JSON = {"content-type": "application/json"}


def _app(publisher: InMemoryPublisher, limits: Limits | None = None) -> FastAPI:
    return create_app(
        publisher=publisher,
        limits=limits or Limits(max_events=10, max_event_bytes=4096),
        max_body_bytes=MAX_BODY,
        clock=lambda: NOW,
    )


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def client(publisher: InMemoryPublisher) -> Iterator[TestClient]:
    with TestClient(_app(publisher)) as client:
        yield client


def _post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/v1/events", content=json.dumps(body), headers=JSON | headers)


def _no_id(type_: str) -> dict[str, Any]:
    event = load_sample(type_, 1)
    del event["id"]
    return event


def test_a_mixed_batch_is_202_with_accepted_and_rejected_indices(
    client: TestClient, publisher: InMemoryPublisher
) -> None:
    """Valid events go on the bus and are listed with their ids; invalid ones are listed with their errors."""
    sensor = load_sample("sensor.reading", 1)
    bad = load_sample("cat.sighting", 1) | {"type": "Cat Sighting"}
    response = _post(client, {"events": [sensor, bad, _no_id("order.placed")]})
    assert response.status_code == 202
    body = response.json()
    assigned = publisher.published[1].id
    assert body["accepted"] == [{"index": 0, "id": sensor["id"]}, {"index": 2, "id": assigned}]
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and rejected["id"] is None and rejected["retryable"] is False
    assert [e["loc"] for e in rejected["errors"]] == ["type"]
    assert [e.type for e in publisher.published] == ["sensor.reading", "order.placed"]
    assert {e.ingested_at for e in publisher.published} == {NOW}


def test_a_batch_with_no_valid_event_publishes_nothing(
    client: TestClient, publisher: InMemoryPublisher
) -> None:
    """Every event rejected: 202 listing them all, and the bus is not called."""
    response = _post(client, {"events": [1, {"type": "x"}]})
    assert response.status_code == 202
    assert response.json()["accepted"] == []
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]
    assert publisher.published == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_parameters_and_case_are_accepted(client: TestClient, content_type: str) -> None:
    """The media type is compared without parameters and case-insensitively."""
    body = json.dumps({"events": [load_sample("sensor.reading", 1)]})
    response = client.post("/v1/events", content=body, headers={"content-type": content_type})
    assert response.status_code == 202


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, {"content-type": "application/xml"}, {}])
def test_a_body_that_is_not_json_is_415(client: TestClient, headers: dict[str, str]) -> None:
    """Anything but application/json is refused before the body is read."""
    response = client.post("/v1/events", content=b'{"events": []}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "body",
    [b'{"events": [', b"", b"not json", b'{"events": [1]}\xff', b'{"events": [' + b"[" * 15_000],
    ids=["truncated", "empty", "words", "bad-utf8", "too-deep"],
)
def test_malformed_json_is_400(client: TestClient, publisher: InMemoryPublisher, body: bytes) -> None:
    """Bodies that do not parse as JSON are 400 malformed_json (a too-deep nesting was a 500)."""
    response = client.post("/v1/events", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert publisher.published == []


def test_a_body_over_the_limit_with_content_length_is_413(
    client: TestClient, publisher: InMemoryPublisher
) -> None:
    """A declared Content-Length over the limit is refused."""
    response = client.post("/v1/events", content=b" " * (MAX_BODY + 1), headers=JSON)
    assert response.request.headers["content-length"] == str(MAX_BODY + 1)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert publisher.published == []


def test_a_body_at_the_limit_is_read(client: TestClient) -> None:
    """Exactly max_body_bytes is allowed."""
    body = json.dumps({"events": [load_sample("sensor.reading", 1)]}).encode()
    response = client.post("/v1/events", content=body.ljust(MAX_BODY), headers=JSON)
    assert response.status_code == 202


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, publisher: InMemoryPublisher) -> None:
    """Without a Content-Length (chunked transfer), the limit is enforced on the bytes streamed."""

    def body() -> Iterator[bytes]:
        yield b'{"events": ['
        for _ in range(MAX_BODY // 1000 + 1):
            yield b" " * 1000

    response = client.post("/v1/events", content=body(), headers=JSON)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert publisher.published == []


def test_a_streamed_body_stops_being_read_once_over_the_limit(publisher: InMemoryPublisher) -> None:
    """Driving the ASGI app directly: it stops pulling chunks as soon as the limit is passed."""
    app = _app(publisher)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * 1000, "more_body": pulled < 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/events",
        "raw_path": b"/v1/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled == MAX_BODY // 1000 + 1


@pytest.mark.parametrize(
    "body",
    [[], {"events": []}, {"events": {}}, {"events": [{}], "more": 1}, {"events": [{}] * 11}, "events"],
    ids=["list", "empty-events", "events-object", "extra-key", "over-max-events", "string"],
)
def test_a_body_of_the_wrong_shape_is_422(client: TestClient, body: Any) -> None:
    """JSON that is not ``{"events": [1..max_events]}`` is 422 invalid_request."""
    response = _post(client, body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_retryable_bus_failures_are_503_with_the_envelope_ids() -> None:
    """Events the bus could not take yet are rejected as retryable with their envelope ids; status 503."""
    offered: list[Envelope] = []

    def throttle_orders(envelope: Envelope) -> PublishFailure | None:
        offered.append(envelope)
        if envelope.type != "order.placed":
            return None
        return PublishFailure(index=0, code="ThrottlingException", message="Rate exceeded", retryable=True)

    publisher = InMemoryPublisher(fail=throttle_orders)
    events = [load_sample("sensor.reading", 1), _no_id("order.placed"), 7, load_sample("order.placed", 1)]
    with TestClient(_app(publisher)) as client:
        response = _post(client, {"events": events})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["accepted"] == [{"index": 0, "id": events[0]["id"]}]
    order_ids = [e.id for e in offered if e.type == "order.placed"]
    assert order_ids[1] == events[3]["id"]
    retried = [r for r in body["rejected"] if r["retryable"]]
    assert [(r["index"], r["id"]) for r in retried] == [(1, order_ids[0]), (3, order_ids[1])]
    assert all("ThrottlingException" in r["errors"][0]["msg"] for r in retried)
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert [e.id for e in publisher.published] == [events[0]["id"]]


def test_permanent_bus_failures_are_rejected_but_not_503() -> None:
    """An entry the bus refuses for good is rejected with its id, not retryable, and the request is 202."""
    publisher = InMemoryPublisher(
        fail=lambda e: PublishFailure(index=0, code="MalformedDetail", message="bad", retryable=False)
    )
    with TestClient(_app(publisher)) as client:
        response = _post(client, {"events": [load_sample("sensor.reading", 1)]})
    assert response.status_code == 202
    [rejected] = response.json()["rejected"]
    assert rejected["retryable"] is False
    assert rejected["id"] == load_sample("sensor.reading", 1)["id"]
    assert "MalformedDetail" in rejected["errors"][0]["msg"]


def test_the_trace_header_is_carried_into_every_envelope(
    client: TestClient, publisher: InMemoryPublisher
) -> None:
    """An incoming X-Amzn-Trace-Id is the ``trace`` of each published envelope, unchanged."""
    events = [load_sample("sensor.reading", 1), load_sample("order.placed", 1)]
    response = _post(client, {"events": events}, **{"X-Amzn-Trace-Id": TRACE})
    assert response.status_code == 202
    assert [e.trace for e in publisher.published] == [TRACE, TRACE]


@pytest.mark.parametrize("headers", [{}, {"X-Amzn-Trace-Id": "Root=garbage"}], ids=["absent", "invalid"])
def test_a_request_without_a_valid_trace_starts_one(
    client: TestClient, publisher: InMemoryPublisher, headers: dict[str, str]
) -> None:
    """Without a usable trace header, one new trace is started and shared by the request's envelopes."""
    _post(client, {"events": [load_sample("sensor.reading", 1), load_sample("order.placed", 1)]}, **headers)
    traces = {e.trace for e in publisher.published}
    assert len(traces) == 1
    [trace] = traces
    assert trace_id(trace) is not None and trace != headers.get("X-Amzn-Trace-Id")


def test_each_request_logs_what_it_did(client: TestClient) -> None:
    """One ``events_received`` log line with the counts."""
    with capture_logs() as logs:
        _post(client, {"events": [load_sample("sensor.reading", 1), 1]})
    [line] = [entry for entry in logs if entry["event"] == "events_received"]
    assert (line["accepted"], line["rejected"], line["bus_failures"]) == (1, 1, 0)


def test_healthz(client: TestClient) -> None:
    """/healthz answers 200 without touching the bus."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "service": "ingest"}


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_documents_the_request_schema(client: TestClient) -> None:
    """/openapi.json describes the request body down to each event's required fields; every $ref resolves."""
    doc = client.get("/openapi.json").json()
    for ref in _refs(doc):
        _resolve(doc, ref)
    post = doc["paths"]["/v1/events"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert post["requestBody"]["required"] is True
    assert schema["required"] == ["events"]
    items = schema["properties"]["events"]["items"]
    event = _resolve(doc, items["$ref"]) if "$ref" in items else items
    assert set(event["required"]) == {"type", "version", "source", "time", "data"}
    assert event["additionalProperties"] is False
    assert {"202", "400", "413", "415", "422", "503"} <= set(post["responses"])


# --- fuzzing ------------------------------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates included
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | _text
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=10,
)
_times = st.builds(
    lambda at, offset: at.isoformat() + offset,
    st.datetimes(),
    st.sampled_from(["Z", "+09:00", "-05:00", "+23:59", "-23:59", ""]),
)
_SAMPLES = all_samples()


@st.composite
def _mutated_samples(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(0, 3))):
        target = event if draw(st.booleans()) or not isinstance(event.get("data"), dict) else event["data"]
        key = draw(st.sampled_from(sorted(target)) | _text) if target else draw(_text)
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(_json | _times)
    return event


_events = st.lists(_json | _mutated_samples() | st.sampled_from(_SAMPLES), min_size=1, max_size=6)
_bodies = st.fixed_dictionaries({"events": _events}) | _json


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    with TestClient(_app(InMemoryPublisher(), Limits(max_events=5, max_event_bytes=4096))) as client:
        yield client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_bodies)
def test_arbitrary_json_never_gets_a_server_error(fuzz_client: TestClient, body: Any) -> None:
    """Whatever JSON a producer sends: no 5xx, every event is accounted for, every rejection has an error."""
    response = fuzz_client.post("/v1/events", content=json.dumps(body), headers=JSON)
    assert response.status_code in {202, 400, 413, 422}, response.text
    if response.status_code != 202:
        assert response.json()["error"]["message"]
        return
    result = response.json()
    indices = [a["index"] for a in result["accepted"]] + [r["index"] for r in result["rejected"]]
    assert sorted(indices) == list(range(len(body["events"])))
    for rejection in result["rejected"]:
        assert rejection["errors"]
        assert all(isinstance(e["loc"], str) and e["msg"] for e in rejection["errors"])
