"""The stack's read APIs as the page draws them: a series (``series_url``), a node's neighbourhood
(``graph_url``) and the latest alerts (``notifier_url``).

Both answer ``(status, body)``. What the read API refuses (a 4xx: an unknown metric parameter, a malformed
node id, an absent node) is passed on with its status and detail, so the page can say what to fix; a read
API that is missing, unreachable or failing is a 502 naming which.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tributary.console.source import StackSource

MAX_PARAMS = 16
MAX_EXPANDED = 24  # neighbour lists fetched to find the edges of a depth-2 or -3 neighbourhood
Answer = tuple[int, dict[str, Any]]


def _base(source: StackSource, key: str) -> str | None:
    value = source.description().get(key)
    return str(value).rstrip("/") if value else None


def _get(source: StackSource, url: str, params: dict[str, Any] | None, api: str) -> Answer:
    try:
        response = source.http.get(url, params=params)
    except httpx.HTTPError as exc:
        return 502, {"detail": f"the {api} API does not answer ({type(exc).__name__})"}
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:200]}
    if not isinstance(body, dict):
        body = {"detail": body}
    if response.status_code >= 500:
        detail = body.get("detail", "")
        return 502, {"detail": f"the {api} API answered {response.status_code}: {detail}"}
    return response.status_code, body


def series(source: StackSource, params: list[tuple[str, str]]) -> Answer:
    """``GET <series_url>/series`` with the page's parameters (metric, bucket, agg, from, to, dimensions)."""
    base = _base(source, "series_url")
    if base is None:
        return 404, {"detail": "this stack has no series API (no series_url in its description)"}
    if len(params) > MAX_PARAMS:
        return 422, {"detail": f"at most {MAX_PARAMS} parameters"}
    return _get(source, f"{base}/series", dict(params), "series")


def neighbourhood(source: StackSource, node: str, *, depth: int, rel: str | None, limit: int) -> Answer:
    """The node, the nodes within ``depth`` hops and the edges among them (those the graph API shows
    from the nearer nodes' own neighbour lists)."""
    base = _base(source, "graph_url")
    if base is None:
        return 404, {"detail": "this stack has no graph API (no graph_url in its description)"}

    def neighbours_of(node_id: str, hops: int, cap: int) -> Answer:
        params: dict[str, Any] = {"depth": hops, "limit": cap}
        if rel:
            params["rel"] = rel
        return _get(source, f"{base}/graph/nodes/{quote(node_id, safe='')}/neighbors", params, "graph")

    status, center = _get(source, f"{base}/graph/nodes/{quote(node, safe='')}", None, "graph")
    if status != 200:
        return status, center
    status, found = neighbours_of(node, depth, limit)
    if status != 200:
        return status, found
    nodes = [{"id": center["id"], "label": center.get("label"), "hops": 0}]
    nodes += [{"id": n["id"], "label": n.get("label"), "hops": n.get("hops", 1)} for n in found["neighbors"]]
    ids = {n["id"] for n in nodes}
    edges: set[tuple[str, str]] = {(node, n["id"]) for n in nodes if n["hops"] == 1}
    inner = [n for n in nodes if 1 <= n["hops"] < depth][:MAX_EXPANDED]
    for near in inner:
        status, around = neighbours_of(near["id"], 1, 1000)
        if status != 200:
            continue
        for other in around.get("neighbors", []):
            if other["id"] in ids and other["id"] != near["id"]:
                edges.add((near["id"], other["id"]))
    unique = {tuple(sorted(e)) for e in edges}
    return 200, {
        "node": {
            "id": center["id"],
            "label": center.get("label"),
            "properties": center.get("properties", {}),
        },
        "depth": depth,
        "rel": rel,
        "nodes": nodes,
        "edges": [list(e) for e in sorted(unique)],
        "truncated": len(found["neighbors"]) >= limit,
    }


def alerts(source: StackSource, *, limit: int) -> Answer:
    """``GET <notifier_url>/v1/alerts``: the latest notifications, newest first."""
    base = _base(source, "notifier_url")
    if base is None:
        return 404, {"detail": "this stack has no notifier API (no notifier_url in its description)"}
    return _get(source, f"{base}/v1/alerts", {"limit": limit}, "notifier")
