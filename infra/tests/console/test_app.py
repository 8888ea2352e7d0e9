"""The console's HTTP endpoints, over fakes: what each answers, and what a bad request gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.tests.console.conftest import MANIFESTS, FakeHttp, metrics_page
from tributary.console.app import create_app
from tributary.console.source import StackSource, stack_file_reader
from tributary.stack import StackError

EVENT = "01KTESTEVENT0000000000000A"


def segments() -> list[dict[str, Any]]:
    """ingest's request with its PutEvents call, and a worker's segment under that call."""
    return [
        {
            "id": "a1",
            "name": "ingest",
            "trace_id": "1-t",
            "start_time": 10.0,
            "end_time": 10.02,
            "subsegments": [
                {
                    "id": "c1",
                    "name": "EventBridge",
                    "start_time": 10.005,
                    "end_time": 10.015,
                    "aws": {"operation": "PutEvents"},
                }
            ],
        },
        {
            "id": "w1",
            "name": "archiver",
            "trace_id": "1-t",
            "parent_id": "c1",
            "start_time": 10.5,
            "end_time": 10.6,
            "annotations": {"event_id": EVENT, "outcome": "stored"},
            "subsegments": [
                {
                    "id": "s1",
                    "name": "S3",
                    "start_time": 10.51,
                    "end_time": 10.55,
                    "aws": {"operation": "put"},
                }
            ],
        },
    ]


@pytest.fixture
def client(source: StackSource, description: dict[str, Any], tmp_path: Path) -> TestClient:
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps(s) + "\n" for s in segments()), encoding="utf-8")
    description["traces"] = str(traces)
    return TestClient(create_app(source, allowed_hosts=["testserver"]))


def test_the_page_and_its_script_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/console.js" in page.text
    script = client.get("/static/console.js")
    assert script.status_code == 200 and "refreshTopology" in script.text
    assert "http" not in client.get("/static/console.css").text  # nothing fetched from elsewhere


def test_stack_names_the_apis_but_no_path(client: TestClient) -> None:
    body = client.get("/api/stack").json()
    assert body["bus_name"] == "tributary" and body["apis"]["ingest_url"] and not body["apis"]["graph_url"]
    assert "/somewhere" not in json.dumps(body) and "traces.jsonl" not in json.dumps(body)


def test_topology_and_dead_letters_answer(client: TestClient, http: FakeHttp) -> None:
    http.hosts["ingest.test"] = metrics_page({'tributary_ingest_events_total{outcome="accepted"}': 3.0})
    topology = client.get("/api/topology").json()
    assert topology["ingest"]["accepted_total"] == 3
    assert [w["service"] for w in topology["workers"]] == ["archiver", "probe"]
    assert client.get("/api/dead-letters").json() == {"queues": [], "errors": []}


def test_trace_is_the_events_hops(client: TestClient) -> None:
    hops = client.get(f"/api/trace/{EVENT}").json()["hops"]
    assert [(h["service"], h["start_ms"], h["via"]) for h in hops] == [
        ("ingest", 0.0, None),
        ("archiver", 500.0, "EventBridge.PutEvents"),
    ]
    assert hops[1]["calls"][0]["name"] == "S3"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/trace/01KUNKNOWN", 404),
        ("/api/trace/bad%20id%3B", 422),
        ("/api/graph?node=nonsense", 422),
        ("/api/graph?node=device:a&depth=9", 422),
        ("/api/graph?node=device:a", 404),  # no graph API in this stack
        ("/api/series?metric=temperature", 404),  # no series API either
        ("/api/dead-letters?per_queue=0", 422),
    ],
)
def test_what_the_page_gets_wrong_is_a_4xx(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_a_stopped_stack_is_a_503(http: FakeHttp) -> None:
    def gone() -> dict[str, Any]:
        raise StackError("no stack.json")

    client = TestClient(
        create_app(StackSource(gone, http=http.client, manifests=MANIFESTS), allowed_hosts=["testserver"])
    )
    response = client.get("/api/topology")
    assert response.status_code == 503 and "not running" in response.json()["detail"]


def test_stack_file_reader_reads_afresh_and_says_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    read = stack_file_reader(path)
    with pytest.raises(StackError, match="no stack description"):
        read()
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(StackError, match="not a stack description"):
        read()
    path.write_text('{"bus_name": "b"}', encoding="utf-8")
    assert read() == {"bus_name": "b"}


def test_only_loopback_host_names_are_answered(source: StackSource) -> None:
    """A request naming the console by another host (a rebound DNS name) is refused."""
    client = TestClient(create_app(source), base_url="http://127.0.0.1:8000")
    assert client.get("/api/stack").status_code == 200
    assert client.get("/api/stack", headers={"host": "evil.example:8000"}).status_code == 400
