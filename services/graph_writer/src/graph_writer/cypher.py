"""The openCypher that every Cypher store runs: the very same text on Neptune and on FalkorDB.

Writes are ``UNWIND $rows AS r … MERGE`` keyed by node ids (``~id``, Neptune's custom vertex id; an indexed
property on FalkorDB) and by the event's own ids on relationships, so running a statement twice changes
nothing. "Latest" properties carry their version (``<name>_v`` epoch ms, ``<name>_eid`` event id) and are
only set by a newer version.

Every value is a parameter. The only text spliced into a query is a label or relationship type, and only
from the fixed sets in :mod:`graph_writer.model`. The dialect traps between the two stores are avoided: no
``datetime()`` (times are ISO strings), no list-valued properties, no ``CALL``, only scalar columns with
aliases in results, no ``id()``. ``~id`` appears only in node patterns (where Neptune reads it as the vertex
id); wherever a node's id is read or compared, the plain ``uid`` property that every node also keeps is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph_writer.model import (
    LABELS,
    NODE_PROPERTIES,
    RELATIONSHIPS,
    CatSighting,
    DevicePlacement,
    DeviceSeen,
    GraphBatch,
    MunicipalityName,
    Order,
    Trade,
    node_id,
)

ID = "`~id`"


def _newer(var: str, name: str, version: str = "r") -> str:
    """True when the row's version is newer than the one stored on ``var`` for ``name`` (or none is)."""
    v, eid = f"{var}.{name}_v", f"{var}.{name}_eid"
    return f"({v} IS NULL OR {v} < {version}.v OR ({v} = {version}.v AND {eid} < {version}.eid))"


def _merge_node(var: str, label: str, id_expr: str, key_prop: str, key_expr: str) -> str:
    return (
        f"MERGE ({var}:{label} {{{ID}: {id_expr}}}) "
        f"ON CREATE SET {var}.uid = {id_expr}, {var}.{key_prop} = {key_expr}"
    )


PLACEMENTS = f"""UNWIND $rows AS r
{_merge_node("d", "Device", "r.device", "device_id", "r.device_id")}
{_merge_node("s", "Site", "r.site", "site_id", "r.site_id")}
WITH d, s, r WHERE r.latest AND {_newer("d", "registered")}
SET d.device_type = r.device_type, d.model = r.model, d.firmware = r.firmware, d.lat = r.lat,
    d.lon = r.lon, d.site_id = r.site_id, d.registered_at = r.at, d.registered_v = r.v,
    d.registered_eid = r.eid
WITH d, s, r
OPTIONAL MATCH (d)-[old:LOCATED_AT]->(o:Site) WHERE o.uid <> r.site
DELETE old
WITH DISTINCT d, s, r
MERGE (d)-[e:LOCATED_AT]->(s)
SET e.since = r.at"""

SEEN = f"""UNWIND $rows AS r
{_merge_node("d", "Device", "r.device", "device_id", "r.device_id")}
WITH d, r WHERE d.seen_v IS NULL OR d.seen_v < r.v
SET d.last_seen = r.at, d.seen_v = r.v"""

SIGHTINGS = f"""UNWIND $rows AS r
{_merge_node("c", "Cat", "r.cat", "cat_id", "r.cat_id")}
{_merge_node("m", "Municipality", "r.municipality", "municipality_code", "r.municipality_code")}
MERGE (c)-[e:SEEN_IN {{sighting_id: r.sighting_id}}]->(m)
ON CREATE SET e.at = r.at, e.status = r.status
WITH c, r WHERE r.latest AND {_newer("c", "seen")}
SET c.status = r.status, c.ear_tipped = r.ear_tipped, c.municipality_code = r.municipality_code,
    c.last_seen = r.at, c.seen_v = r.v, c.seen_eid = r.eid"""

MUNICIPALITY_NAMES = f"""UNWIND $rows AS r
{_merge_node("m", "Municipality", "r.municipality", "municipality_code", "r.municipality_code")}
WITH m, r WHERE {_newer("m", "name")}
SET m.name = r.name, m.name_v = r.v, m.name_eid = r.eid"""

TRADES = f"""UNWIND $rows AS r
UNWIND r.moves AS mv
{_merge_node("p", "Player", "mv.player", "player_id", "mv.player_id")}
{_merge_node("f", "Team", "mv.from", "team", "mv.from_team")}
{_merge_node("t", "Team", "mv.to", "team", "mv.to_team")}
MERGE (p)-[x:TRADED_TO {{trade_id: r.trade_id}}]->(t)
ON CREATE SET x.at = r.at, x.season = r.season
MERGE (p)-[l:LEFT {{trade_id: r.trade_id}}]->(f)
ON CREATE SET l.at = r.at, l.season = r.season
WITH p, r, mv WHERE mv.latest AND {_newer("p", "team")}
SET p.team = mv.to_team, p.name = mv.player_name, p.team_since = r.at, p.team_v = r.v, p.team_eid = r.eid"""

