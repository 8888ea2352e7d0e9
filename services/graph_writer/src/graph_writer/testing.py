"""In-memory fake of :class:`~graph_writer.ports.GraphStore`, with the same semantics as the Cypher stores.

It applies each kind of row the way the statements in :mod:`graph_writer.cypher` do (MERGE by id, version
guards, moving a device's one LOCATED_AT edge); the shared contract tests run against it and FalkorDB, so
the two cannot drift apart. Thread-safe, as the read API and the worker share a store.
"""

from __future__ import annotations

import threading
from typing import Any

from graph_writer import cypher
from graph_writer.adapters.cypher_store import check_neighbors_args
from graph_writer.model import (
    LABELS,
    NODE_PROPERTIES,
    RELATIONSHIPS,
    GraphBatch,
    GraphCounts,
    InvalidNodeId,
    Neighbor,
    Node,
    Version,
    label_of,
    node_id,
)
from shared.errors import PermanentError, StoreUnavailable

EdgeKey = tuple[str, str, str, tuple[tuple[str, Any], ...]]
"""(type, start id, end id, the MERGE's key properties)."""


def _newer(props: dict[str, Any], name: str, version: Version) -> bool:
    stored = props.get(f"{name}_v")
    return (
        stored is None
        or stored < version.ms
        or (stored == version.ms and props[f"{name}_eid"] < version.event_id)
    )


