"""Fuzzing the graph read API: no node id, relationship, depth or limit a client sends gets a 5xx."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from graph_writer.api import create_app
from graph_writer.model import LABELS, RELATIONSHIPS
from graph_writer.ports import GraphStore
from tests.support.fuzzing import NASTY, PARAM_VALUE, TEXT, query, run_fuzz, url

from .builders import batch_of, registered, trade

_IDS = (
    st.builds(lambda prefix, key: f"{prefix}:{key}", st.sampled_from(sorted(LABELS)), NASTY | TEXT)
    | st.sampled_from(["device:dev-1", "team:LAL", "device:dev-1%00", "device:", ":", "a" * 200])
    | NASTY
    | TEXT
)
_PARAMS = query(
    st.sampled_from(["rel", "depth", "limit"]),
    PARAM_VALUE | st.sampled_from(sorted(RELATIONSHIPS)) | st.integers(-5, 1005).map(str),
)
_REQUESTS = (
    st.builds(lambda id_, params: url("graph", "nodes", id_, params=params), _IDS, _PARAMS)
    | st.builds(lambda id_, params: url("graph", "nodes", id_, "neighbors", params=params), _IDS, _PARAMS)
    | st.builds(lambda params: url("graph", "stats", params=params), _PARAMS)
    | st.builds(lambda path: url("graph", *path), st.lists(NASTY | TEXT, max_size=4))
)


def test_no_request_gets_a_server_error(graph_store: GraphStore) -> None:
    """Ids with NUL, surrogates, escapes, unknown prefixes; any rel, depth and limit: 200, 404 or 422, over
    the in-memory store and FalkorDB (which refuses a NUL as a query parameter)."""
    store = graph_store
    store.write(batch_of([registered("dev-1", "site-1", 1), trade("t1", ("p1", "LAL", "BOS"), minute=2)]))
    client = TestClient(create_app(store), raise_server_exceptions=False)

    def send(target: str) -> httpx.Response:
        return client.get(target)

    statuses = run_fuzz(send, _REQUESTS, examples=600)
    assert set(statuses) <= {200, 404, 422}
    assert statuses[200] and statuses[404] and statuses[422], statuses
    print(
        f"\ngraph API fuzz ({type(store).__name__}): {statuses.total()} requests, 0 server errors, "
        f"statuses {dict(sorted(statuses.items()))}"
    )
