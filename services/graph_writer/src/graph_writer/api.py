"""The read API graph_writer serves over the store it owns (beside ``/healthz``, on its HTTP port).

- ``GET /graph/nodes/{id}``: one node (``device:dev-0042``) with its label and properties; 404 if absent.
- ``GET /graph/nodes/{id}/neighbors?rel=&depth=1..3&limit=1..1000``: nodes within ``depth`` hops, nearest
  first then by id, over one relationship type or all; 404 if the start node is absent.
- ``GET /graph/stats``: nodes per label and relationships per type.

A malformed id (no known ``<prefix>:``, or characters no stored id has, such as NUL), an unknown ``rel``
or a depth or limit out of range is a 422 in FastAPI's usual shape, naming the parameter. Every id and
value reaches the store as a query parameter. A store that is down answers 503 with ``Retry-After``; one
that refuses a query as malformed, 400.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from graph_writer.adapters.cypher_store import MAX_NEIGHBORS
from graph_writer.model import MAX_DEPTH, RELATIONSHIPS, InvalidNodeId, label_of
from graph_writer.ports import GraphStore
from shared.errors import PermanentError, RetryableError

Rel = StrEnum("Rel", {name: name for name in RELATIONSHIPS})  # type: ignore[misc]

NodeIdPath = Annotated[
    str, Path(min_length=3, max_length=160, description="``<prefix>:<key>``, e.g. ``device:dev-0042``")
]


_STORED_ID = re.compile(r"[a-z_]+:[A-Za-z0-9._:~%\-]+")
"""What every stored id looks like: a prefix, then a key as :func:`~graph_writer.model.node_id` encodes it."""


def _invalid_id(node_id: str, msg: str) -> HTTPException:
    detail = [{"type": "value_error", "loc": ["path", "node_id"], "msg": msg, "input": node_id}]
    return HTTPException(status_code=422, detail=detail)


def _checked(node_id: str) -> str:
    try:
        label_of(node_id)
    except InvalidNodeId as exc:
        raise _invalid_id(node_id, str(exc)) from exc
    if not _STORED_ID.fullmatch(node_id):  # NUL, spaces, non-ASCII: no stored id has them, and
        # FalkorDB refuses some of them as query parameters
        raise _invalid_id(node_id, "a node key holds only A-Z a-z 0-9 . _ : ~ - and %-escapes")
    return node_id


def create_app(store: GraphStore) -> FastAPI:
    """The read API over ``store``."""
    app = FastAPI(
        title="Tributary graph", version="1", docs_url="/graph/docs", openapi_url="/graph/openapi.json"
    )

    @app.exception_handler(RetryableError)
    def store_unavailable(_request: Request, exc: RetryableError) -> JSONResponse:
        return JSONResponse(
            {"detail": f"graph store unavailable: {exc}"}, status_code=503, headers={"Retry-After": "1"}
        )

    @app.exception_handler(PermanentError)
    def store_refused(_request: Request, _exc: PermanentError) -> JSONResponse:
        # Whatever got past _checked and still cannot be asked is the request's fault, not a server error.
        return JSONResponse({"detail": "the graph store cannot answer this request"}, status_code=400)

    @app.get("/graph/nodes/{node_id}")
    def get_node(node_id: NodeIdPath) -> dict[str, Any]:
        node = store.node(_checked(node_id))
        if node is None:
            raise HTTPException(status_code=404, detail=f"node {node_id} not found")
        return {"id": node.id, "label": node.label, "properties": node.properties}

    @app.get("/graph/nodes/{node_id}/neighbors")
    def get_neighbors(
        node_id: NodeIdPath,
        rel: Annotated[Rel | None, Query(description="one relationship type; all if absent")] = None,
        depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
        limit: Annotated[int, Query(ge=1, le=MAX_NEIGHBORS)] = 100,
    ) -> dict[str, Any]:
        rel_name = rel.value if rel else None
        found = store.neighbors(_checked(node_id), rel=rel_name, depth=depth, limit=limit)
        if found is None:
            raise HTTPException(status_code=404, detail=f"node {node_id} not found")
        return {
            "id": node_id,
            "rel": rel_name,
            "depth": depth,
            "limit": limit,
            "neighbors": [{"id": n.id, "label": n.label, "hops": n.hops} for n in found],
        }

    @app.get("/graph/stats")
    def get_stats() -> dict[str, Any]:
        counts = store.counts()
        return {
            "nodes": counts.nodes,
            "relationships": counts.relationships,
            "total_nodes": counts.total_nodes,
            "total_relationships": counts.total_relationships,
        }

    return app
