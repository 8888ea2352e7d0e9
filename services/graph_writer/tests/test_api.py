"""Tests of the read API over the in-memory store: nodes, neighbors, stats, and its 404/422/503 answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from graph_writer.api import create_app
from graph_writer.testing import InMemoryGraphStore

from .builders import batch_of, registered, trade


@pytest.fixture
def store() -> InMemoryGraphStore:
    store = InMemoryGraphStore()
    store.write(
        batch_of(
            [
                registered("dev-1", "site-1", 1, model="TS-1"),
                trade("t1", ("p0", "DAL", "LAL"), minute=1),
                trade("t2", ("p1", "LAL", "BOS"), minute=2),
            ]
        )
    )
    return store


@pytest.fixture
def client(store: InMemoryGraphStore) -> TestClient:
    return TestClient(create_app(store))


def test_a_node_with_its_label_and_properties(client: TestClient) -> None:
    """``GET /graph/nodes/{id}`` answers the node as stored."""
    response = client.get("/graph/nodes/device:dev-1")
    assert response.status_code == 200
    assert response.json() == {
        "id": "device:dev-1",
        "label": "Device",
        "properties": {
            "device_id": "dev-1",
            "device_type": "temperature_sensor",
            "model": "TS-1",
            "site_id": "site-1",
            "registered_at": "2025-06-01T00:01:00.000Z",
        },
    }


def test_a_missing_node_is_404(client: TestClient) -> None:
    """A well-formed id of no node: 404 naming it, for the node and its neighbors."""
    for path in ("/graph/nodes/device:nope", "/graph/nodes/device:nope/neighbors"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "node device:nope not found"}


@pytest.mark.parametrize("bad", ["dev-1", "robot:1", "device:"])
def test_an_id_without_a_known_prefix_is_422(client: TestClient, bad: str) -> None:
    """422 in FastAPI's shape, naming the path parameter and the known prefixes."""
    response = client.get(f"/graph/nodes/{bad}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["path", "node_id"] and "device:" in error["msg"]


def test_neighbors_nearest_first(client: TestClient) -> None:
    """Depth 2 over every type: teams, then the other player who went through LAL."""
    response = client.get("/graph/nodes/player:p0/neighbors", params={"depth": 2})
    assert response.status_code == 200
    assert response.json() == {
        "id": "player:p0",
        "rel": None,
        "depth": 2,
        "limit": 100,
        "neighbors": [
            {"id": "team:DAL", "label": "Team", "hops": 1},
            {"id": "team:LAL", "label": "Team", "hops": 1},
            {"id": "player:p1", "label": "Player", "hops": 2},
        ],
    }


def test_neighbors_over_one_relationship_type_and_limited(client: TestClient) -> None:
    """``rel`` keeps to one type; ``limit`` cuts the ordered list."""
    body = client.get("/graph/nodes/team:LAL/neighbors", params={"rel": "LEFT", "depth": 1}).json()
    assert body["neighbors"] == [{"id": "player:p1", "label": "Player", "hops": 1}]
    body = client.get("/graph/nodes/team:LAL/neighbors", params={"depth": 3, "limit": 2}).json()
    assert [n["id"] for n in body["neighbors"]] == ["player:p0", "player:p1"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"rel": "KNOWS"}, ["query", "rel"]),
        ({"rel": "located_at"}, ["query", "rel"]),
        ({"depth": 0}, ["query", "depth"]),
        ({"depth": 4}, ["query", "depth"]),
        ({"depth": "x"}, ["query", "depth"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 1001}, ["query", "limit"]),
    ],
)
def test_bad_neighbor_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, object], loc: list[str]
) -> None:
    """Unknown types, depth outside 1..3 and limit outside 1..1000 are refused before any query."""
    response = client.get("/graph/nodes/player:p0/neighbors", params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]


def test_stats_count_nodes_and_relationships(client: TestClient) -> None:
    """Per label, per type, and the totals."""
    body = client.get("/graph/stats").json()
    assert body["nodes"]["Team"] == 3 and body["relationships"]["TRADED_TO"] == 2
    assert body["total_nodes"] == 7 and body["total_relationships"] == 5


def test_a_store_outage_is_503_with_retry_after(client: TestClient, store: InMemoryGraphStore) -> None:
    """RetryableError from the store: 503 and a Retry-After header."""
    store.down = True
    response = client.get("/graph/nodes/device:dev-1")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert client.get("/graph/stats").status_code == 503


@pytest.mark.parametrize("node_id", ["device:dev%001", "device:dev 1", "device:dév", "team:%ED%A0%80"])
def test_an_id_no_stored_node_can_have_is_a_422(client: TestClient, node_id: str) -> None:
    """NUL, spaces, non-ASCII and undecodable bytes never reach the store (FalkorDB refuses a NUL)."""
    for path in (f"/graph/nodes/{node_id}", f"/graph/nodes/{node_id}/neighbors"):
        response = client.get(path)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["path", "node_id"]
