"""Fuzzing ``POST /v1/events`` at the byte level: no body a client sends gets a 5xx.

test_app.py fuzzes well-formed JSON documents; here the body is raw bytes, hostile JSON text (numbers
past Python's 4,300 digits, deep nesting, NaN, lone surrogate escapes) and samples carrying values that
have broken parsers and stores before, with any content type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from ingest.app import create_app
from ingest.domain import Limits
from ingest.testing import InMemoryPublisher
from shared.testkit.samples import all_samples
from tests.support.fuzzing import NASTY, TEXT, run_fuzz

_SAMPLES = all_samples()
_LEAF = NASTY | TEXT | st.integers() | st.floats() | st.booleans() | st.none()


@st.composite
def _hostile_event(draw: st.DrawFn) -> str:
    """A sample event as JSON text, with one field (of the envelope or its data) set to a hostile value."""
    event: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(_SAMPLES))))
    target = event["data"] if draw(st.booleans()) else event
    target[draw(st.sampled_from(sorted(target)) | TEXT)] = draw(_LEAF)
    text = json.dumps(event)
    raw = draw(st.sampled_from(["", "9" * 4301, "1" + "0" * 400, "1e400", "NaN", '"\\ud800"', "[" * 3000]))
    if raw and draw(st.booleans()):  # splice a raw JSON token json.dumps would never write
        text = text.replace(json.dumps(target[next(iter(target))]), raw, 1)
    return text


_BODIES = (
    st.binary(max_size=300)
    | st.lists(_hostile_event(), min_size=1, max_size=4).map(lambda e: f'{{"events": [{",".join(e)}]}}')
    | st.sampled_from(['{"events": ' + "[" * 50_000, '{"events": [' + "9" * 5000 + "]}", "{}", "[]", "null"])
)
_CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", ""]
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(
        publisher=InMemoryPublisher(),
        limits=Limits(max_events=5, max_event_bytes=4096),
        max_body_bytes=64 * 1024,
        clock=lambda: datetime(2025, 6, 2, tzinfo=UTC),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_no_body_gets_a_server_error(client: TestClient) -> None:
    """Raw bytes, hostile JSON text and hostile field values: every answer is 202, 400, 413, 415 or 422."""

    def send(request: tuple[str | bytes, str]) -> httpx.Response:
        body, content_type = request
        return client.post("/v1/events", content=body, headers={"content-type": content_type})

    statuses = run_fuzz(send, st.tuples(_BODIES, _CONTENT_TYPES), examples=600)
    assert set(statuses) <= {202, 400, 413, 415, 422}
    assert statuses[202] and statuses[400] and statuses[415], statuses  # the run reached every layer
    print(f"\ningest fuzz: {statuses.total()} requests, 0 server errors, {dict(sorted(statuses.items()))}")