class InMemoryGraphStore:
    """Nodes and edges in dicts; set ``down`` to make every call fail as an outage would."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[EdgeKey, dict[str, Any]] = {}
        self.down = False
        self.writes = 0
        self._lock = threading.RLock()

    def _check_up(self) -> None:
        if self.down:
            raise StoreUnavailable("graph store is down")

    def _merge_node(self, prefix: str, key_prop: str, key: str) -> dict[str, Any]:
        uid = node_id(prefix, key)
        if uid not in self.nodes:
            self.nodes[uid] = {"label": LABELS[prefix], key_prop: key}
        return self.nodes[uid]

    def _merge_edge(self, rel: str, start: str, end: str, **key: Any) -> tuple[dict[str, Any], bool]:
        edge_key = (rel, start, end, tuple(sorted(key.items())))
        created = edge_key not in self.edges
        if created:
            self.edges[edge_key] = dict(key)
        return self.edges[edge_key], created

    # -- writes ------------------------------------------------------------------------------------------

    def write(self, batch: GraphBatch) -> None:
        with self._lock:
            self._check_up()
            self.writes += 1
            try:
                cypher.write_statements(batch)  # the ids the Cypher stores would key on: same refusals
            except InvalidNodeId as exc:
                raise PermanentError(f"batch holds an id the graph cannot key: {exc}") from exc
            self._placements(batch)
            self._seen(batch)
            self._sightings(batch)
            self._municipality_names(batch)
            self._trades(batch)
            self._orders(batch)

    def _placements(self, batch: GraphBatch) -> None:
        for r in batch.placements:
            device = self._merge_node("device", "device_id", r.device_id)
            self._merge_node("site", "site_id", r.site_id)
            if not (r.latest and _newer(device, "registered", r.version)):
                continue
            device.update(
                device_type=r.device_type,
                model=r.model,
                firmware=r.firmware,
                lat=r.lat,
                lon=r.lon,
                site_id=r.site_id,
                registered_at=r.at,
                registered_v=r.version.ms,
                registered_eid=r.version.event_id,
            )
            dev, site = node_id("device", r.device_id), node_id("site", r.site_id)
            for key in [k for k in self.edges if k[0] == "LOCATED_AT" and k[1] == dev and k[2] != site]:
                del self.edges[key]
            edge, _ = self._merge_edge("LOCATED_AT", dev, site)
            edge["since"] = r.at

    def _seen(self, batch: GraphBatch) -> None:
        for r in batch.seen:
            device = self._merge_node("device", "device_id", r.device_id)
            if device.get("seen_v") is None or device["seen_v"] < r.version.ms:
                device.update(last_seen=r.at, seen_v=r.version.ms)

    def _sightings(self, batch: GraphBatch) -> None:
        for r in batch.sightings:
            cat = self._merge_node("cat", "cat_id", r.cat_id)
            self._merge_node("municipality", "municipality_code", r.municipality_code)
            edge, created = self._merge_edge(
                "SEEN_IN",
                node_id("cat", r.cat_id),
                node_id("municipality", r.municipality_code),
                sighting_id=r.sighting_id,
            )
            if created:
                edge.update(at=r.at, status=r.status)
            if r.latest and _newer(cat, "seen", r.version):
                cat.update(
                    status=r.status,
                    ear_tipped=r.ear_tipped,
                    municipality_code=r.municipality_code,
                    last_seen=r.at,
                    seen_v=r.version.ms,
                    seen_eid=r.version.event_id,
                )

    def _municipality_names(self, batch: GraphBatch) -> None:
        for r in batch.municipality_names:
            municipality = self._merge_node("municipality", "municipality_code", r.municipality_code)
            if _newer(municipality, "name", r.version):
                municipality.update(name=r.name, name_v=r.version.ms, name_eid=r.version.event_id)

    def _trades(self, batch: GraphBatch) -> None:
        for trade in batch.trades:
            for m in trade.moves:
                player = self._merge_node("player", "player_id", m.player_id)
                self._merge_node("team", "team", m.from_team)
                self._merge_node("team", "team", m.to_team)
                p = node_id("player", m.player_id)
                for rel, team in (("TRADED_TO", m.to_team), ("LEFT", m.from_team)):
                    edge, created = self._merge_edge(rel, p, node_id("team", team), trade_id=trade.trade_id)
                    if created:
                        edge.update(at=trade.at, season=trade.season)
                if m.latest and _newer(player, "team", trade.version):
                    player.update(
                        team=m.to_team,
                        name=m.player_name,
                        team_since=trade.at,
                        team_v=trade.version.ms,
                        team_eid=trade.version.event_id,
                    )

    def _orders(self, batch: GraphBatch) -> None:
        for order in batch.orders:
            self._merge_node("customer", "customer_id", order.customer_id)
            for ln in order.lines:
                self._merge_node("product", "product_id", ln.product_id)
                edge, created = self._merge_edge(
                    "PURCHASED",
                    node_id("customer", order.customer_id),
                    node_id("product", ln.product_id),
                    order_id=order.order_id,
                    line=ln.line,
                )
                if created:
                    edge.update(
                        quantity=ln.quantity,
                        unit_price=ln.unit_price,
                        currency=order.currency,
                        shop_id=order.shop_id,
                        at=order.at,
                    )

    # -- reads -------------------------------------------------------------------------------------------

    def node(self, node_id: str) -> Node | None:
        label = label_of(node_id)
        with self._lock:
            self._check_up()
            props = self.nodes.get(node_id)
            if props is None:
                return None
            public = {p: props[p] for p in NODE_PROPERTIES[label] if props.get(p) is not None}
        return Node(id=node_id, label=label, properties=public)

    def neighbors(self, node_id: str, *, rel: str | None, depth: int, limit: int) -> list[Neighbor] | None:
        check_neighbors_args(rel, depth, limit)
        label_of(node_id)
        with self._lock:
            self._check_up()
            if node_id not in self.nodes:
                return None
            adjacent: dict[str, set[str]] = {}
            for edge_rel, start, end, _ in self.edges:
                if rel is None or edge_rel == rel:
                    adjacent.setdefault(start, set()).add(end)
                    adjacent.setdefault(end, set()).add(start)
        hops_of = {node_id: 0}
        frontier = [node_id]
        for hops in range(1, depth + 1):
            frontier = sorted({n for f in frontier for n in adjacent.get(f, ())} - hops_of.keys())
            hops_of.update(dict.fromkeys(frontier, hops))
        found = sorted((h, n) for n, h in hops_of.items() if h > 0)
        return [Neighbor(id=n, label=label_of(n), hops=h) for h, n in found[:limit]]

    def counts(self) -> GraphCounts:
        with self._lock:
            self._check_up()
            nodes = {label: 0 for label in NODE_PROPERTIES}
            for props in self.nodes.values():
                nodes[props["label"]] += 1
            rels = {rel: 0 for rel in RELATIONSHIPS}
            for key in self.edges:
                rels[key[0]] += 1
        return GraphCounts(nodes=nodes, relationships=rels)