ORDERS = f"""UNWIND $rows AS r
{_merge_node("c", "Customer", "r.customer", "customer_id", "r.customer_id")}
WITH c, r
UNWIND r.lines AS ln
{_merge_node("p", "Product", "ln.product", "product_id", "ln.product_id")}
MERGE (c)-[e:PURCHASED {{order_id: r.order_id, line: ln.line}}]->(p)
ON CREATE SET e.quantity = ln.quantity, e.unit_price = ln.unit_price, e.currency = r.currency,
    e.shop_id = r.shop_id, e.at = r.at"""


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One write statement and the rows it unwinds (the store sends them in chunks)."""

    name: str
    query: str
    rows: list[dict[str, Any]]


def _placement(r: DevicePlacement) -> dict[str, Any]:
    return {
        "device": node_id("device", r.device_id),
        "device_id": r.device_id,
        "site": node_id("site", r.site_id),
        "site_id": r.site_id,
        "device_type": r.device_type,
        "model": r.model,
        "firmware": r.firmware,
        "lat": r.lat,
        "lon": r.lon,
        "at": r.at,
        "latest": r.latest,
        **r.version.params(),
    }


def _seen(r: DeviceSeen) -> dict[str, Any]:
    return {"device": node_id("device", r.device_id), "device_id": r.device_id, "at": r.at, "v": r.version.ms}


def _sighting(r: CatSighting) -> dict[str, Any]:
    return {
        "cat": node_id("cat", r.cat_id),
        "cat_id": r.cat_id,
        "municipality": node_id("municipality", r.municipality_code),
        "municipality_code": r.municipality_code,
        "sighting_id": r.sighting_id,
        "status": r.status,
        "ear_tipped": r.ear_tipped,
        "at": r.at,
        "latest": r.latest,
        **r.version.params(),
    }


def _municipality_name(r: MunicipalityName) -> dict[str, Any]:
    return {
        "municipality": node_id("municipality", r.municipality_code),
        "municipality_code": r.municipality_code,
        "name": r.name,
        **r.version.params(),
    }


def _trade(r: Trade) -> dict[str, Any]:
    moves = [
        {
            "player": node_id("player", m.player_id),
            "player_id": m.player_id,
            "player_name": m.player_name,
            "from": node_id("team", m.from_team),
            "from_team": m.from_team,
            "to": node_id("team", m.to_team),
            "to_team": m.to_team,
            "latest": m.latest,
        }
        for m in r.moves
    ]
    return {"trade_id": r.trade_id, "season": r.season, "at": r.at, "moves": moves, **r.version.params()}


def _order(r: Order) -> dict[str, Any]:
    lines = [
        {
            "line": ln.line,
            "product": node_id("product", ln.product_id),
            "product_id": ln.product_id,
            "quantity": ln.quantity,
            "unit_price": ln.unit_price,
        }
        for ln in r.lines
    ]
    return {
        "order_id": r.order_id,
        "customer": node_id("customer", r.customer_id),
        "customer_id": r.customer_id,
        "shop_id": r.shop_id,
        "currency": r.currency,
        "at": r.at,
        "lines": lines,
    }


def write_statements(batch: GraphBatch) -> list[Statement]:
    """The statements that write ``batch``, in an order where each sees the nodes earlier ones made."""
    statements = [
        Statement(name="placements", query=PLACEMENTS, rows=[_placement(r) for r in batch.placements]),
        Statement(name="seen", query=SEEN, rows=[_seen(r) for r in batch.seen]),
        Statement(name="sightings", query=SIGHTINGS, rows=[_sighting(r) for r in batch.sightings]),
        Statement(
            name="municipality_names",
            query=MUNICIPALITY_NAMES,
            rows=[_municipality_name(r) for r in batch.municipality_names],
        ),
        Statement(name="trades", query=TRADES, rows=[_trade(r) for r in batch.trades]),
        Statement(name="orders", query=ORDERS, rows=[_order(r) for r in batch.orders]),
    ]
    return [s for s in statements if s.rows]


# -- reads -------------------------------------------------------------------------------------------------


def _known_label(label: str) -> str:
    if label not in NODE_PROPERTIES:
        raise ValueError(f"unknown label {label!r}")
    return label


def _known_rel(rel: str) -> str:
    if rel not in RELATIONSHIPS:
        raise ValueError(f"unknown relationship type {rel!r}")
    return rel


def node_query(label: str) -> str:
    """One node by id (``$id``): its ``uid`` as ``id`` and each public property as its own column."""
    columns = ", ".join(f"n.{p} AS {p}" for p in NODE_PROPERTIES[_known_label(label)])
    return f"MATCH (n:{label} {{{ID}: $id}}) RETURN n.uid AS id, {columns} LIMIT 1"


def neighbors_query(label: str, rel: str | None, limit: int) -> str:
    """The distinct ids (``id``) one hop from the ``label`` nodes ``$ids``, over ``rel`` or any type, in
    either direction; the ``limit`` smallest of them (a literal: Neptune takes no expression in LIMIT)."""
    pattern = f"[:{_known_rel(rel)}]" if rel else "[]"
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, not {limit!r}")
    return (
        f"UNWIND $ids AS i MATCH (n:{_known_label(label)} {{{ID}: i}})-{pattern}-(m) "
        f"RETURN DISTINCT m.uid AS id ORDER BY id LIMIT {int(limit)}"
    )


def count_nodes_query(label: str) -> str:
    return f"MATCH (n:{_known_label(label)}) RETURN count(n) AS n"


def count_relationships_query(rel: str) -> str:
    return f"MATCH ()-[e:{_known_rel(rel)}]->() RETURN count(e) AS n"


def index_statements() -> list[str]:
    """FalkorDB only: an index on ``~id`` per label (Neptune indexes ``~id`` by itself)."""
    return [f"CREATE INDEX FOR (n:{label}) ON (n.{ID})" for label in LABELS.values()]
