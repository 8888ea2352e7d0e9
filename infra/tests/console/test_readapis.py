"""The series and graph read APIs as the console passes them on."""

from __future__ import annotations

from typing import Any

import httpx

from infra.tests.console.conftest import FakeHttp
from tributary.console.readapis import alerts, neighbourhood, series
from tributary.console.source import StackSource

# device:a - site:s - device:b, and device:a - team:x
GRAPH = {
    "device:a": ["site:s", "team:x"],
    "site:s": ["device:a", "device:b"],
    "device:b": ["site:s"],
    "team:x": ["device:a"],
}


def graph_api(request: httpx.Request) -> httpx.Response:
    """The graph API's answers (one hop at a time, or two for depth 2), from :data:`GRAPH`."""
    parts = request.url.path.split("/")  # ['', 'graph', 'nodes', id, ('neighbors')]
    node = parts[3]
    if node not in GRAPH:
        return httpx.Response(404, json={"detail": f"node {node} not found"})
    if len(parts) == 4:
        return httpx.Response(200, json={"id": node, "label": node.split(":")[0].title(), "properties": {}})
    depth = int(request.url.params.get("depth", 1))
    seen, frontier, found = {node}, [node], []
    for hop in range(1, depth + 1):
        frontier = [n for f in frontier for n in GRAPH[f] if n not in seen]
        seen |= set(frontier)
        found += [{"id": n, "label": n.split(":")[0].title(), "hops": hop} for n in dict.fromkeys(frontier)]
    return httpx.Response(200, json={"id": node, "neighbors": found})


def test_neighbourhood_has_nodes_and_the_edges_between_them(
    source: StackSource, http: FakeHttp, description: dict[str, Any]
) -> None:
    """At depth 2 the edge site:s - device:b comes from site:s's own neighbour list."""
    description["graph_url"] = "http://graph.test"
    http.hosts["graph.test"] = graph_api
    status, body = neighbourhood(source, "device:a", depth=2, rel=None, limit=60)
    assert status == 200
    assert {n["id"]: n["hops"] for n in body["nodes"]} == {
        "device:a": 0,
        "site:s": 1,
        "team:x": 1,
        "device:b": 2,
    }
    assert sorted(map(tuple, body["edges"])) == [
        ("device:a", "site:s"),
        ("device:a", "team:x"),
        ("device:b", "site:s"),
    ]


def test_an_absent_node_is_the_graph_apis_404(
    source: StackSource, http: FakeHttp, description: dict[str, Any]
) -> None:
    description["graph_url"] = "http://graph.test"
    http.hosts["graph.test"] = graph_api
    assert neighbourhood(source, "device:zz", depth=1, rel=None, limit=5) == (
        404,
        {"detail": "node device:zz not found"},
    )


def test_no_graph_api_is_a_404_saying_so(source: StackSource) -> None:
    status, body = neighbourhood(source, "device:a", depth=1, rel=None, limit=5)
    assert status == 404 and "no graph API" in body["detail"]


def test_series_passes_parameters_and_refusals_on(
    source: StackSource, http: FakeHttp, description: dict[str, Any]
) -> None:
    """The page's parameters reach the series API as given; its 422 comes back as a 422."""
    description["series_url"] = "http://series.test/"
    seen: list[httpx.QueryParams] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        if "colour" in request.url.params:
            return httpx.Response(422, json={"detail": [{"loc": ["query", "colour"], "msg": "unknown"}]})
        return httpx.Response(200, json={"metric": "temperature", "buckets": []})

    http.hosts["series.test"] = api
    assert series(source, [("metric", "temperature"), ("site", "s1")]) == (
        200,
        {"metric": "temperature", "buckets": []},
    )
    assert dict(seen[0]) == {"metric": "temperature", "site": "s1"}
    status, body = series(source, [("metric", "t"), ("colour", "red")])
    assert status == 422 and body["detail"][0]["loc"] == ["query", "colour"]


def test_a_series_api_that_fails_or_is_down_is_a_502(
    source: StackSource, http: FakeHttp, description: dict[str, Any]
) -> None:
    description["series_url"] = "http://series.test"
    assert series(source, [("metric", "t")])[0] == 502  # nothing listens there
    http.hosts["series.test"] = lambda request: httpx.Response(503, json={"detail": "store busy"})
    status, body = series(source, [("metric", "t")])
    assert status == 502 and "503: store busy" in body["detail"]


def test_alerts_come_from_the_notifier_api(
    source: StackSource, http: FakeHttp, description: dict[str, Any]
) -> None:
    """The page's limit reaches ``/v1/alerts``; no notifier API is a 404 saying so."""
    assert alerts(source, limit=5)[0] == 404
    description["notifier_url"] = "http://notifier.test"
    http.hosts["notifier.test"] = lambda request: httpx.Response(
        200, json={"alerts": [{"rule": "r", "limit": request.url.params["limit"]}]}
    )
    assert alerts(source, limit=5) == (200, {"alerts": [{"rule": "r", "limit": "5"}]})
