"""Fixtures for graph_writer's tests: one embedded FalkorDB server per session, a fresh graph per test, and
each GraphStore implementation in turn."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from falkordb import FalkorDB

from graph_writer.adapters.falkor import FalkorGraphStore
from graph_writer.adapters.falkor_server import EmbeddedFalkorServer
from graph_writer.ports import GraphStore
from graph_writer.testing import InMemoryGraphStore


@pytest.fixture(scope="session")
def falkor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorServer]:
    """One FalkorDB server for the session (graphs keep tests apart)."""
    server = EmbeddedFalkorServer(tmp_path_factory.mktemp("falkor"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def falkor_db(falkor_server: EmbeddedFalkorServer) -> Iterator[FalkorDB]:
    db = FalkorDB(**falkor_server.client_kwargs())
    yield db
    db.close()


@pytest.fixture
def falkor_store(falkor_db: FalkorDB) -> Iterator[FalkorGraphStore]:
    """A FalkorGraphStore over an empty graph of its own, with its indexes; the graph is dropped after."""
    graph = falkor_db.select_graph(f"test_{uuid.uuid4().hex}")
    store = FalkorGraphStore(graph=graph)
    store.ensure_indexes()
    yield store
    graph.delete()


@pytest.fixture(params=["in-memory", "falkordb"])
def graph_store(request: pytest.FixtureRequest) -> GraphStore:
    """Each GraphStore implementation in turn, over an empty graph."""
    if request.param == "in-memory":
        return InMemoryGraphStore()
    store: GraphStore = request.getfixturevalue("falkor_store")
    return store
